import logging
from datetime import timedelta

from odoo import api, fields, models

from ..const import FLOW_SELECTION
from ..lib.errors import LogisticsError

_logger = logging.getLogger(__name__)


class LogisticsBackendFlow(models.Model):
    """How one flow of one partner runs: in real time (a job per event) or in batch (pending
    messages are sent together on the flow's own schedule by the batch cron)."""

    _name = "logistics.backend.flow"
    _description = "Logistics Partner Flow"
    _inherit = ["logistics.audited.mixin"]
    _order = "backend_id, flow"
    _logistics_settings_fields = (
        "backend_id",
        "flow",
        "direction",
        "mode",
        "ack_expected_minutes",
        "active",
    )

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    flow = fields.Selection(FLOW_SELECTION, required=True)
    direction = fields.Selection(
        [("outbound", "Outbound"), ("inbound", "Inbound")], required=True, default="outbound"
    )
    mode = fields.Selection(
        [("realtime", "Real time"), ("batch", "Batch")],
        required=True,
        default="realtime",
        help="Real time: each event is queued at once. Batch: events wait as pending messages "
        "and are queued together at every run of the schedule.",
    )
    interval_minutes = fields.Integer(
        string="Every (minutes)", default=60, help="Schedule of a batch flow."
    )
    ack_expected_minutes = fields.Integer(
        string="Acknowledgement within (min)",
        help="Outbound: the partner must acknowledge each message within this delay, or an "
        "'acknowledgement overdue' exception is opened. 0 = no acknowledgement expected.",
    )
    active = fields.Boolean(default=True)
    last_run_at = fields.Datetime(readonly=True)
    next_run_at = fields.Datetime(compute="_compute_next_run_at")

    _sql_constraints = [
        (
            "flow_uniq",
            "unique(backend_id, flow, direction)",
            "A partner has one setting per flow and direction.",
        )
    ]

    @api.depends("last_run_at", "interval_minutes", "mode")
    def _compute_next_run_at(self):
        for flow in self:
            if flow.mode != "batch":
                flow.next_run_at = False
            else:
                flow.next_run_at = (flow.last_run_at or fields.Datetime.now()) + timedelta(
                    minutes=max(flow.interval_minutes, 1)
                )

    @api.model
    def _cron_run_batch_flows(self):
        """Queue the pending messages of every batch flow whose time has come."""
        now = fields.Datetime.now()
        due = (
            self.sudo()
            .search([("mode", "=", "batch")])
            .filtered(lambda f: not f.last_run_at or f.next_run_at <= now)
        )
        messages = self.env["logistics.message"].sudo()
        for flow in due:
            try:
                # One partner's failure (even a bug) never stops the other partners' runs.
                with self.env.cr.savepoint():
                    if flow.direction == "inbound":
                        flow._poll_files()
                    pending = messages.search(
                        [
                            ("backend_id", "=", flow.backend_id.id),
                            ("flow", "=", flow.flow),
                            ("direction", "=", flow.direction),
                            ("state", "=", "pending"),
                        ]
                    )
                    pending._enqueue()
                    flow.last_run_at = now
            except Exception as error:
                _logger.exception("Batch run of %s %s failed", flow.backend_id.name, flow.flow)
                self.env["logistics.exception"].raise_exception(
                    "other",
                    self.env._(
                        "%(partner)s: the %(flow)s batch run failed",
                        partner=flow.backend_id.name,
                        flow=flow.flow,
                    ),
                    self.env._(
                        "Unexpected error (%(kind)s): %(error)s. The other partners' runs went "
                        "on; this one is tried again at its next run. Report it if it repeats.",
                        kind=type(error).__name__,
                        error=flow.backend_id._masked_text(str(error))[:300],
                    ),
                    backend=flow.backend_id,
                )
        return due

    def _poll_files(self):
        """An inbound batch flow of a partner reached by SFTP fetches its files."""
        backend = self.backend_id
        try:
            if not backend._get_endpoint().get("sftp_host"):
                return None
            return backend._sftp_poll(flow=self.flow)
        except LogisticsError as error:
            self.env["logistics.exception"].raise_exception(
                "partner_down" if error.error_class == "transient" else "configuration_error",
                self.env._(
                    "%(partner)s: fetching %(flow)s files failed",
                    partner=backend.name,
                    flow=self.flow,
                ),
                self.env._(
                    "%(error)s\nNothing was lost: the files stay on the server and the next run "
                    "fetches them.",
                    error=error.message,
                ),
                backend=backend,
            )
            return None
