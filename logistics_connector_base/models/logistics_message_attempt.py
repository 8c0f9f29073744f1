"""Attempts at a message, each committed before the partner is called."""

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import MESSAGE_OPEN_STATES
from .db_tools import LOCK_TIMEOUT_SQL, after_commit, autonomous_cursor


class LogisticsMessageAttempt(models.Model):
    """One attempt at a message, committed when it starts - with queue_job's start of the job
    (_start_with_job), or in a transaction of its own (_start): it survives the rollback of a
    job whose worker died mid-call, so it counts toward the attempt limit and tells the next
    attempt that a request may have landed."""

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
            messages_sql = SQL("unnest(%s::int[]) AS m(id)", messages.ids)
            side_cr.execute(
                SQL(
                    "%s; %s", SQL(LOCK_TIMEOUT_SQL), self._insert_next_query(messages_sql, job_uuid)
                )
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

    @api.model
    def _start_with_job(self, message, job_uuid):
        """Record the next attempt of ``message`` in the current transaction, which queue_job's
        runner commits right before it performs job ``job_uuid``: committed before the partner
        is called, at no transaction of its own. Only while the job is the message's and the
        message waits to be sent (what _process checks first). Returns the attempt id, or
        None."""
        message_sql = SQL(
            "logistics_message m WHERE m.id = %s AND m.job_uuid = %s AND m.state IN %s",
            message.id,
            job_uuid,
            MESSAGE_OPEN_STATES,
        )
        self.env.cr.execute(self._insert_next_query(message_sql, job_uuid))
        row = self.env.cr.fetchone()
        return row and row[0]

    @api.model
    def _finish(self, attempt_id, outcome, error_message):
        """Write the outcome of an attempt recorded with _start_with_job, in the job's own
        transaction (the attempt row was committed before it began, so it sees it)."""
        self.env.cr.execute(
            "UPDATE logistics_message_attempt SET finished_at = now() at time zone 'UTC',"
            " outcome = %s, error_message = %s WHERE id = %s",
            (outcome, error_message or None, attempt_id),
        )

    @api.model
    def _discard(self, attempt_id, now=False):
        """Forget an attempt recorded with _start_with_job that made no call (the job was
        postponed or had nothing to do): in the job's transaction, or ``now`` in one of its own
        (the job's transaction is about to be rolled back)."""
        query = SQL("DELETE FROM logistics_message_attempt WHERE id = %s", attempt_id)
        if not now:
            self.env.cr.execute(query)
            return
        with autonomous_cursor(self.env) as side_cr:
            side_cr.execute(query)

    def _insert_next_query(self, messages_sql, job_uuid):
        """INSERT the next attempt of each message ``m`` of ``messages_sql`` (a FROM clause),
        numbered after its committed attempts, RETURNING the attempt ids."""
        now = SQL("now() at time zone 'UTC'")
        return SQL(
            "INSERT INTO logistics_message_attempt (message_id, number, job_uuid, started_at,"
            " create_date, write_date, create_uid, write_uid) "
            "SELECT m.id, (SELECT count(*) FROM logistics_message_attempt a"
            " WHERE a.message_id = m.id) + 1, %s, %s, %s, %s, %s, %s FROM %s RETURNING id",
            job_uuid,
            now,
            now,
            now,
            self.env.uid,
            self.env.uid,
            messages_sql,
        )
