import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger
from odoo.tools.sql import create_index

from ..const import (
    DEFAULT_SLA_HOURS,
    EXCEPTION_CLOSED_STATES,
    EXCEPTION_OPEN_STATES,
    EXCEPTION_PURGE_BATCH,
    EXCEPTION_TYPES,
    MANAGER_GROUP,
    SEVERITIES,
)
from .db_tools import probe_unique_conflict

_logger = logging.getLogger(__name__)

SEVERITY_RANK = {code: rank for rank, (code, _label) in enumerate(SEVERITIES)}
# Kanban highlight colours (Odoo colour indexes): green, yellow, orange, red.
SEVERITY_COLOR = {"low": 10, "medium": 3, "high": 2, "critical": 1}
DEFAULT_SEVERITY = {
    "partner_down": "high",
    "service_unavailable": "high",
    "stockout": "high",
    "damaged_goods": "high",
    "customs_hold": "high",
    "configuration_error": "high",
    "ack_overdue": "medium",
    "inventory_mismatch": "medium",
    "freight_discrepancy": "low",
}
# What a Logistics User may write directly (form, RPC): who handles it. Everything else goes
# through the action methods, which check access and then write with sudo, or is for managers.
USER_WRITABLE_FIELDS = frozenset({"user_id", "team_id"})
# The life cycle: only the action methods change it (they ask for a reason and audit it).
LIFECYCLE_FIELDS = frozenset({"state", "resolution_reason", "resolved_by", "resolved_at"})


class LogisticsException(models.Model):
    """A work item for people: something in a logistics exchange went wrong and needs a
    decision. It says what happened and what to fix, is routed to a team and a person with a
    deadline, and links to the message and the business document concerned."""

    _name = "logistics.exception"
    _description = "Logistics Exception"
    _inherit = ["mail.thread", "mail.activity.mixin", "logistics.document.link"]
    _order = "state_rank, severity_rank desc, id desc"

    name = fields.Char(string="Summary", required=True, tracking=True)
    exception_type = fields.Selection(
        EXCEPTION_TYPES,
        string="Type",
        required=True,
        default="other",
        index=True,
        tracking=True,
        help="What kind of problem it is; routing rules use it.",
    )
    severity = fields.Selection(
        SEVERITIES,
        required=True,
        default="medium",
        tracking=True,
        help="How badly it hurts operations; critical ones come first.",
    )
    severity_rank = fields.Integer(compute="_compute_ranks", store=True)
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In Progress"),
            ("resolved", "Resolved"),
            ("ignored", "Ignored"),
        ],
        required=True,
        default="new",
        index=True,
        tracking=True,
        copy=False,
        group_expand=True,
        help="New: nobody works on it yet. In progress: someone does. Resolved or ignored: "
        "closed, with a reason.",
    )
    state_rank = fields.Integer(compute="_compute_ranks", store=True)
    description = fields.Text(
        help="What happened and what to fix, in plain words.",
    )
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        index=True,
        ondelete="cascade",
        tracking=True,
        help="Logistics partner the problem is about.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        help="Company whose operations are affected.",
    )
    message_id = fields.Many2one(
        "logistics.message",
        index=True,
        ondelete="set null",
        help="The exchange that failed; Retry and Replay act on it.",
    )
    message_state = fields.Selection(related="message_id.state", string="Message State")
    correlation_id = fields.Char(
        index=True,
        help="Correlation id of the business story: the same on the messages, jobs and audit "
        "entries of that order or picking.",
    )
    res_model = fields.Char(string="Document Model", index=True, help="Model of the document.")
    res_id = fields.Many2oneReference(
        string="Document ID", model_field="res_model", index=True, help="Id of the document."
    )
    document_name = fields.Char(
        string="Document",
        compute="_compute_document_name",
        help="The business document concerned (delivery order, sales order...).",
    )
    team_id = fields.Many2one(
        "logistics.team",
        index=True,
        tracking=True,
        help="Team in charge, set by the routing rules.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assignee",
        index=True,
        tracking=True,
        domain="[('share', '=', False)]",
        help="Person in charge, set by the routing rules.",
    )
    sla_deadline = fields.Datetime(
        string="Deadline",
        index=True,
        tracking=True,
        help="Handle it before this moment; after, it is overdue.",
    )
    age_hours = fields.Float(
        string="Age (hours)",
        compute="_compute_age",
        help="Hours since it first happened (until it was closed).",
    )
    age_display = fields.Char(string="Age", compute="_compute_age")
    is_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_is_overdue",
        search="_search_is_overdue",
        help="Still open after its deadline.",
    )
    occurrence_count = fields.Integer(
        string="Occurrences",
        default=1,
        readonly=True,
        copy=False,
        help="How many times this same open problem was reported.",
    )
    last_occurrence_at = fields.Datetime(
        string="Last Occurrence",
        default=fields.Datetime.now,
        readonly=True,
        copy=False,
        help="When the problem was last reported.",
    )
    dedup_key = fields.Char(
        string="Deduplication Key",
        index=True,
        readonly=True,
        copy=False,
        help="Reports of a problem with the same key while it is open count as occurrences.",
    )
    resolution_reason = fields.Text(
        readonly=True,
        copy=False,
        tracking=True,
        help="Why it was resolved or ignored.",
    )
    resolved_by = fields.Many2one("res.users", readonly=True, copy=False, string="Closed By")
    resolved_at = fields.Datetime(readonly=True, copy=False, string="Closed On")
    color = fields.Integer(compute="_compute_color")
    can_edit_details = fields.Boolean(
        compute="_compute_can_edit_details",
        help="The current user may edit the summary, type, severity, deadline and description "
        "(Logistics Managers); users reassign it and use the buttons.",
    )
    is_assigned_to_me = fields.Boolean(
        compute="_compute_is_assigned_to_me",
        help="The current user is its assignee (Assign to Me has nothing to do).",
    )
    next_step = fields.Json(
        readonly=True,
        copy=False,
        help="What a person can do about it, as the pipeline knew when it reported it, e.g. "
        '{"action": "add_mapping", "mapping_type": "warehouse", "value": "WH", "side": "odoo"}.',
    )
    can_add_mapping = fields.Boolean(
        compute="_compute_can_add_mapping",
        help="A missing mapping whose type and value are known: Add Mapping opens it prefilled.",
    )

    # ------------------------------------------------------------------------------------------
    # Database
    # ------------------------------------------------------------------------------------------
    def init(self):
        # The overview counts each partner's open exceptions and finds the oldest, from the
        # few open ones alone, however many were closed over the years.
        create_index(
            self.env.cr,
            "logistics_exception_open_backend_idx",
            self._table,
            ["backend_id", "create_date"],
            where="state IN ('new', 'in_progress')",
        )
        # One open exception per company and key: the database decides between two
        # transactions reporting the same problem at once.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS logistics_exception_open_dedup_uniq
                ON logistics_exception (company_id, dedup_key)
             WHERE dedup_key IS NOT NULL AND state IN ('new', 'in_progress')
            """
        )

    @api.model
    def _purge_closed_older_than(self, days, batch_size=EXCEPTION_PURGE_BATCH):
        """Delete exceptions closed more than ``days`` ago, with their chatter and activities,
        one bounded batch per call. Returns how many were deleted."""
        closed = self.sudo().search(
            [
                ("state", "in", EXCEPTION_CLOSED_STATES),
                ("resolved_at", "<", fields.Datetime.now() - timedelta(days=days)),
            ],
            order="resolved_at",
            limit=batch_size,
        )
        count = len(closed)
        closed.unlink()  # mail.thread removes their messages, followers and activities
        return count

    def write(self, vals):
        if not self.env.su:
            self._check_direct_write(vals)
        if (
            vals.get("state") in EXCEPTION_CLOSED_STATES
            and not (vals.get("resolution_reason") or "").strip()
        ):
            # Also for system code: a closed exception always tells why.
            raise UserError(
                self.env._(
                    "Use Resolve or Ignore to close an exception: they ask for the reason, "
                    "which tells the next person what was done."
                )
            )
        return super().write(vals)

    def _check_direct_write(self, vals):
        """Writes by a user (form, RPC) may not move the life cycle, which would skip the reason
        and the audit entry, and users only reassign: the rest is the system's or a manager's."""
        if LIFECYCLE_FIELDS & vals.keys():
            raise UserError(
                self.env._(
                    "Use Start, Resolve or Ignore to change the status of an exception: they ask "
                    "for the reason and record who did it in the audit log."
                )
            )
        if self.env.user.has_group(MANAGER_GROUP):
            return
        forbidden = vals.keys() - self._user_writable_fields()
        if forbidden:
            labels = sorted(self._fields[name].string for name in forbidden if name in self._fields)
            raise AccessError(
                self.env._(
                    "Only Logistics Managers can change %(fields)s of an exception. You can change "
                    "its team and assignee, and use Start, Resolve or Ignore.",
                    fields=", ".join(labels) or ", ".join(sorted(forbidden)),
                )
            )

    @api.model
    def _web_read_group(
        self, domain, fields, groupby, limit=None, offset=0, orderby=False, lazy=True
    ):
        """By status, every column shows (group_expand), and an empty Resolved or Ignored
        column is folded: the open work keeps the room."""
        groups = super()._web_read_group(domain, fields, groupby, limit, offset, orderby, lazy)
        first = groupby[0] if isinstance(groupby, list | tuple) and groupby else groupby
        if first == "state":
            for group in groups:
                count = group.get("state_count", group.get("__count", 0))
                if group.get("state") in EXCEPTION_CLOSED_STATES and not count:
                    group["__fold"] = True
        return groups

    @api.model
    def _user_writable_fields(self):
        # Plus the chatter and activity fields: following, posting and planning stay open.
        mail_fields = set(self.env["mail.thread"]._fields) | set(
            self.env["mail.activity.mixin"]._fields
        )
        return USER_WRITABLE_FIELDS | (mail_fields - set(models.MAGIC_COLUMNS) - {"display_name"})

    # ------------------------------------------------------------------------------------------
    # Computed
    # ------------------------------------------------------------------------------------------
    @api.depends("state", "severity")
    def _compute_ranks(self):
        states = ["new", "in_progress", "resolved", "ignored"]
        for exception in self:
            exception.state_rank = states.index(exception.state) if exception.state else 0
            exception.severity_rank = SEVERITY_RANK.get(exception.severity, 0)

    @api.depends("severity")
    def _compute_color(self):
        for exception in self:
            exception.color = SEVERITY_COLOR.get(exception.severity, 0)

    @api.depends_context("uid")
    def _compute_can_edit_details(self):
        can_edit = self.env.user.has_group(MANAGER_GROUP)
        for exception in self:
            exception.can_edit_details = can_edit

    @api.depends("user_id")
    @api.depends_context("uid")
    def _compute_is_assigned_to_me(self):
        for exception in self:
            exception.is_assigned_to_me = exception.user_id == self.env.user

    @api.depends("exception_type", "next_step", "backend_id")
    def _compute_can_add_mapping(self):
        for exception in self:
            step = exception.next_step if isinstance(exception.next_step, dict) else {}
            exception.can_add_mapping = bool(
                exception.exception_type == "mapping_missing"
                and exception.backend_id
                and step.get("action") == "add_mapping"
                and step.get("mapping_type")
            )

    @api.depends("create_date", "resolved_at", "state")
    def _compute_age(self):
        now = fields.Datetime.now()
        for exception in self:
            start = exception.create_date or now
            end = exception.resolved_at if exception.state in EXCEPTION_CLOSED_STATES else now
            hours = max(((end or now) - start).total_seconds() / 3600.0, 0.0)
            exception.age_hours = hours
            exception.age_display = _human_duration(self.env, hours)

    @api.depends("state", "sla_deadline")
    def _compute_is_overdue(self):
        now = fields.Datetime.now()
        for exception in self:
            exception.is_overdue = bool(
                exception.state in EXCEPTION_OPEN_STATES
                and exception.sla_deadline
                and exception.sla_deadline < now
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search overdue exceptions with 'is set' or 'is not set'."))
        now = fields.Datetime.now()
        overdue = [
            ("state", "in", EXCEPTION_OPEN_STATES),
            ("sla_deadline", "!=", False),
            ("sla_deadline", "<", now),
        ]
        if (operator == "=") == value:
            return overdue
        return [
            "|",
            "|",
            ("state", "not in", EXCEPTION_OPEN_STATES),
            ("sla_deadline", "=", False),
            ("sla_deadline", ">=", now),
        ]

    # ------------------------------------------------------------------------------------------
    # Raising (the API of the pipeline)
    # ------------------------------------------------------------------------------------------
    @api.private  # Python callers only: over RPC anyone could forge work items (sudo write).
    @api.model
    def raise_exception(
        self,
        exception_type,
        summary,
        description,
        *,
        backend=None,
        message=None,
        record=None,
        severity=None,
        correlation_id=None,
        dedup_key=None,
        next_step=None,
    ):
        """Report a problem that needs a person and return its exception.

        If the same problem (same ``dedup_key``; by default type + partner + document, or
        type + partner + message for a message without a document) is already open, its
        occurrence counter goes up and its description is refreshed instead of creating a
        duplicate. A new exception is routed by the rules (team, assignee, severity, SLA) and the
        assignee gets a To-Do activity. Works for any user (exceptions are written with sudo),
        which is why it cannot be called over RPC.

        ``summary`` is the short title people scan (the problem first, at most 120 characters
        is best), ``description`` what happened and what to fix; ``next_step`` (a dict) what a
        person can do about it in one click, e.g. ``{"action": "add_mapping", "mapping_type":
        ..., "value": ..., "side": "odoo" or "partner"}`` (see action_add_mapping).
        """
        if exception_type not in dict(EXCEPTION_TYPES):
            raise ValueError(f"Unknown logistics exception type {exception_type!r}")
        if severity and severity not in SEVERITY_RANK:
            raise ValueError(f"Unknown severity {severity!r}")
        backend = backend or (message.backend_id if message else None) or None
        record = record or None
        company = self._exception_company(backend, message, record)
        if not correlation_id:
            correlation_id = self._exception_correlation(message, record)
        key = dedup_key or self._default_dedup_key(exception_type, backend, message, record)
        values = {
            "name": (summary or dict(EXCEPTION_TYPES)[exception_type])[:250],
            "description": description or False,
            "exception_type": exception_type,
            "severity": severity or DEFAULT_SEVERITY.get(exception_type, "medium"),
            "backend_id": backend.id if backend else False,
            "company_id": company.id,
            "message_id": message.id if message else False,
            "correlation_id": correlation_id or False,
            "res_model": record._name if record else (message.res_model if message else False),
            "res_id": record.id if record else (message.res_id if message else False),
            "dedup_key": key,
            "next_step": next_step or False,
        }
        existing = self._find_open(company, key)
        if existing:
            return existing._register_occurrence(values)
        return self._create_routed(values)

    @api.model
    def _exception_company(self, backend, message, record):
        if backend and backend.sudo().company_id:
            return backend.sudo().company_id
        if message and message.sudo().company_id:
            return message.sudo().company_id
        if record is not None and "company_id" in record._fields and record.sudo().company_id:
            return record.sudo().company_id
        return self.env.company

    @api.model
    def _exception_correlation(self, message, record):
        if message and message.correlation_id:
            return message.correlation_id
        if record is not None and "logistics_correlation_id" in record._fields:
            return record.sudo().logistics_correlation_id
        return False

    @api.model
    def _default_dedup_key(self, exception_type, backend, message, record):
        if record is not None:
            subject = f"{record._name},{record.id}"
        elif message:
            if message.res_model and message.res_id:
                subject = f"{message.res_model},{message.res_id}"
            else:
                # No document (e.g. a webhook delivery): each message is its own problem, so
                # its exception is closed when that message, not a later one, goes through.
                subject = f"msg:{message.id}"
        else:
            subject = "-"
        return f"{exception_type}:{backend.id if backend else 0}:{subject}"

    @api.model
    def _find_open(self, company, key):
        return (
            self.sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", company.id),
                    ("dedup_key", "=", key),
                    ("state", "in", EXCEPTION_OPEN_STATES),
                ],
                limit=1,
            )
        )

    def _register_occurrence(self, values):
        """The same open problem happened again: count it, keep the latest details."""
        self.ensure_one()
        exception = self.sudo()
        update = {
            "occurrence_count": exception.occurrence_count + 1,
            "last_occurrence_at": fields.Datetime.now(),
        }
        if values.get("description"):
            update["description"] = values["description"]
        if values.get("message_id"):
            update["message_id"] = values["message_id"]
        if values.get("next_step"):
            update["next_step"] = values["next_step"]
        if SEVERITY_RANK[values["severity"]] > SEVERITY_RANK[exception.severity]:
            update["severity"] = values["severity"]
        same_summary = values["name"] == exception.name
        exception.write(update)
        # The title is on the form already: the note only says what is new.
        exception.message_post(
            body=self.env._(
                "Happened again (%(count)s times now).", count=update["occurrence_count"]
            )
            if same_summary
            else self.env._(
                "Happened again (%(count)s times now): %(summary)s",
                count=update["occurrence_count"],
                summary=values["name"],
            ),
            subtype_xmlid="mail.mt_note",
        )
        return exception.with_env(self.env)

    @api.model
    def _create_routed(self, values):
        rule = self.env["logistics.exception.rule"]._match(
            values["exception_type"],
            self.env["logistics.backend"].browse(values["backend_id"]),
            self.env["res.company"].browse(values["company_id"]),
        )
        values.update(self._routing_values(rule, values))
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                exception = self.sudo().create(values)
        except psycopg2.errors.UniqueViolation:
            # Another transaction opened the same problem and committed meanwhile.
            existing = self._resolve_dedup_conflict(values)
            if existing:
                return existing._register_occurrence(values)
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                exception = self.sudo().create(values)
        exception._notify_assignee()
        return exception.with_env(self.env)

    @api.model
    def _routing_values(self, rule, values):
        company = self.env["res.company"].browse(values["company_id"])
        sla_hours = rule.sla_hours if rule else DEFAULT_SLA_HOURS
        routed = {
            "team_id": rule.team_id.id if rule else False,
            "user_id": rule._assignee(company).id if rule else False,
            "sla_deadline": fields.Datetime.now() + timedelta(hours=sla_hours)
            if sla_hours
            else False,
        }
        if rule and rule.severity:
            routed["severity"] = rule.severity
        return routed

    @api.model
    def _resolve_dedup_conflict(self, values):
        """After a unique violation on the open dedup key: return the open exception if this
        transaction can see it. If it was committed after our snapshot (REPEATABLE READ), make
        PostgreSQL raise a genuine serialization failure so that Odoo (or queue_job) retries
        the whole transaction, which then finds it and counts an occurrence."""
        company = self.env["res.company"].browse(values["company_id"])
        existing = self._find_open(company, values["dedup_key"])
        if existing:
            return existing
        probe_unique_conflict(
            self.env.cr,
            "logistics_exception",
            {
                "name": values["name"],
                "exception_type": values["exception_type"],
                "severity": values["severity"],
                "state": "new",
                "company_id": values["company_id"],
                "dedup_key": values["dedup_key"],
                "occurrence_count": 1,
            },
            ["company_id", "dedup_key"],
            "dedup_key IS NOT NULL AND state IN ('new', 'in_progress')",
        )
        return self._find_open(company, values["dedup_key"])

    def _notify_assignee(self):
        """To-Do activity for the assignee, due on the SLA deadline. It names the exception;
        what to fix stays in one place, the exception's description (not copied into the
        activity, where the chatter would show it a second time)."""
        for exception in self.sudo():
            if not exception.user_id:
                continue
            deadline = exception.sla_deadline or fields.Datetime.now()
            exception.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(
                    exception.with_context(tz=exception.user_id.tz or "UTC"), deadline
                ),
                summary=self.env._("Handle: %(name)s", name=exception.name)[:250],
                user_id=exception.user_id.id,
            )

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------
    def _check_open(self, action_label):
        closed = self.filtered(lambda e: e.state not in EXCEPTION_OPEN_STATES)
        if closed and closed == self:
            raise UserError(
                self.env._(
                    "%(action)s is only possible on open exceptions; %(names)s is already closed.",
                    action=action_label,
                    names=", ".join(closed[:3].mapped("name")),
                )
            )
        return self - closed

    def _audit(self, event, summary, details=None):
        for exception in self:
            self.env["logistics.audit.log"].record(
                event,
                summary(exception),
                backend=exception.backend_id or None,
                record=exception,
                correlation_id=exception.correlation_id,
                details=dict(
                    details or {},
                    exception_id=exception.id,
                    exception_type=exception.exception_type,
                    message=exception.message_id.name or None,
                ),
            )

    def action_start(self):
        """Take it: in progress, assigned to me if nobody has it."""
        self.check_access("write")
        exceptions = self._check_open(self.env._("Start")).filtered(lambda e: e.state == "new")
        for exception in exceptions:
            values = {"state": "in_progress"}
            if not exception.user_id:
                values["user_id"] = self.env.uid
            # sudo: the status is not writable directly (see write()); access checked above.
            exception.sudo().write(values)
        exceptions._audit(
            "state_change",
            lambda e: self.env._("Exception %(name)s started", name=e.name),
            {"state": "in_progress"},
        )
        return True

    def action_assign_to_me(self):
        exceptions = self._check_open(self.env._("Assign to me"))
        exceptions = exceptions.filtered(lambda e: e.user_id != self.env.user)
        for exception in exceptions:
            previous = exception.user_id
            exception.activity_ids.filtered(
                lambda a, user=previous: a.user_id == user
            ).sudo().write({"user_id": self.env.uid})
            exception.write({"user_id": self.env.uid})
        exceptions._audit(
            "assign",
            lambda e: self.env._(
                "Exception %(name)s assigned to %(user)s", name=e.name, user=self.env.user.name
            ),
        )
        return True

    def action_resolve(self, reason=None):
        """Close as resolved. Without a reason (button), opens the dialog that asks for one."""
        reason = reason or self.env.context.get("logistics_resolution_reason")
        if not reason:
            return self._open_close_wizard("resolve")
        return self._close("resolved", reason)

    def action_ignore(self, reason=None):
        """Close without fixing (e.g. a known, harmless partner quirk), with a reason."""
        reason = reason or self.env.context.get("logistics_resolution_reason")
        if not reason:
            return self._open_close_wizard("ignore")
        return self._close("ignored", reason)

    def _open_close_wizard(self, mode):
        self._check_open(self.env._("Resolving") if mode == "resolve" else self.env._("Ignoring"))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Exceptions")
            if mode == "resolve"
            else self.env._("Ignore Exceptions"),
            "res_model": "logistics.exception.resolve",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_exception_ids": [(6, 0, self.ids)],
                "default_mode": mode,
            },
        }

    def _close(self, state, reason):
        reason = (reason or "").strip()
        if not reason:
            raise UserError(
                self.env._("Say why in the reason field: it tells the next person what was done.")
            )
        self.check_access("write")
        exceptions = self._check_open(
            self.env._("Resolving") if state == "resolved" else self.env._("Ignoring")
        )
        now = fields.Datetime.now()
        # sudo: the status is not writable directly (see write()); access checked above.
        exceptions.sudo().write(
            {
                "state": state,
                "resolution_reason": reason,
                "resolved_by": self.env.uid,
                "resolved_at": now,
            }
        )
        for exception in exceptions:
            activities = exception.activity_ids.sudo()
            if activities:
                activities.action_feedback(feedback=reason)
        event = "resolve" if state == "resolved" else "ignore"
        exceptions._audit(
            event,
            lambda e: (
                self.env._("Exception %(name)s resolved: %(reason)s", name=e.name, reason=reason)
                if state == "resolved"
                else self.env._(
                    "Exception %(name)s ignored: %(reason)s", name=e.name, reason=reason
                )
            )[:250],
            {"reason": reason},
        )
        return True

    def action_reopen(self):
        """Open a resolved or ignored exception again (the problem came back, or it was closed
        by mistake): back to New with its team and assignee, audited. The previous
        resolution stays in the chatter (tracked fields) and the audit log."""
        self.check_access("write")
        closed = self.filtered(lambda e: e.state in EXCEPTION_CLOSED_STATES)
        if not closed:
            raise UserError(self.env._("Only resolved or ignored exceptions can be reopened."))
        for exception in closed:
            twin = exception.dedup_key and self._find_open(
                exception.company_id, exception.dedup_key
            )
            if twin:
                raise UserError(
                    self.env._(
                        "The same problem is open again as %(open)s: work on that one instead "
                        "of reopening %(name)s.",
                        open=twin.name,
                        name=exception.name,
                    )
                )
            previous = exception.state
            # sudo: the status is not writable directly (see write()); access checked above.
            exception.sudo().write(
                {
                    "state": "new",
                    "resolution_reason": False,
                    "resolved_by": False,
                    "resolved_at": False,
                }
            )
            exception._notify_assignee()
            exception._audit(
                "reopen",
                lambda e, user=self.env.user: self.env._(
                    "Exception %(name)s reopened by %(user)s", name=e.name, user=user.name
                )[:250],
                {"state": "new", "previous_state": previous},
            )
        return True

    def action_add_mapping(self):
        """The next step of a missing mapping: the mapping form, filled with the partner, the
        type and the value that was missing; the person types the other side and saves, then
        retries the message."""
        self.ensure_one()
        if not self.can_add_mapping:
            raise UserError(
                self.env._(
                    "This exception does not say which mapping is missing: add it in Logistics > "
                    "Configuration > Mappings."
                )
            )
        step = self.next_step
        value_key = (
            "default_partner_value" if step.get("side") == "partner" else "default_odoo_value"
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Add Mapping"),
            "res_model": "logistics.mapping",
            "view_mode": "form",
            "views": [
                (self.env.ref("logistics_connector_base.logistics_mapping_view_form").id, "form")
            ],
            "target": "new",
            "context": {
                "default_backend_id": self.backend_id.id,
                "default_mapping_type": step["mapping_type"],
                value_key: step.get("value") or False,
            },
        }

    def _check_messages(self, action_label):
        without = self.filtered(lambda e: not e.message_id)
        if without:
            raise UserError(
                self.env._(
                    "%(action)s needs the message that failed, but %(names)s is not linked to a "
                    "message. Fix the cause in the document or the configuration, then resolve "
                    "the exception.",
                    action=action_label,
                    names=", ".join(without[:3].mapped("name")),
                )
            )

    def action_retry(self):
        """Send or process the failed message again (operations staff)."""
        self._check_messages(self.env._("Retry"))
        result = self.message_id.action_retry()
        self._after_message_action(self.env._("Retry requested"))
        return result

    def action_replay(self):
        """Process the message once more with the exact stored payload (managers)."""
        self._check_messages(self.env._("Replay"))
        result = self.message_id.action_replay()
        self._after_message_action(self.env._("Replay requested"))
        return result

    def _after_message_action(self, text):
        self.check_access("write")
        for exception in self:
            if exception.state == "new":
                values = {"state": "in_progress"}
                if not exception.user_id:
                    values["user_id"] = self.env.uid
                exception.sudo().write(values)
            exception.message_post(
                body=self.env._(
                    "%(text)s for %(message)s by %(user)s.",
                    text=text,
                    message=exception.message_id.name,
                    user=self.env.user.name,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def action_open_document(self):
        self.ensure_one()
        document = self._get_document()
        if not document:
            raise UserError(self.env._("This exception is not linked to a document."))
        document.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": document._name,
            "res_id": document.id,
            "view_mode": "form",
        }

    def action_open_message(self):
        self.ensure_one()
        if not self.message_id:
            raise UserError(self.env._("This exception is not linked to a message."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "logistics.message",
            "res_id": self.message_id.id,
            "view_mode": "form",
        }

    @api.model
    def _resolve_for_messages(self, messages, reason):
        """Close the open exceptions of ``messages`` (e.g. once a retry succeeded)."""
        exceptions = self.sudo().search(
            [("message_id", "in", messages.ids), ("state", "in", EXCEPTION_OPEN_STATES)]
        )
        if exceptions:
            exceptions._close("resolved", reason)
        return exceptions


def _human_duration(env, hours):
    minutes = round(hours * 60)
    if minutes < 60:
        return env._("%(minutes)s min", minutes=minutes)
    if minutes < 48 * 60:
        return env._("%(hours)s h %(minutes)02d", hours=minutes // 60, minutes=minutes % 60)
    days, rest = divmod(minutes // 60, 24)
    return env._("%(days)s d %(hours)s h", days=days, hours=rest)
