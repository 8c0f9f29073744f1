import logging

from markupsafe import Markup

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import LogisticsError
from odoo.addons.logistics_connector_base.models.logistics_registry import to_utc_naive

from ..const import (
    EXCEPTION_TYPE_BY_REASON,
    FAILED_ATTEMPT,
    FAILED_ATTEMPT_REASONS,
    FINAL_STATES,
    LABEL_MIMETYPES,
    NOTIFY_TEMPLATES,
    STATUS_RANK,
)

_logger = logging.getLogger(__name__)

# Parcels one polling run asks about; a full batch runs the cron again at once.
POLL_BATCH = 200

DELIVERY_STATES = [
    ("label_created", "Label created"),
    ("in_transit", "In transit"),
    ("out_for_delivery", "Out for delivery"),
    ("available_for_pickup", "Available for pickup"),
    (FAILED_ATTEMPT, "Failed delivery attempt"),
    ("exception", "Delivery exception"),
    ("delivered", "Delivered"),
    ("returned", "Returned"),
    ("cancelled", "Cancelled"),
]


class LogisticsCarrierLabel(models.Model):
    """One parcel's label bought from a carrier (or waiting to be): its tracking number, cost,
    label file and delivery state. A picking has one per package, plus its return labels."""

    _name = "logistics.carrier.label"
    _description = "Carrier Label"
    _order = "picking_id, sequence, id"
    _rec_name = "tracking_number"

    picking_id = fields.Many2one("stock.picking", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="picking_id.company_id", store=True, index=True)
    carrier_id = fields.Many2one("delivery.carrier", string="Shipping Method", required=True)
    backend_id = fields.Many2one("logistics.backend", string="Carrier Account", required=True)
    sequence = fields.Integer(default=1)
    package_name = fields.Char(string="Package")
    is_return = fields.Boolean(string="Return Label")
    idempotency_key = fields.Char(
        required=True,
        index=True,
        readonly=True,
        help="The key of the label purchase at the carrier: the same parcel is never bought "
        "twice, even when a validation rolls back after the carrier answered.",
    )
    state = fields.Selection(
        [
            ("pending", "Waiting for the carrier"),
            ("bought", "Bought"),
            ("failed", "Refused"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
    )
    shipment_ref = fields.Char(string="Carrier Shipment", readonly=True)
    tracking_number = fields.Char(readonly=True, index=True)
    tracker_ref = fields.Char(string="Carrier Tracker", readonly=True)
    master_tracking_number = fields.Char(
        readonly=True,
        help="The first parcel's tracking number, which carriers that have one use for every "
        "parcel of a multi-parcel shipment.",
    )
    tracking_url = fields.Char(readonly=True)
    service = fields.Char(readonly=True)
    cost = fields.Monetary(readonly=True, currency_field="cost_currency_id")
    cost_currency_id = fields.Many2one("res.currency", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="Label File", readonly=True)
    delivery_state = fields.Selection(DELIVERY_STATES, readonly=True)
    delivery_state_at = fields.Datetime(readonly=True)
    signed_by = fields.Char(readonly=True, help="Proof of delivery: who signed for the parcel.")
    last_polled_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    event_ids = fields.One2many("logistics.carrier.tracking.event", "label_id", readonly=True)
    message_id = fields.Many2one(
        "logistics.message", compute="_compute_message_id", string="Logistics Message"
    )

    _sql_constraints = [
        ("key_uniq", "unique(backend_id, idempotency_key)", "One label per purchase key.")
    ]

    def _compute_message_id(self):
        messages = self.env["logistics.message"].sudo()
        for label in self:
            label.message_id = messages.search(
                [
                    ("backend_id", "=", label.backend_id.id),
                    ("direction", "=", "outbound"),
                    ("idempotency_key", "=", label.idempotency_key),
                ],
                limit=1,
            )

    def action_open_message(self):
        self.ensure_one()
        return self.message_id.get_formview_action() if self.message_id else False

    # ------------------------------------------------------------------------------------------
    # Applying a label purchase (while the user waits, or later from the job queue)
    # ------------------------------------------------------------------------------------------
    @api.model
    def _for_purchase(self, carrier, picking, key, package_name=None, sequence=1, is_return=False):
        """The label of one purchase key, created pending when new."""
        label = self.sudo().search(
            [("backend_id", "=", carrier.logistics_backend_id.id), ("idempotency_key", "=", key)],
            limit=1,
        )
        if not label:
            label = self.sudo().create(
                {
                    "picking_id": picking.id,
                    "carrier_id": carrier.id,
                    "backend_id": carrier.logistics_backend_id.id,
                    "idempotency_key": key,
                    "package_name": package_name,
                    "sequence": sequence,
                    "is_return": is_return,
                }
            )
        return label

    def _apply_purchase(self, answer):
        """Record what the carrier sold: tracking number, cost, label file (named as Odoo names
        carrier labels, posted on the picking)."""
        self.ensure_one()
        if self.state == "bought" and self.tracking_number == answer.get("tracking_number"):
            return self
        carrier, picking = self.carrier_id, self.picking_id
        label_format = (answer.get("label_format") or "PDF").upper()
        prefix = (
            carrier.get_return_label_prefix()
            if self.is_return
            else carrier._get_delivery_label_prefix()
        )
        tracking = answer.get("tracking_number")
        attachment = self.env["ir.attachment"]
        if answer.get("label_base64"):
            attachment = attachment.sudo().create(
                {
                    "name": f"{prefix}-{tracking}.{label_format.lower()}",
                    "datas": answer["label_base64"],
                    "mimetype": LABEL_MIMETYPES.get(label_format, "application/octet-stream"),
                    "res_model": "stock.picking",
                    "res_id": picking.id,
                }
            )
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", answer.get("currency") or "USD")], limit=1)
        )
        self.write(
            {
                "state": "bought",
                "error": False,
                "shipment_ref": answer.get("shipment_id"),
                "tracking_number": tracking,
                "tracker_ref": answer.get("tracker_id"),
                "master_tracking_number": answer.get("master_tracking_number"),
                "tracking_url": answer.get("public_url"),
                "service": " ".join(filter(None, [answer.get("carrier"), answer.get("service")])),
                "cost": answer.get("cost") or 0.0,
                "cost_currency_id": currency.id or picking.company_id.currency_id.id,
                "attachment_id": attachment.id,
                "delivery_state": self.delivery_state or "label_created",
                "delivery_state_at": self.delivery_state_at or fields.Datetime.now(),
            }
        )
        if not self.is_return:
            picking._logistics_update_delivery_state()
        what = self.env._("Return label") if self.is_return else self.env._("Label")
        picking.message_post(
            body=Markup("%s <b>%s</b> (%s)")
            % (
                self.env._("%(what)s bought from %(carrier)s:", what=what, carrier=carrier.name),
                tracking,
                self.service,
            ),
            attachment_ids=attachment.ids,
        )
        return self

    def _cost_in(self, currency, company, date):
        return sum(
            label.cost_currency_id._convert(label.cost, currency, company, date)
            if label.cost_currency_id
            else label.cost
            for label in self
        )

    # ------------------------------------------------------------------------------------------
    # Tracking
    # ------------------------------------------------------------------------------------------
    def _apply_tracking_event(self, message, document):
        """Record one carrier scan: every event once in the history, the parcel's state moved
        only forward in time and never out of a final state, the picking's state from its
        parcels, customers told on the states their shipping method chose, and delivery
        problems given to customer service as exceptions."""
        self.ensure_one()
        events = self.env["logistics.carrier.tracking.event"].sudo()
        key = document.get("event_id") or (
            f"{document['status']}:{document['occurred_at']}:{document.get('reason') or ''}"
        )
        if events.search_count([("label_id", "=", self.id), ("event_key", "=", key)], limit=1):
            return False
        status = document["status"]
        if status == "exception" and (document.get("reason") or "") in FAILED_ATTEMPT_REASONS:
            status = FAILED_ATTEMPT
        occurred_at = to_utc_naive(document["occurred_at"])
        moves = self._moves_to(status, occurred_at)
        location = document.get("location") or {}
        events.create(
            {
                "label_id": self.id,
                "event_key": key,
                "message_id": message.id,
                "status": status,
                "partner_status": document.get("partner_status"),
                "reason": document.get("reason"),
                "description": document.get("description"),
                "occurred_at": occurred_at,
                "location": ", ".join(
                    filter(
                        None, [location.get("city"), location.get("state"), location.get("country")]
                    )
                ),
                "applied": moves,
            }
        )
        if not moves:
            return False
        values = {"delivery_state": status, "delivery_state_at": occurred_at}
        if document.get("signed_by"):
            values["signed_by"] = document["signed_by"]
        self.write(values)
        self.picking_id._logistics_update_delivery_state()
        self._notify_customer(status)
        if status in ("exception", FAILED_ATTEMPT):
            self._raise_delivery_exception(message, document, status)
        return True

    def _moves_to(self, status, occurred_at):
        """Whether an event moves the parcel: never out of a final state; otherwise the newest
        event wins (a parcel may go from 'failed attempt' back to 'out for delivery'), and at
        the same moment the further state."""
        if self.delivery_state in FINAL_STATES:
            return False
        if not self.delivery_state_at or status in FINAL_STATES:
            return True
        if occurred_at != self.delivery_state_at:
            return occurred_at > self.delivery_state_at
        return STATUS_RANK.get(status, 0) > STATUS_RANK.get(self.delivery_state, 0)

    def _notify_customer(self, status):
        """Tell the customer, with the shipping method's (editable) template for the state."""
        if self.is_return or status not in NOTIFY_TEMPLATES:
            return
        if not self.carrier_id[f"logistics_notify_{status}"]:
            return
        template = self.env.ref(NOTIFY_TEMPLATES[status], raise_if_not_found=False)
        customer = self.picking_id.partner_id
        if template and customer.email:
            self.picking_id.message_post_with_source(
                template, subtype_xmlid="mail.mt_comment", partner_ids=customer.ids
            )

    def _raise_delivery_exception(self, message, document, status):
        reason = document.get("reason") or ""
        exception_type = (
            "failed_delivery"
            if status == FAILED_ATTEMPT
            else EXCEPTION_TYPE_BY_REASON.get(reason, "failed_delivery")
        )
        picking = self.picking_id
        self.env["logistics.exception"].raise_exception(
            exception_type,
            self.env._(
                "Parcel %(tracking)s of %(picking)s: %(what)s",
                tracking=self.tracking_number,
                picking=picking.name,
                what=document.get("description") or reason or status,
            ),
            self.env._(
                "The carrier reported: %(what)s (%(reason)s). Contact the customer %(customer)s "
                "or the carrier, then resolve this exception.",
                what=document.get("description") or status,
                reason=reason or document.get("partner_status") or "-",
                customer=picking.partner_id.display_name,
            ),
            # Not tied to the message: a message that went through closes its own exceptions,
            # this one waits for a person.
            backend=self.backend_id,
            record=picking,
            correlation_id=picking._logistics_correlation(),
            dedup_key=f"delivery_problem:{self.id}:{reason or status}",
        )


class LogisticsCarrierTrackingEvent(models.Model):
    """One scan of a parcel as the carrier reported it, kept once, in the order it happened."""

    _name = "logistics.carrier.tracking.event"
    _description = "Parcel Tracking Event"
    _order = "occurred_at desc, id desc"

    label_id = fields.Many2one(
        "logistics.carrier.label", required=True, index=True, ondelete="cascade"
    )
    picking_id = fields.Many2one(related="label_id.picking_id", store=True, index=True)
    company_id = fields.Many2one(related="label_id.company_id", store=True)
    tracking_number = fields.Char(related="label_id.tracking_number")
    event_key = fields.Char(required=True, help="The carrier's id of the event.")
    message_id = fields.Many2one("logistics.message", ondelete="set null")
    status = fields.Selection(DELIVERY_STATES, required=True)
    partner_status = fields.Char(string="Carrier Status")
    reason = fields.Char()
    description = fields.Char()
    location = fields.Char()
    occurred_at = fields.Datetime(required=True)
    applied = fields.Boolean(
        help="Whether this event moved the parcel. A late event (older than the parcel's "
        "state, or after a final state) is kept in the history only."
    )

    _sql_constraints = [
        ("event_uniq", "unique(label_id, event_key)", "Each carrier event is kept once.")
    ]


class LogisticsCarrierLabelPolling(models.Model):
    _inherit = "logistics.carrier.label"

    @api.model
    def _cron_poll_tracking(self, limit=POLL_BATCH):
        """Ask the carriers of shipping methods without webhooks about parcels still moving.
        Each answer is stored as an inbound message, like a webhook, and applied the same way;
        a parcel in a final state is never asked about again."""
        labels = self.sudo().search(
            [
                ("state", "=", "bought"),
                ("is_return", "=", False),
                ("tracker_ref", "!=", False),
                ("delivery_state", "not in", FINAL_STATES),
                ("carrier_id.logistics_tracking", "=", "poll"),
            ],
            order="last_polled_at asc nulls first, id",
            limit=limit,
        )
        messages = self.env["logistics.message"]
        closed = set()
        for label in labels:
            backend = label.backend_id
            if backend.id in closed or backend._breaker_wait_seconds():
                closed.add(backend.id)  # the carrier is down: ask again next run
                continue
            adapter = backend._get_adapter()
            try:
                raw, event_id = adapter._fetch_tracker(backend, label.tracker_ref)
            except LogisticsError as error:
                label.write({"last_polled_at": fields.Datetime.now(), "error": error.message})
                continue
            messages._create_inbound(backend, "tracking_event", raw, event_id=event_id)
            label.write({"last_polled_at": fields.Datetime.now(), "error": False})
        self.env["ir.cron"]._notify_progress(done=len(labels), remaining=int(len(labels) >= limit))
        return labels
