from odoo import fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("3pl_rest", "3PL REST with webhooks"), ("3pl_sftp", "3PL SFTP flat files")],
        ondelete={"3pl_rest": "set default", "3pl_sftp": "set default"},
    )
