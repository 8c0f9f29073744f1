from odoo import api, models
from odoo.addons.logistics_connector_base.models.logistics_registry import to_utc_naive

from ..lib.status import TROUBLE


class LogisticsApplier(models.AbstractModel):
    """The base's appliers, plus what they mean for a transfer's 3PL status."""

    _inherit = "logistics.applier"

    def _quiet(self):
        # Validating and splitting moves here is no change to tell the 3PL about.
        return self.with_context(logistics_no_propagate=True)

    @api.model
    def _apply_ack(self, message, document):
        """Acknowledgements may carry the warehouse's progress on an order (acknowledged,
        picked, packed, on hold or in exception with a reason, cancelled): shown on the
        transfer, never moved back by a late or repeated event."""
        original = super()._apply_ack(message, document)
        step = (document.get("extensions") or {}).get("warehouse_status")
        picking = self._picking_of(original)
        if not step or not picking:
            return original
        reason = (document.get("extensions") or {}).get("reason")
        moment = to_utc_naive(document["received_at"]) if document.get("received_at") else None
        if not picking._logistics_set_status(step, reason=reason, moment=moment):
            return original
        backend = message.backend_id
        if step in TROUBLE:
            self._raise_for_person(
                "stockout" if "stock" in (reason or "").lower() else "other",
                self.env._(
                    "%(picking)s is %(status)s at %(partner)s",
                    picking=picking.name,
                    status=self.env._("on hold")
                    if step == "on_hold"
                    else self.env._("in exception"),
                    partner=backend.name,
                ),
                self.env._(
                    "%(partner)s stopped working on %(picking)s: %(reason)s\nFix what it asks "
                    "(in Odoo or in the partner's portal); the status changes by itself when the "
                    "partner goes on.",
                    partner=backend.name,
                    picking=picking.name,
                    reason=reason or self.env._("no reason given"),
                ),
                message,
                picking,
            )
        elif step == "cancelled" and picking.state not in ("cancel", "done"):
            self._raise_for_person(
                "partner_rejected",
                self.env._(
                    "%(partner)s cancelled %(picking)s", partner=backend.name, picking=picking.name
                ),
                self.env._(
                    "%(partner)s cancelled the order of %(picking)s (%(reason)s): it will not "
                    "ship. Cancel the transfer; if it must ship after all, make a new delivery "
                    "order for it (a new order at the partner) once the cause is fixed.",
                    partner=backend.name,
                    picking=picking.name,
                    reason=reason or self.env._("no reason given"),
                )
                if picking.picking_type_code == "outgoing"
                else self.env._(
                    "%(partner)s cancelled the notice of %(picking)s (%(reason)s): it will not "
                    "receive against it. Ask the partner why; cancel the receipt, or make a new "
                    "one for the goods that still come.",
                    partner=backend.name,
                    picking=picking.name,
                    reason=reason or self.env._("no reason given"),
                ),
                message,
                picking,
            )
        return original

    @api.model
    def _apply_shipment(self, message, document):
        target = super(LogisticsApplier, self._quiet())._apply_shipment(message, document)
        if target and target.state == "done":
            # The transfer's "shipped" went with its validation's write (_shipped_values); the
            # rest, a backorder, is the 3PL's and partially shipped: one write each.
            moment = to_utc_naive(document["shipped_at"])
            rest = self._picking_family(target).filtered(
                lambda p: p.state not in ("done", "cancel")
            )
            for picking in rest:
                picking.write(
                    {
                        "logistics_backend_id": message.backend_id.id,
                        **picking._logistics_status_values("partially_shipped", moment=moment),
                    }
                )
        return target

    @api.model
    def _shipped_values(self, message, picking, document):
        moment = to_utc_naive(document["shipped_at"])
        return {
            **super()._shipped_values(message, picking, document),
            **picking._logistics_status_values("shipped", moment=moment),
        }

    @api.model
    def _apply_tracking_event(self, message, document):
        picking = super()._apply_tracking_event(message, document)
        if document["status"] == "delivered" and picking.logistics_status == "shipped":
            picking._logistics_set_status("delivered", moment=to_utc_naive(document["occurred_at"]))
        return picking

    @api.model
    def _apply_receipt(self, message, document):
        target = super(LogisticsApplier, self._quiet())._apply_receipt(message, document)
        if target and target.state == "done":
            target._logistics_set_status("received", moment=to_utc_naive(document["received_at"]))
        return target

    @api.model
    def _apply_return(self, message, document):
        target = super(LogisticsApplier, self._quiet())._apply_return(message, document)
        if target and target.state == "done":
            target._logistics_set_status("received")
        return target
