from markupsafe import Markup

from odoo import api, fields, models

from ..const import DELIVERY_TYPE, FAILED_ATTEMPT, FINAL_STATES, STATUS_RANK


class StockPicking(models.Model):
    _inherit = "stock.picking"

    logistics_tracking_status = fields.Selection(
        selection_add=[(FAILED_ATTEMPT, "Failed delivery attempt")],
        ondelete={FAILED_ATTEMPT: "set null"},
    )
    logistics_label_ids = fields.One2many(
        "logistics.carrier.label", "picking_id", string="Carrier Labels", readonly=True
    )
    logistics_tracking_event_ids = fields.One2many(
        "logistics.carrier.tracking.event", "picking_id", string="Tracking History", readonly=True
    )
    logistics_label_revision = fields.Integer(
        copy=False,
        readonly=True,
        help="Raised when the labels are cancelled: the next labels are new purchases.",
    )
    logistics_labels_pending = fields.Boolean(
        compute="_compute_logistics_labels_pending",
        help="A label was asked for and follows as soon as the carrier answers.",
    )

    @api.depends("logistics_label_ids.state")
    def _compute_logistics_labels_pending(self):
        for picking in self:
            picking.logistics_labels_pending = any(
                label.state == "pending" for label in picking.logistics_label_ids
            )

    def send_to_shipper(self):
        """Odoo's own flow when the labels are there; when the carrier is slow or down, the
        picking validates all the same and its labels follow from the job queue."""
        self.ensure_one()
        if self.carrier_id.delivery_type != DELIVERY_TYPE:
            return super().send_to_shipper()
        if not self.logistics_label_ids.filtered(lambda lab: lab.state != "cancelled"):
            method, reason = self.carrier_id._logistics_reroute(self)
            if method != self.carrier_id:
                self.message_post(
                    body=self.env._(
                        "Shipped with %(method)s instead of %(planned)s (fallback rule: "
                        "%(reason)s).",
                        method=method.name,
                        planned=self.carrier_id.name,
                        reason=reason,
                    )
                )
                self.carrier_id = method
        result = self.carrier_id.send_shipping(self)[0]
        if result["tracking_number"]:
            given = dict(self.env.context.get("logistics_shipping_results") or {})
            given[self.id] = result
            return super(
                StockPicking, self.with_context(logistics_shipping_results=given)
            ).send_to_shipper()
        self.message_post(
            body=self.env._(
                "The label is bought from %(carrier)s by the job queue: the delivery is "
                "validated and the label follows as soon as the carrier answers.",
                carrier=self.carrier_id.name,
            )
        )
        return None

    def action_logistics_retry_labels(self):
        """Ask the carrier again for the labels it refused (after the address or the weight
        was corrected): new purchases for those packages; bought labels stay as they are."""
        for picking in self:
            failed = picking.logistics_label_ids.filtered(lambda lab: lab.state == "failed")
            if not failed:
                continue
            failed.write({"state": "cancelled"})
            picking.logistics_label_revision += 1
            result = picking.carrier_id.send_shipping(picking)[0]
            if result["tracking_number"]:
                picking.carrier_tracking_ref = result["tracking_number"]
                picking._add_delivery_cost_to_so()
        return True

    def _logistics_labels_arrived(self, labels):
        """Labels bought from the job queue after the picking was validated: their tracking
        numbers join Odoo's tracking reference, the real cost the picking and, with the
        'real cost' invoicing policy, the sale order."""
        self.ensure_one()
        carrier = self.carrier_id
        numbers = [n for n in (self.carrier_tracking_ref or "").split(",") if n]
        for label in labels.filtered(lambda lab: not lab.is_return):
            if label.tracking_number not in numbers:
                numbers.append(label.tracking_number)
        bought = self.logistics_label_ids.filtered(
            lambda lab: lab.state == "bought" and not lab.is_return
        )
        order = self.sale_id
        currency = order.currency_id or self.company_id.currency_id
        cost = bought._cost_in(self.company_id.currency_id, self.company_id, fields.Date.today())
        if carrier.free_over and order:
            amount = order._compute_amount_total_without_delivery()
            if carrier._compute_currency(order, amount, "pricelist_to_company") >= carrier.amount:
                cost = 0.0
        self.write(
            {
                "carrier_tracking_ref": ",".join(numbers),
                "carrier_price": carrier.with_context(order=order)._apply_margins(cost),
            }
        )
        self.message_post(
            body=self.env._(
                "Shipment sent to carrier %(carrier_name)s for shipping with tracking number "
                "%(ref)s",
                carrier_name=carrier.name,
                ref=self.carrier_tracking_ref,
            )
            + Markup("<br/>")
            + self.env._(
                "Cost: %(price).2f %(currency)s", price=self.carrier_price, currency=currency.name
            )
        )
        if not self.logistics_labels_pending:
            self._add_delivery_cost_to_so()

    def _logistics_update_delivery_state(self):
        """The picking's delivery state from its parcels: a problem on any parcel shows first,
        else the parcel furthest behind."""
        for picking in self:
            labels = picking.logistics_label_ids.filtered(
                lambda lab: lab.state == "bought" and not lab.is_return and lab.delivery_state
            )
            if not labels:
                continue
            problems = labels.filtered(
                lambda lab: lab.delivery_state in ("exception", FAILED_ATTEMPT)
            )
            if problems:
                shown = problems.sorted("delivery_state_at")[-1]
            elif all(label.delivery_state in FINAL_STATES for label in labels):
                shown = labels.sorted("delivery_state_at")[-1]
            else:
                shown = min(labels, key=lambda lab: STATUS_RANK.get(lab.delivery_state, 0))
            picking.write(
                {
                    "logistics_tracking_status": shown.delivery_state,
                    "logistics_tracking_date": shown.delivery_state_at,
                    "logistics_tracking_ref": picking.logistics_tracking_ref
                    or labels[:1].tracking_number,
                }
            )
