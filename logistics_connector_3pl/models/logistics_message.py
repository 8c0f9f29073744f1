from odoo import models

from ..models.stock_picking import RELEASE_FLOWS


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    def _logistics_released_picking(self):
        """The transfer an outbound release, notice or return authorization is about."""
        if self.direction != "outbound" or self.flow not in RELEASE_FLOWS:
            return None
        record = self._get_document()
        return record if record and record._name == "stock.picking" else None

    def _mark_done(self, *args, **kwargs):
        result = super()._mark_done(*args, **kwargs)
        picking = self._logistics_released_picking()
        if picking:
            action = (self.canonical_payload or {}).get("action") or "create"
            if action == "cancel":
                picking._logistics_set_status("cancelled", force=True)
            elif action == "create" and picking.logistics_status in ("released", "release_blocked"):
                # The 3PL took it (ShipBob answers 201 with the order in Processing).
                picking._logistics_set_status("acknowledged", force=True)
        return result

    def _fail(self, error, *args, **kwargs):
        result = super()._fail(error, *args, **kwargs)
        picking = self._logistics_released_picking()
        action = (self.canonical_payload or {}).get("action") or "create"
        if picking and action == "create" and picking.logistics_status == "released":
            picking._logistics_set_status(
                "release_blocked", reason=(self.error_message or "")[:200], force=True
            )
        elif picking and action == "cancel":
            # The order stays at the 3PL: its own reports move the status on from here.
            picking.logistics_status_reason = (self.error_message or "")[:200]
        return result
