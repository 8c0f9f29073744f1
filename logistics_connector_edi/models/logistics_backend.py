from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("x12_sftp", "X12 over SFTP")],
        ondelete={"x12_sftp": "set default"},
    )
