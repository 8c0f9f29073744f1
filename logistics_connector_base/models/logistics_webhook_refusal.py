import re
from datetime import timedelta

from odoo import api, fields, models

# Refusals of one kind from one source are audited once a minute and counted here; past this
# many in a minute the sender is told to slow down (429) without an audit entry.
DEFAULT_REFUSALS_PER_MINUTE = 30
REFUSAL_RETENTION_DAYS = 30


class LogisticsWebhookRefusal(models.Model):
    """Refused webhook deliveries, counted per partner, answer, reason and source per minute:
    a flood of forged or broken deliveries costs one row update each, not an audit entry each,
    and the audit log stays readable."""

    _name = "logistics.webhook.refusal"
    _description = "Refused Webhook Deliveries"
    _order = "minute desc, id desc"
    _rec_name = "reason"

    backend_id = fields.Many2one(
        "logistics.backend", string="Partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    status = fields.Integer(string="Answer", help="The HTTP status the sender got.")
    reason = fields.Char(required=True, help="Why deliveries were refused (numbers as N).")
    remote_addr = fields.Char(string="Source Address")
    minute = fields.Datetime(required=True, help="The minute these refusals happened in.")
    count = fields.Integer(default=1, help="Refusals of this kind from this source that minute.")
    last_at = fields.Datetime(string="Last Refusal")

    _sql_constraints = [
        (
            "bucket_uniq",
            "unique(backend_id, status, reason, remote_addr, minute)",
            "One row per partner, answer, reason, source and minute.",
        )
    ]

    @api.model
    def _count_refusal(self, backend, status, reason, remote_addr):
        """Count one refusal in its minute and return that minute's count (1: the first,
        worth an audit entry). An upsert: concurrent refusals never conflict."""
        bucket_reason = re.sub(r"\d+", "N", reason or "")[:200]
        self.env.cr.execute(
            """
            INSERT INTO logistics_webhook_refusal
                   (backend_id, company_id, status, reason, remote_addr, minute, count, last_at,
                    create_uid, create_date, write_uid, write_date)
            VALUES (%(backend)s, %(company)s, %(status)s, %(reason)s, %(remote)s,
                    date_trunc('minute', now() at time zone 'UTC'), 1, now() at time zone 'UTC',
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (backend_id, status, reason, remote_addr, minute) DO UPDATE
               SET count = logistics_webhook_refusal.count + 1, last_at = EXCLUDED.last_at
            RETURNING count
            """,
            {
                "backend": backend.id,
                "company": backend.company_id.id,
                "status": status,
                "reason": bucket_reason,
                "remote": remote_addr or "",
                "uid": self.env.uid,
            },
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _refusals_per_minute(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "logistics_connector.webhook_refusals_per_minute", DEFAULT_REFUSALS_PER_MINUTE
            )
        )
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            return DEFAULT_REFUSALS_PER_MINUTE

    @api.autovacuum
    def _gc_old_refusals(self):
        limit = fields.Datetime.now() - timedelta(days=REFUSAL_RETENTION_DAYS)
        self.sudo().search([("minute", "<", limit)]).unlink()
