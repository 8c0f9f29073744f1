from odoo import api, fields, models
from odoo.osv import expression

from ..const import ACK_STATES
from ..x12 import segment_lines


class LogisticsX12Interchange(models.Model):
    """One X12 interchange sent or received: its envelope, what it carried, and where its
    acknowledgement stands. Also the ledger of control numbers: an interchange number is
    recorded once per partner and direction, so a duplicate is recognised and never applied
    twice, and a number we sent is never sent again."""

    _name = "logistics.x12.interchange"
    _description = "X12 Interchange"
    _order = "id desc"
    _rec_name = "control_number"

    backend_id = fields.Many2one(
        "logistics.backend", "Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    message_id = fields.Many2one("logistics.message", ondelete="set null", index=True)
    direction = fields.Selection(
        [("outbound", "Sent"), ("inbound", "Received")], required=True, readonly=True
    )
    control_number = fields.Char("ISA13", required=True, readonly=True)
    sender = fields.Char(readonly=True, help="ISA05/ISA06")
    receiver = fields.Char(readonly=True, help="ISA07/ISA08")
    usage = fields.Char("ISA15", readonly=True, help="P production, T test")
    group_control_numbers = fields.Char("GS06", readonly=True)
    functional_ids = fields.Char("GS01", readonly=True)
    set_summary = fields.Char("Transaction Sets", readonly=True, help="e.g. 940 0001, 940 0002")
    file_name = fields.Char(readonly=True)
    prepared_at = fields.Datetime(
        readonly=True, help="When its control numbers were drawn (the ISA/GS date and time)."
    )
    result = fields.Selection(
        [
            ("accepted", "Accepted"),
            ("accepted_with_errors", "Accepted with Errors"),
            ("rejected", "Rejected"),
            ("unreadable", "Unreadable"),
        ],
        readonly=True,
        help="What our validation found in it (received) or made of it (sent).",
    )
    findings = fields.Text(readonly=True, help="Validation findings in plain words.")
    ack_state = fields.Selection(
        ACK_STATES,
        "Acknowledgement",
        compute="_compute_ack_state",
        search="_search_ack_state",
    )
    ack_received = fields.Selection(ACK_STATES, readonly=True, default="pending")
    ack_due_at = fields.Datetime("Acknowledgement Due", readonly=True)
    ack_message_id = fields.Many2one("logistics.message", "997 Message", readonly=True)
    sent_text = fields.Text("Sent File", readonly=True, help="The X12 text we uploaded.")
    segment_view = fields.Text(
        "Segments", compute="_compute_segment_view", help="The raw file, one segment per line."
    )

    def _compute_segment_view(self):
        for interchange in self:
            if interchange.direction == "outbound":
                raw = interchange.sent_text or ""
            else:
                raw = (
                    interchange.message_id.sudo()._raw_payload() if interchange.message_id else b""
                )
            interchange.segment_view = "\n".join(segment_lines(raw)) if raw else False

    def init(self):
        # A control number is used once per partner, direction and sender/receiver pair; a
        # refused interchange does not count (the partner sends the corrected one with the
        # same number). Concurrent workers taking the same interchange collide here.
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS logistics_x12_interchange_number_once "
            "ON logistics_x12_interchange (backend_id, direction, sender, receiver, "
            "control_number) WHERE result IN ('accepted', 'accepted_with_errors')"
        )

    @api.depends("ack_received", "ack_due_at")
    def _compute_ack_state(self):
        now = fields.Datetime.now()
        for interchange in self:
            state = interchange.ack_received or "pending"
            if state == "pending" and interchange.ack_due_at and interchange.ack_due_at < now:
                state = "overdue"
            interchange.ack_state = state

    def _search_ack_state(self, operator, value):
        now = fields.Datetime.now()
        values = value if isinstance(value, list | tuple) else [value]
        parts = []
        for state in values:
            if state == "overdue":
                parts.append([("ack_received", "=", "pending"), ("ack_due_at", "<", now)])
            elif state == "pending":
                parts.append(
                    [
                        ("ack_received", "=", "pending"),
                        "|",
                        ("ack_due_at", "=", False),
                        ("ack_due_at", ">=", now),
                    ]
                )
            else:
                parts.append([("ack_received", "=", state)])
        domain = expression.OR(parts)
        return ["!", *domain] if operator in ("!=", "not in") else domain
