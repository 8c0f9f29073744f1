from odoo import api, fields, models


class LogisticsBackendEndpoint(models.Model):
    _inherit = "logistics.backend.endpoint"

    extensiv_tpl = fields.Char(string="Extensiv TPL Key", help="The 3PL's GUID, e.g. {…}.")
    extensiv_user_login_id = fields.Char(string="Extensiv User Login ID")

    @api.model
    def _logistics_credential_fields(self):
        return [*super()._logistics_credential_fields(), "extensiv_tpl", "extensiv_user_login_id"]
