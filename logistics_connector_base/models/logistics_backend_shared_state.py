"""Circuit breaker and rate limit of a partner: their settings and their state, shared by
every worker."""

import logging
from datetime import timedelta

from odoo import api, fields, models

from ..const import HEALTH_STALENESS, PROBE_LEASE
from .db_tools import autonomous_cursor

_logger = logging.getLogger(__name__)
# Per worker thread: a requests session is not meant to be shared between threads.

SHARED_STATE_FIELDS = [
    "rate_next_slot_at",
    "breaker_state",
    "breaker_failures",
    "breaker_opened_at",
    "last_success_at",
    "last_failure_at",
    "last_error",
]


class LogisticsBackend(models.Model):
    """Breaker and rate-limit state: one row per partner, changed by atomic SQL in autonomous
    transactions, so every worker sees a change at once."""

    _inherit = "logistics.backend"

    # Circuit breaker (state shared by all workers through the database)
    breaker_threshold = fields.Integer(
        default=5,
        help="Consecutive transient failures that open the circuit breaker.",
    )
    breaker_cooldown = fields.Integer(
        string="Breaker Cool-down (s)",
        default=300,
        help="How long the breaker stays open before one probe is let through.",
    )
    breaker_state = fields.Selection(
        [("closed", "Closed"), ("open", "Open"), ("half_open", "Half-open")],
        default="closed",
        readonly=True,
        copy=False,
    )
    breaker_failures = fields.Integer(
        readonly=True, copy=False, default=0, help="Consecutive transient failures so far."
    )
    breaker_opened_at = fields.Datetime(readonly=True, copy=False)
    # Throughput
    rate_limit = fields.Float(
        string="Request Rate Limit (/s)",
        help="Most messages per second sent to this partner, all workers together; 0 = no limit.",
    )
    rate_next_slot_at = fields.Datetime(readonly=True, copy=False)

    # ------------------------------------------------------------------------------------------
    # Shared partner state (circuit breaker, rate-limit slots): one row per partner, changed by
    # atomic SQL in autonomous transactions, so every worker sees a change at once, whatever
    # becomes of the job that made it.
    # ------------------------------------------------------------------------------------------
    def _execute_shared_state(self, query, params):
        self.ensure_one()
        with autonomous_cursor(self.env) as cr:
            cr.execute(query, params)
            row = cr.fetchone()
        self.invalidate_recordset(SHARED_STATE_FIELDS)
        return row

    def _breaker_wait_seconds(self):
        """0 when a request may go out now, else the seconds to postpone it. Closed: go.
        Open: wait for the cool-down. After it, one worker wins the half-open probe (a lease of
        PROBE_LEASE seconds) while the others keep waiting."""
        if self.breaker_state == "closed":
            # As this job's transaction saw it a moment ago: one request more to a partner
            # that just went down is harmless, a side transaction per message is not.
            return 0
        state, opened_at, cooldown, won = self._execute_shared_state(
            """
            WITH claim AS (
                UPDATE logistics_backend
                   SET breaker_state = 'half_open', breaker_opened_at = now() at time zone 'UTC'
                 WHERE id = %s
                   AND ((breaker_state = 'open' AND breaker_opened_at
                            + make_interval(secs => breaker_cooldown) <= now() at time zone 'UTC')
                     OR (breaker_state = 'half_open' AND breaker_opened_at
                            + make_interval(secs => %s) <= now() at time zone 'UTC'))
             RETURNING id
            )
            SELECT breaker_state, breaker_opened_at, breaker_cooldown,
                   EXISTS (SELECT 1 FROM claim)
              FROM logistics_backend WHERE id = %s
            """,
            (self.id, PROBE_LEASE, self.id),
        )
        if won or state == "closed":
            return 0
        pause = cooldown if state == "open" else PROBE_LEASE
        until = opened_at + timedelta(seconds=pause or 0)
        return max((until - fields.Datetime.now()).total_seconds(), 1)

    def _rate_limit_slot(self, max_wait):
        """Book the partner's next request slot if it is at most ``max_wait`` seconds away.

        The rate is shared by every worker: slots are 1/rate apart and booked in a transaction
        of their own, so one is never handed out twice. Returns (booked, seconds to wait); a
        slot further away is not booked, so a job postponed for it does not push the schedule
        back for everyone."""
        self.ensure_one()
        if not self.rate_limit or self.rate_limit <= 0:
            return True, 0.0
        interval = 1.0 / self.rate_limit
        wait, booked = self._execute_shared_state(
            """
            WITH current AS (
                SELECT GREATEST(COALESCE(b.rate_next_slot_at, c.moment), c.moment) AS slot,
                       c.moment
                  FROM logistics_backend b,
                       (SELECT clock_timestamp() at time zone 'UTC' AS moment) c
                 WHERE b.id = %s
                   FOR UPDATE OF b
            ), booking AS (
                UPDATE logistics_backend
                   SET rate_next_slot_at = current.slot + make_interval(secs => %s)
                  FROM current
                 WHERE logistics_backend.id = %s
                   AND current.slot <= current.moment + make_interval(secs => %s)
             RETURNING 1
            )
            SELECT EXTRACT(EPOCH FROM current.slot - current.moment),
                   EXISTS (SELECT 1 FROM booking)
              FROM current
            """,
            (self.id, interval, self.id, max_wait),
        )
        return booked, max(float(wait), 0.0)

    def _breaker_record_success(self):
        """The partner answered: close the breaker (a no-op write when it already is)."""
        if (
            self.breaker_state == "closed"
            and not self.breaker_failures
            and self.last_success_at
            and self.last_success_at > fields.Datetime.now() - timedelta(seconds=HEALTH_STALENESS)
        ):
            # Healthy and said so recently, as this transaction sees it: nothing to write.
            return
        self._execute_shared_state(
            """
            UPDATE logistics_backend
               SET breaker_state = 'closed', breaker_failures = 0, breaker_opened_at = NULL,
                   last_success_at = now() at time zone 'UTC'
             WHERE id = %s
               -- Health to the half-minute is enough: spare a row write per message.
               AND (breaker_state <> 'closed' OR breaker_failures <> 0
                    OR last_success_at IS NULL
                    OR last_success_at < now() at time zone 'UTC' - make_interval(secs => %s))
         RETURNING id
            """,
            (self.id, HEALTH_STALENESS),
        )

    def _breaker_record_failure(self, error_text):
        """Count a transient failure; open the breaker at the threshold (or at once when the
        half-open probe fails). Returns True when this failure opened it."""
        state, state_before, failures = self._execute_shared_state(
            """
            WITH before AS (
                SELECT breaker_state FROM logistics_backend WHERE id = %s FOR NO KEY UPDATE
            )
            UPDATE logistics_backend
               SET breaker_failures = COALESCE(breaker_failures, 0) + 1,
                   last_failure_at = now() at time zone 'UTC',
                   last_error = %s,
                   breaker_state = CASE
                       WHEN breaker_state = 'half_open'
                         OR COALESCE(breaker_failures, 0) + 1 >= GREATEST(breaker_threshold, 1)
                       THEN 'open' ELSE breaker_state END,
                   breaker_opened_at = CASE
                       WHEN breaker_state = 'half_open'
                         OR (breaker_state = 'closed'
                             AND COALESCE(breaker_failures, 0) + 1
                                 >= GREATEST(breaker_threshold, 1))
                       THEN now() at time zone 'UTC' ELSE breaker_opened_at END
             WHERE id = %s
         RETURNING breaker_state, (SELECT breaker_state FROM before), breaker_failures
            """,
            (self.id, (error_text or "")[:250], self.id),
        )
        just_opened = state == "open" and state_before != "open"
        if just_opened:
            self.env["logistics.exception"].raise_exception(
                "partner_down",
                self.env._("%(name)s is not answering: circuit breaker open", name=self.name),
                self.env._(
                    "%(count)s consecutive transient failures (last: %(error)s). Messages to this "
                    "partner are postponed, not lost; a probe is let through every %(cooldown)s "
                    "seconds and the breaker closes on the first success. Check the partner's "
                    "status or its endpoint.",
                    count=failures,
                    error=error_text,
                    cooldown=self.breaker_cooldown,
                ),
                backend=self,
                severity="high",
            )
        return just_opened

    @api.model
    def _cron_breaker_probe(self):
        """After the cool-down, send one waiting message of each open partner as the probe, so
        a partner that came back is noticed without waiting for the next business event."""
        messages = self.env["logistics.message"].sudo()
        now = fields.Datetime.now()
        for backend in self.sudo().search([("breaker_state", "=", "open")]):
            if backend.breaker_opened_at + timedelta(seconds=backend.breaker_cooldown) > now:
                continue
            probe = messages.search(
                [("backend_id", "=", backend.id), ("state", "in", ("retry", "queued"))],
                order="next_attempt_at, id",
                limit=1,
            )
            if probe:
                probe._enqueue()
        return True

    def action_reset_breaker(self):
        self.check_access("write")
        for backend in self:
            backend._breaker_record_success()
            self.env["logistics.audit.log"].record(
                "other", self.env._("Circuit breaker reset by hand"), backend=backend
            )
