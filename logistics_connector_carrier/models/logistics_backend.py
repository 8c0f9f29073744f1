from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("carrier_rest", "Carrier REST"), ("carrier_soap", "Carrier SOAP")],
        ondelete={"carrier_rest": "set default", "carrier_soap": "set default"},
    )
