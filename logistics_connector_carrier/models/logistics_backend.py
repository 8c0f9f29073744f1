from odoo import fields, models

from ..const import CARRIER_FLOWS


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("easypost", "EasyPost (REST)")], ondelete={"easypost": "set default"}
    )
    carrier_ids = fields.One2many(
        "delivery.carrier", "logistics_backend_id", string="Shipping Methods"
    )


class LogisticsBackendFlow(models.Model):
    _inherit = "logistics.backend.flow"

    flow = fields.Selection(
        selection_add=CARRIER_FLOWS, ondelete={code: "cascade" for code, _label in CARRIER_FLOWS}
    )
