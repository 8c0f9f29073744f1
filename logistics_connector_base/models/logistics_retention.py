"""Retention: how long wire payloads, finished messages, closed exceptions and audit entries
are kept (system parameters, in days; 0 keeps forever), purged by one bounded cron. The audit
log and the exceptions purge themselves (_purge_older_than, _purge_closed_older_than)."""

import logging
from datetime import timedelta

from odoo import api, fields, models

from ..const import (
    AUDIT_PURGE_BATCH,
    AUDIT_RETENTION_DAYS,
    EXCEPTION_PURGE_BATCH,
    EXCEPTION_RETENTION_DAYS,
    MESSAGE_RETENTION_DAYS,
    PAYLOAD_RETENTION_DAYS,
)

_logger = logging.getLogger(__name__)


class LogisticsMessage(models.Model):
    _inherit = "logistics.message"

    @api.model
    def _retention_days(self, key, default):
        """A retention setting in days; 0 or empty means keep forever."""
        value = self.env["ir.config_parameter"].sudo().get_param(key, default)
        try:
            days = int(value or 0)
        except ValueError:
            _logger.warning("Ignoring %s=%r: not a whole number of days", key, value)
            days = default
        return max(days, 0)

    @api.model
    def _cron_purge(self):
        """Retention: drop wire payloads, then whole finished messages, by age. The audit trail
        is kept at least as long as the messages it speaks of."""
        payload_days = self._retention_days(
            "logistics_connector.payload_retention_days", PAYLOAD_RETENTION_DAYS
        )
        message_days = self._retention_days(
            "logistics_connector.message_retention_days", MESSAGE_RETENTION_DAYS
        )
        audit_days = self._retention_days(
            "logistics_connector.audit_retention_days", AUDIT_RETENTION_DAYS
        )
        exception_days = self._retention_days(
            "logistics_connector.exception_retention_days", EXCEPTION_RETENTION_DAYS
        )
        now = fields.Datetime.now()
        finished = ("done", "cancelled", "duplicate")
        old_payloads = self.browse()
        if payload_days:
            old_payloads = self.sudo().search(
                [
                    ("state", "in", finished),
                    ("create_date", "<", now - timedelta(days=payload_days)),
                    "|",
                    ("wire_request", "!=", False),
                    ("wire_response", "!=", False),
                ],
                limit=AUDIT_PURGE_BATCH,
            )
            old_payloads.write({"wire_request": False, "wire_response": False})
        count = 0
        if message_days:
            old_messages = self.sudo().search(
                [
                    ("state", "in", finished),
                    ("create_date", "<", now - timedelta(days=message_days)),
                    ("exception_ids", "not any", [("state", "in", ("new", "in_progress"))]),
                ],
                limit=AUDIT_PURGE_BATCH,
            )
            count = len(old_messages)
            old_messages.unlink()
        audit_purged = 0
        if audit_days:
            if message_days:
                audit_days = max(audit_days, message_days)
            audit_purged = self.env["logistics.audit.log"]._purge_older_than(audit_days)
        exceptions = self.env["logistics.exception"]
        exceptions_purged = (
            exceptions._purge_closed_older_than(exception_days) if exception_days else 0
        )
        # A full batch means there is more: the cron runs again right away, in a new
        # transaction, instead of holding locks on a huge purge.
        more = (
            len(old_payloads) >= AUDIT_PURGE_BATCH
            or count >= AUDIT_PURGE_BATCH
            or audit_purged >= AUDIT_PURGE_BATCH
            or exceptions_purged >= EXCEPTION_PURGE_BATCH
        )
        self.env["ir.cron"]._notify_progress(
            done=len(old_payloads) + count + audit_purged + exceptions_purged,
            remaining=int(more),
        )
        return {
            "payloads_purged": len(old_payloads),
            "messages_deleted": count,
            "audit_entries_purged": audit_purged,
            "exceptions_deleted": exceptions_purged,
        }
