from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import LogisticsError
from odoo.exceptions import UserError


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

    def action_logistics_pull_inventory(self):
        """Sync inventory now (button); the reconciliation runs in the partner's jobs."""
        self.check_access("write")
        for backend in self:
            adapter = backend._get_adapter()
            if not hasattr(adapter, "_pull_inventory"):
                raise UserError(
                    self.env._(
                        "%(partner)s cannot be asked for its inventory: it sends it by itself.",
                        partner=backend.name,
                    )
                )
            adapter._pull_inventory(backend)
        return True

    @api.model
    def _cron_logistics_pull_inventory(self):
        """Pull the inventory of every partner whose inbound inventory flow is a batch flow
        that is due; one partner's failure opens an exception and never stops the others."""
        due = (
            self.env["logistics.backend.flow"]
            .sudo()
            .search(
                [
                    ("flow", "=", "inventory_snapshot"),
                    ("direction", "=", "inbound"),
                    ("mode", "=", "batch"),
                ]
            )
        )
        now = fields.Datetime.now()
        for flow in due.filtered(lambda f: not f.last_run_at or f.next_run_at <= now):
            backend = flow.backend_id
            adapter = backend._get_adapter()
            if not hasattr(adapter, "_pull_inventory"):
                continue
            try:
                with self.env.cr.savepoint():
                    adapter._pull_inventory(backend)
                    flow.last_run_at = now
            except LogisticsError as error:
                self.env["logistics.exception"].raise_exception(
                    "partner_down" if error.error_class == "transient" else "configuration_error",
                    self.env._("%(partner)s: the inventory sync failed", partner=backend.name),
                    self.env._(
                        "%(error)s\nThe next run tries again.",
                        error=backend._masked_text(error.message),
                    ),
                    backend=backend,
                )
        return True

    @api.model
    def _logistics_transport_kind(self, adapter):
        if adapter in ("shipbob", "extensiv"):
            return "rest"
        return super()._logistics_transport_kind(adapter)
