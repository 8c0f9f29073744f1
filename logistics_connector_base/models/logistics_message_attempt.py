"""Attempts at a message, each committed on its own before the partner is called."""

from odoo import api, fields, models

from .db_tools import LOCK_TIMEOUT_SQL, after_commit, autonomous_cursor


class LogisticsMessageAttempt(models.Model):
    """One attempt at a message, written in its own transaction when it starts: it survives
    the rollback of a job whose worker died mid-call, so it counts toward the attempt limit
    and tells the next attempt that a request may have landed."""

    _name = "logistics.message.attempt"
    _description = "Logistics Message Attempt"
    _order = "message_id, number"

    message_id = fields.Many2one("logistics.message", required=True, ondelete="cascade", index=True)
    number = fields.Integer(required=True)
    job_uuid = fields.Char()
    started_at = fields.Datetime()
    finished_at = fields.Datetime()
    outcome = fields.Char()
    error_message = fields.Text()

    @api.model
    def _count_for(self, message, unfinished=False):
        """Committed attempts at ``message`` (only those whose outcome was never written, with
        ``unfinished``), whatever became of their jobs."""
        domain = [("message_id", "=", message.id)]
        if unfinished:
            domain.append(("finished_at", "=", False))
        return self.sudo().search_count(domain)

    @api.model
    def _start(self, messages, job_uuid):
        """Commit the next attempt of each of ``messages`` now, in one transaction of its own
        (numbered after their committed attempts); their outcome (each message's state and
        error) is written once the job's transaction commits. Returns the attempt ids."""
        if not messages:
            return []
        with autonomous_cursor(self.env, lock_timeout=False) as side_cr:
            side_cr.execute(
                f"{LOCK_TIMEOUT_SQL}; INSERT INTO logistics_message_attempt (message_id, number,"
                " job_uuid, started_at, create_date, write_date, create_uid, write_uid) "
                "SELECT m.id, (SELECT count(*) FROM logistics_message_attempt a"
                " WHERE a.message_id = m.id) + 1, %s, now() at time zone 'UTC', "
                "now() at time zone 'UTC', now() at time zone 'UTC', %s, %s "
                "FROM unnest(%s::int[]) AS m(id) RETURNING id",
                (job_uuid, self.env.uid, self.env.uid, list(messages.ids)),
            )
            attempt_ids = [row[0] for row in side_cr.fetchall()]
        to_finish = self.env.cr.postcommit.data.setdefault("logistics_attempts_to_finish", set())
        to_finish.update(attempt_ids)

        def finish(cr):
            cr.execute(
                "UPDATE logistics_message_attempt a SET finished_at = now() at time zone 'UTC',"
                " outcome = m.state, error_message = m.error_message "
                "FROM logistics_message m WHERE m.id = a.message_id AND a.id = ANY(%s)",
                (sorted(to_finish),),
            )

        after_commit(self.env, "attempt finish", finish)
        return attempt_ids
