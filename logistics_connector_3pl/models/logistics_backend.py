from odoo import api, fields, models


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("shipbob", "ShipBob-style REST + webhooks")],
        ondelete={"shipbob": "set default"},
    )
    shipbob_channel_id = fields.Char(
        string="ShipBob Channel ID",
        help="Sent as shipbob_channel_id on every creation (orders, receiving orders, returns). "
        "Empty: the first channel the token sees is used (GET /channel); Test connection lists "
        "them.",
    )
    default_service_level = fields.Char(
        help="Shipping method sent for transfers without a carrier (e.g. Standard). Transfers "
        "with a carrier need a Carrier Service mapping instead.",
    )
    routing_rule_ids = fields.One2many("logistics.routing.rule", "backend_id")

    @api.model
    def _logistics_transport_kind(self, adapter):
        return "rest" if adapter == "shipbob" else super()._logistics_transport_kind(adapter)
