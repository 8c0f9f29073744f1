import base64
import hashlib
import json
import logging
import re
import time
import uuid
from datetime import timedelta
from typing import NamedTuple

import psycopg2

from odoo import api, fields, models
from odoo.addons.queue_job.job import STARTED
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY
from odoo.tools import SQL, mute_logger
from odoo.tools.sql import create_index

from ..const import (
    CRON_BATCH,
    EXCEPTION_OPEN_STATES,
    EXCEPTION_TITLE_MAX,
    FLOW_SELECTION,
    LIGHT_INBOUND_FLOWS,
    MAPPING_TYPES,
    MESSAGE_OPEN_STATES,
    MESSAGE_PREFIX,
    RATE_LIMIT_MAX_SLEEP,
)
from ..lib import canonical
from ..lib.errors import (
    DocumentValidationError,
    InternalError,
    LogisticsError,
)
from ..lib.masking import mask_mapping, mask_secrets
from ..lib.retry import RetryPolicy, decide_after_failure, stop_decision
from .db_tools import autonomous_cursor, probe_unique_conflict

_logger = logging.getLogger(__name__)
# The digits of a document number searched for (see _condition_to_sql): enough of them to
# pick few messages.
REFERENCE_DIGITS = re.compile(r"\d{4,}")
# What a job reads of its partner's own settings (with every field a partner addon adds, see
# _process): the partner's other settings (dozens of columns) are not read for every message.
JOB_BACKEND_FIELDS = [
    "name",
    "code",
    "company_id",
    "environment",
    "adapter",
    "api_version",
    "channel_name",
    "connect_timeout",
    "read_timeout",
    "max_attempts",
    "backoff_base",
    "backoff_cap",
    "backoff_jitter",
    "breaker_state",
    "breaker_failures",
    "breaker_threshold",
    "last_success_at",
    "rate_limit",
]


class SyncOutcome(NamedTuple):
    """What a synchronous exchange came to: ``state`` done (``answer`` holds the partner's
    answer), retry/queued (the job queue finishes it), failed or dead (``error`` says why)."""

    state: str
    answer: dict | list | None
    error: str | None
    message_id: int
    external_id: str | None

    @property
    def done(self):
        return self.state == "done"


class LogisticsMessage(models.Model):
    """One exchange with a partner, in or out: the unit of delivery, retry and replay."""

    _name = "logistics.message"
    _inherit = ["logistics.document.link"]
    _description = "Logistics Message"
    # No chatter: messages are high-volume records; people discuss on exceptions. The history
    # of a message is its attempts and its audit entries.
    _order = "id desc"

    name = fields.Char(compute="_compute_name", search="_search_name")
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    flow = fields.Selection(FLOW_SELECTION, required=True, readonly=True, index=True)
    direction = fields.Selection(
        [("outbound", "Outbound"), ("inbound", "Inbound")], required=True, readonly=True
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("queued", "Queued"),
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("retry", "Waiting to Retry"),
            ("failed", "Failed"),
            ("dead", "Dead"),
            ("cancelled", "Cancelled"),
            ("duplicate", "Duplicate"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
        copy=False,
        help="State changes are recorded in the audit log and the attempts, not in the chatter: "
        "a busy partner would flood it.",
    )
    correlation_id = fields.Char(
        readonly=True,
        index=True,
        help="Born with the business transaction; carried by every message, job, exception, "
        "audit entry and outgoing request (X-Correlation-ID) of that story.",
    )
    idempotency_key = fields.Char(
        required=True,
        readonly=True,
        help="Unique per partner, direction and flow: the same exchange is never made twice. "
        "Sent to the partner as Idempotency-Key.",
    )
    reference = fields.Char(
        readonly=True,
        # Trigram: people search references by a part of them ("OUT/0042").
        index="trigram",
        help="Reference of the document carried (e.g. WH/OUT/00042).",
    )
    external_id = fields.Char(
        string="Partner Reference", readonly=True, index=True, help="The partner's id for it."
    )
    res_model = fields.Char(string="Document Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Document ID", model_field="res_model", readonly=True)
    document_schema = fields.Char(readonly=True, help="Canonical schema, e.g. order_release/1.")
    canonical_payload = fields.Json(readonly=True, copy=False)
    canonical_text = fields.Text(compute="_compute_payload_texts", string="Canonical Document")
    # Stored in the row, not the filestore: the raw payload commits atomically with its message
    # (a filestore write is not transactional) and intake costs one INSERT.
    wire_request = fields.Binary(attachment=False, readonly=True, copy=False)
    wire_response = fields.Binary(attachment=False, readonly=True, copy=False)
    wire_headers = fields.Json(readonly=True, copy=False, help="Headers, secrets masked.")
    wire_request_text = fields.Text(compute="_compute_payload_texts", string="Sent / Received")
    wire_response_text = fields.Text(compute="_compute_payload_texts", string="Answer")
    wire_headers_text = fields.Text(compute="_compute_payload_texts", string="Headers")
    response_payload = fields.Json(
        readonly=True,
        copy=False,
        help="The partner's answer to an outbound message as its adapter returned it (e.g. "
        "the tracking number and label of a shipment).",
    )
    content_hash = fields.Char(readonly=True, index=True, copy=False)
    attempts = fields.Integer(readonly=True, copy=False, help="Attempts made so far.")
    attempt_floor = fields.Integer(
        readonly=True,
        copy=False,
        help="Attempt records that came before the last manual retry or replay: attempts are "
        "counted from there.",
    )
    max_attempts = fields.Integer(
        readonly=True, help="After this many failed attempts the message is dead."
    )
    next_attempt_at = fields.Datetime(
        readonly=True, copy=False, help="When the next attempt is scheduled (backoff)."
    )
    error_class = fields.Selection(
        [
            ("transient", "Transient"),
            ("business", "Business"),
            ("configuration", "Configuration"),
            ("validation", "Validation"),
            ("mapping", "Missing Mapping"),
            ("internal", "Internal Error"),
        ],
        readonly=True,
        copy=False,
        help="Transient errors are retried with backoff; the others need a person.",
    )
    error_message = fields.Text(readonly=True, copy=False)
    job_uuid = fields.Char(
        string="Current Job",
        readonly=True,
        copy=False,
        index=True,
        help="The queue_job job that processes this message next; older jobs step aside.",
    )
    job_state = fields.Char(compute="_compute_job_state")
    parent_id = fields.Many2one("logistics.message", readonly=True, index=True)
    child_ids = fields.One2many("logistics.message", "parent_id", readonly=True)
    exception_ids = fields.One2many("logistics.exception", "message_id", readonly=True)
    needs_person = fields.Boolean(
        compute="_compute_needs_person",
        store=True,
        help="Failed or dead, and not handled yet: no exception of it, or one still open. The "
        "overview counts these, from an index of these alone.",
    )
    exception_count = fields.Integer(compute="_compute_exception_count")
    attempt_ids = fields.One2many("logistics.message.attempt", "message_id", readonly=True)
    queued_at = fields.Datetime(readonly=True, copy=False)
    done_at = fields.Datetime(readonly=True, copy=False)
    latency = fields.Float(
        string="Latency (s)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="From creation to done; reports show its average.",
    )
    acknowledged = fields.Boolean(readonly=True, copy=False)
    ack_due_at = fields.Datetime(
        readonly=True, copy=False, help="When the partner's acknowledgement becomes overdue."
    )
    ack_overdue_raised = fields.Boolean(readonly=True, copy=False)

    _sql_constraints = [
        (
            "idempotency_uniq",
            "unique(backend_id, direction, flow, idempotency_key)",
            "This exchange already exists for this partner (same idempotency key).",
        )
    ]

    def init(self):
        # Databases made before the reference index became a trigram one keep their btree
        # index under the same name, and Odoo never replaces an existing index: drop it, and
        # the registry's index check right after creates the trigram index.
        self.env.cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'logistics_message__reference_index'"
        )
        row = self.env.cr.fetchone()
        if row and " gin " not in row[0].lower() and self.env.registry.has_trigram:
            self.env.cr.execute("DROP INDEX logistics_message__reference_index")
        # The trigram index serves the search box's "contains"; an exact reference (a link, a
        # partner's event, "=" in a filter) is one btree probe instead of a trigram scan.
        create_index(self.env.cr, "logistics_message_reference_eq_idx", self._table, ["reference"])
        # A business document's smart buttons look its messages up by (model, id).
        create_index(
            self.env.cr,
            "logistics_message_document_idx",
            self._table,
            ["res_model", "res_id"],
            where="res_id IS NOT NULL",
        )
        # The overdue-acknowledgement cron reads only the few messages still waiting for one.
        create_index(
            self.env.cr,
            "logistics_message_ack_pending_idx",
            self._table,
            ["ack_due_at"],
            where="direction = 'outbound' AND state = 'done' AND acknowledged IS NOT TRUE "
            "AND ack_overdue_raised IS NOT TRUE AND ack_due_at IS NOT NULL",
        )
        # The overview counts open and failed messages per partner from this index alone.
        create_index(
            self.env.cr,
            "logistics_message_backend_attention_idx",
            self._table,
            ["backend_id", "state"],
            where="state IN ('pending', 'queued', 'in_progress', 'retry', 'failed', 'dead')",
        )
        # The overview's "failed" and "dead" counts: the few messages waiting for a person.
        create_index(
            self.env.cr,
            "logistics_message_needs_person_idx",
            self._table,
            ["backend_id", "state"],
            where="needs_person",
        )
        # The recovery cron reads only open messages, oldest change first.
        create_index(
            self.env.cr,
            "logistics_message_open_idx",
            self._table,
            ["write_date"],
            where="state IN ('pending', 'queued', 'in_progress', 'retry')",
        )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("correlation_id", new_correlation_id())
        return super().create(vals_list)

    def _condition_to_sql(self, alias, fname, operator, value, query):
        # A document number's letters (WH/OUT/) are shared by most messages: their trigrams
        # match most rows, and the trigram index reads every one of them. Its digits pick the
        # few: the index is asked for them alone, and the whole value is checked on the rows
        # found (the "|| ''" keeps the planner from asking the index for it too).
        if fname == "reference" and operator == "ilike" and isinstance(value, str):
            digits = max(REFERENCE_DIGITS.findall(value), key=len, default=value)
            if digits != value:
                column = self._field_to_sql(alias, fname, query)
                unaccent = self.env.registry.unaccent
                return SQL(
                    "(%s ILIKE %s AND %s ILIKE %s)",
                    unaccent(column),
                    unaccent(SQL("%s", f"%{digits}%")),
                    unaccent(SQL("(%s || '')", column)),
                    unaccent(SQL("%s", f"%{value}%")),
                )
        return super()._condition_to_sql(alias, fname, operator, value, query)

    # The name derives from the id: no sequence round-trip on the hot path (webhook intake).
    def _compute_name(self):
        for message in self:
            message.name = f"{MESSAGE_PREFIX}{message.id:07d}" if message.id else "/"

    def _search_name(self, operator, value):
        if operator not in ("=", "ilike", "like", "!=", "not ilike", "in"):
            return [("id", "=", 0)]
        if operator == "in":
            ids = [_id_from_name(item) for item in value]
            return [("id", "in", [i for i in ids if i])]
        message_id = _id_from_name(value)
        positive = operator in ("=", "ilike", "like")
        if not message_id:
            return [("id", "=", 0)] if positive else []
        return [("id", "=" if positive else "!=", message_id)]

    # ------------------------------------------------------------------------------------------
    # Computed
    # ------------------------------------------------------------------------------------------
    def _compute_payload_texts(self):
        # The web client reads with bin_size=True, which gives binary fields as their size
        # ("123 bytes"): the texts are made from the content.
        for message in self.with_context(bin_size=False):
            message.canonical_text = (
                json.dumps(message.canonical_payload, indent=2, ensure_ascii=False)
                if message.canonical_payload
                else False
            )
            message.wire_request_text = _bytes_to_text(message.wire_request)
            message.wire_headers_text = (
                json.dumps(message.wire_headers, indent=2, ensure_ascii=False)
                if message.wire_headers
                else False
            )
            message.wire_response_text = _bytes_to_text(message.wire_response)

    def _compute_job_state(self):
        jobs = self.env["queue.job"].sudo().search([("uuid", "in", self.mapped("job_uuid"))])
        state_by_uuid = {job.uuid: job.state for job in jobs}
        for message in self:
            message.job_state = state_by_uuid.get(message.job_uuid, False)

    @api.depends("state", "exception_ids.state")
    def _compute_needs_person(self):
        for message in self:
            # Most messages never fail: their exceptions are not even read.
            message.needs_person = message.state in ("failed", "dead") and (
                not message.exception_ids
                or any(e.state in ("new", "in_progress") for e in message.exception_ids)
            )

    def _compute_exception_count(self):
        counts = dict(
            self.env["logistics.exception"]
            .sudo()
            ._read_group([("message_id", "in", self.ids)], ["message_id"], ["__count"])
        )
        for message in self:
            message.exception_count = counts.get(message, 0)

    def _raw_payload(self):
        """The inbound payload exactly as the partner sent it."""
        self.ensure_one()
        return base64.b64decode(self.with_context(bin_size=False).wire_request or b"")

    # ------------------------------------------------------------------------------------------
    # Creation: outbox (outbound) and raw-first intake (inbound)
    # ------------------------------------------------------------------------------------------
    @api.model
    def _create_outbound(
        self,
        backend,
        flow,
        record=None,
        document=None,
        idempotency_key=None,
        correlation_id=None,
        parent=None,
        enqueue=True,
        new_revision=False,
    ):
        """Write an outbound message in the caller's transaction (transactional outbox) and
        enqueue its job in the same transaction: both exist, or neither does.

        The canonical document is built from ``record`` by the builder registry unless given.
        A build or validation problem still creates the message, failed, with an exception that
        says what to fix; an existing message with the same idempotency key is returned as is,
        unless it was cancelled and ``new_revision`` asks to make the exchange again.
        """
        vals, error = self._outbound_values(
            backend, flow, record, document, idempotency_key, correlation_id, parent
        )
        return self._store_outbound(vals, error, enqueue=enqueue, new_revision=new_revision)

    @api.model
    def _outbound_values(
        self, backend, flow, record, document, idempotency_key, correlation_id, parent=None
    ):
        """The values of an outbound message and the error that stops it, if any: built and
        validated in the caller's transaction (it sees the caller's uncommitted changes)."""
        backend.ensure_one()
        correlation_id = correlation_id or _record_correlation_id(record) or new_correlation_id()
        error = None
        if document is None and record is not None:
            try:
                document = self.env["logistics.builder"]._build(flow, record, backend)
            except LogisticsError as build_error:
                error = build_error
        if document is not None and error is None:
            document.setdefault("correlation_id", correlation_id)
            try:
                canonical.check(document)
            except DocumentValidationError as invalid:
                error = invalid
        key = idempotency_key or _default_outbound_key(flow, record, document)
        vals = {
            "backend_id": backend.id,
            "flow": flow,
            "direction": "outbound",
            "idempotency_key": key,
            "correlation_id": correlation_id,
            "res_model": record._name if record else False,
            "res_id": record.id if record else False,
            "canonical_payload": document,
            "document_schema": (document or {}).get("schema"),
            "reference": (document or {}).get("reference")
            or (record.display_name if record else False),
            "content_hash": _hash_json(document),
            "max_attempts": backend.max_attempts,
            "parent_id": parent.id if parent else False,
        }
        return vals, error

    @api.model
    def _store_outbound(self, vals, error=None, enqueue=True, new_revision=False):
        message, created = self._create_once(vals)
        key = vals["idempotency_key"]
        revision = 1
        while new_revision and not created and message.state == "cancelled":
            # A cancelled exchange may be made again, as a new revision of the same key.
            revision += 1
            vals["idempotency_key"] = f"{key}#{revision}"
            message, created = self._create_once(vals)
        if not created:
            return message
        if error is not None:
            message._fail(error)
        elif enqueue and message.backend_id._flow_mode(vals["flow"], "outbound") == "realtime":
            message._enqueue()
        return message

    @api.model
    def _create_inbound(self, backend, flow, raw, *, headers=None, event_id=None, filename=None):
        """Store an inbound exchange exactly as received, before any parsing, so nothing a
        partner sent can be lost. Dedup on the partner's event id, else on the content hash.
        Returns (message, created)."""
        backend.ensure_one()
        content_hash = hashlib.sha256(raw).hexdigest()
        vals = {
            "backend_id": backend.id,
            # Given, not computed after the insert: one UPDATE less per delivery.
            "company_id": backend.company_id.id,
            "needs_person": False,
            "flow": flow,
            "direction": "inbound",
            "idempotency_key": event_id or content_hash,
            "external_id": filename or event_id or False,
            "wire_request": base64.b64encode(raw),
            "wire_headers": headers or {},
            "content_hash": content_hash,
            "max_attempts": backend.max_attempts,
            "state": "pending",
        }
        batched = self._applied_in_batches_for(backend, flow, "inbound")
        if batched:
            # Born attached to the partner's batch job (a job that ends up with no new
            # message, the delivery being a duplicate, finds nothing to do).
            vals.update(self._batch_job_values(backend, flow))
        # A delivery is new far more often than redelivered: insert first, look up on conflict.
        message, created = self._create_once(vals, search_first=False)
        if created and not batched:
            message._enqueue()
        return message, created

    @api.model
    def _exchange_now(
        self, backend, flow, record=None, document=None, idempotency_key=None, deadline=None
    ):
        """Make an outbound exchange while the user waits (e.g. buy a label in Odoo's
        ``<type>_send_shipping``), and fall back to the job queue when the partner is slow or
        down. Returns a SyncOutcome (state, answer, error, message id).

        The message and its attempt are committed in transactions of their own before the
        partner is called, and its answer right after: when the caller's transaction rolls
        back after the partner answered, the next call with the same idempotency key finds
        the answer instead of buying twice. The document is built here, in the caller's
        transaction, which sees the caller's uncommitted changes."""
        vals, error = self._outbound_values(
            backend, flow, record, document, idempotency_key, correlation_id=None
        )
        deadline = deadline or backend.sync_deadline or 8.0
        with autonomous_cursor(self.env) as cr:
            message_id = self.with_env(self.env(cr=cr))._store_outbound(vals, error, False).id
        with autonomous_cursor(self.env) as cr:
            env = self.env(cr=cr, context=dict(self.env.context, logistics_deadline=deadline))
            message = env["logistics.message"].browse(message_id)
            if message.state in MESSAGE_OPEN_STATES:
                try:
                    message._process()
                except psycopg2.OperationalError as error:
                    if error.pgcode not in PG_CONCURRENCY_ERRORS_TO_RETRY:
                        raise
                    # A job holds the message right now: it finishes the exchange.
                    cr.rollback()
            outcome = SyncOutcome(
                message.state,
                message.response_payload,
                message.error_message,
                message.id,
                message.external_id,
            )
        return outcome

    @api.model
    def _create_once(self, vals, search_first=True):
        """Insert, or return the existing message with the same idempotency key. The unique
        index decides, so two concurrent transactions can never both create it. Without
        ``search_first`` the insert is tried at once (cheaper when a duplicate is rare)."""
        domain = [
            ("backend_id", "=", vals["backend_id"]),
            ("direction", "=", vals["direction"]),
            ("flow", "=", vals["flow"]),
            ("idempotency_key", "=", vals["idempotency_key"]),
        ]
        existing = self.sudo().search(domain, limit=1) if search_first else None
        if existing:
            return existing, False
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                quiet = self.sudo().with_context(
                    mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
                )
                return self.sudo().browse(quiet.create(vals).id), True
        except psycopg2.errors.UniqueViolation:
            existing = self.sudo().search(domain, limit=1)
            if existing:
                return existing, False
            # Committed by another transaction after our snapshot: the probe turns this into a
            # serialization failure, retried by Odoo and queue_job with a snapshot that sees it.
            key = {field: vals[field] for field in ("backend_id", "direction", "flow")}
            key["idempotency_key"] = vals["idempotency_key"]
            if probe_unique_conflict(
                self.env.cr,
                "logistics_message",
                {**key, "state": "pending"},
                ["backend_id", "direction", "flow", "idempotency_key"],
            ):
                return self._create_once(vals)  # the other transaction rolled back
            return self.sudo().search(domain, limit=1), False

    # ------------------------------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------------------------------
    def _enqueue(self, eta=None):
        if not eta:
            light = self.filtered(lambda m: m._applied_in_batches())
            light._enqueue_batches()
            self -= light
        for message in self:
            job = message.with_delay(
                channel=message.backend_id.channel_name,
                eta=timedelta(seconds=eta) if eta else None,
                description=f"{message.name}: {message.flow} {message.direction} "
                f"[{message.correlation_id}]",
                identity_key=f"logistics.message:{message.id}:{message.attempts}:{eta or ''}",
                max_retries=0,
            )._process()
            message.write(
                {
                    "state": "queued" if not eta else message.state,
                    "job_uuid": job.uuid if job else message.job_uuid,
                    "queued_at": fields.Datetime.now(),
                    "next_attempt_at": _eta_datetime(eta),
                }
            )

    def _applied_in_batches(self):
        return self._applied_in_batches_for(self.backend_id, self.flow, self.direction)

    @api.model
    def _applied_in_batches_for(self, backend, flow, direction):
        """Light inbound events (acknowledgements, tracking events) are local work of a few
        milliseconds: one job per event would cost more than the event."""
        return (
            direction == "inbound"
            and flow in LIGHT_INBOUND_FLOWS
            and backend.inbound_batch_size > 1
        )

    def _enqueue_batches(self, continuation=False):
        """Give the messages to one batch job per partner and flow: the pending one if there
        is one (its identity key), else a new one (always a new one to continue a batch)."""
        for (backend, flow), messages in self.grouped(lambda m: (m.backend_id, m.flow)).items():
            messages.write(self._batch_job_values(backend, flow, continuation))

    @api.model
    def _batch_job_values(self, backend, flow, continuation=False):
        """The values that give a message to the partner's batch job of ``flow``."""
        identity_key = f"logistics.batch:{backend.id}:{flow}"
        job_uuid = None
        if not continuation:
            # queue_job's own identity-key lookup, in one query instead of a search and a
            # read of the whole job: this runs for every light webhook delivery.
            self.env.cr.execute(
                "SELECT uuid FROM queue_job WHERE identity_key = %s"
                " AND state IN ('wait_dependencies', 'pending', 'enqueued')"
                " ORDER BY date_created DESC LIMIT 1",
                (identity_key,),
            )
            row = self.env.cr.fetchone()
            job_uuid = row and row[0]
        if not job_uuid:
            job_uuid = (
                self.browse()
                .with_delay(
                    channel=backend.channel_name,
                    description=f"{backend.name}: apply {flow} events",
                    identity_key=None if continuation else identity_key,
                    max_retries=0,
                )
                ._process_batch(backend.id, flow)
                .uuid
            )
        return {
            "state": "queued",
            "job_uuid": job_uuid,
            "queued_at": fields.Datetime.now(),
            "next_attempt_at": False,
        }

    @api.model
    def _process_batch(self, backend_id, flow):
        """The batch job: up to the partner's batch size of the messages given to this job,
        locked together and their attempts recorded together (one side transaction), then
        applied together in one savepoint (_apply_together); if anything in it fails, each
        attempt again in a savepoint of its own (_attempt), so one bad event fails alone.
        What is left is handed to a new batch job. A database concurrency error fails the
        whole job, which queue_job runs again (its attempts count: they were committed)."""
        job_uuid = self.env.context.get("job_uuid")
        backend = self.env["logistics.backend"].browse(backend_id)
        domain = [
            ("backend_id", "=", backend_id),
            ("flow", "=", flow),
            ("direction", "=", "inbound"),
            ("state", "=", "queued"),
            ("job_uuid", "=", job_uuid),
        ]
        size = max(backend.inbound_batch_size, 1)
        messages = self.sudo().search(domain, order="id", limit=size + 1)
        batch = messages[:size]
        self.env.cr.execute(
            "SELECT m.id, (SELECT count(*) FROM logistics_message_attempt a"
            " WHERE a.message_id = m.id) FROM logistics_message m"
            " WHERE m.id = ANY(%s) FOR NO KEY UPDATE OF m SKIP LOCKED",
            (batch.ids,),
        )
        held = dict(self.env.cr.fetchall())
        outcomes = {}
        for message in batch.filtered(lambda m: m.id not in held):
            # Someone holds this one (a person's action): it gets a job of its own, later.
            message._enqueue(eta=5)
            outcomes["locked: re-queued alone"] = outcomes.get("locked: re-queued alone", 0) + 1
        started = batch.filtered(lambda m: m.id in held)
        self.env["logistics.message.attempt"]._start(started, job_uuid)
        applied = started._apply_together(backend, held)
        if applied:
            outcomes["done"] = len(applied)
        for message in started - applied:
            outcome = message._process(locked_attempts=held[message.id])
            state = outcome.split(":")[0]
            outcomes[state] = outcomes.get(state, 0) + 1
        if len(messages) > size:
            # Those processed left the domain (done, failed, or re-queued alone for a retry).
            self.sudo().search(domain, order="id")._enqueue_batches(continuation=True)
        return ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items()))

    def _apply_together(self, backend, held):
        """Apply these locked inbound messages in one savepoint, as _process would one by one
        (``held``: their committed attempts before this one), and return those applied: all of
        them, or none if anything failed - they then go through _process one by one. Most
        batches are all good, and one savepoint lets their writes reach the database together
        instead of one flush per event. Messages out of attempts are left to _process."""
        messages = self.filtered(
            lambda m: held[m.id] - m.attempt_floor < (m.max_attempts or backend.max_attempts)
        )
        if not messages:
            return messages
        adapter = backend._get_adapter()
        try:
            with self.env.cr.savepoint():
                references = {}
                for message in messages:
                    correlated = adapter.with_context(
                        logistics_correlation_id=message.correlation_id
                    )
                    references[message] = message._apply_documents(
                        correlated._decode(message), defer_reference=True
                    )
                    message.attempts = held[message.id] + 1 - message.attempt_floor
                    message._mark_done()
                # Written last: a reference written earlier would make every later event's
                # search for its outbound message flush the batch so far.
                for message, reference in references.items():
                    message.reference = reference
        except Exception:  # whatever it was, _process classifies it per message
            _logger.debug("A batch went back to one event at a time", exc_info=True)
            return self.browse()
        return messages

    def _job_store_values_for__process(self, job):
        """queue_job asks this each time it stores a ``_process`` job. When its runner marks the
        job started - in the transaction it commits right before performing the job - the
        attempt is recorded in that same commit: committed before the partner is called (see
        _process) at no transaction of its own. The job's run is told which attempt is its."""
        if job.state == STARTED and len(self) == 1:
            attempt_id = (
                self.env["logistics.message.attempt"].sudo()._start_with_job(self, job.uuid)
            )
            if attempt_id:
                job.recordset = job.recordset.with_context(
                    logistics_job_attempt=(self.id, attempt_id)
                )
        return {}

    def _job_attempt(self):
        """The attempt the job runner recorded for this run (see above), or None."""
        message_id, attempt_id = self.env.context.get("logistics_job_attempt") or (None, None)
        return attempt_id if message_id == self.id else None

    def _process(self, locked_attempts=None):
        """The job: one attempt at one message. It never raises for a failed exchange: the
        outcome is written on the message in this job's transaction, and a retry is a new job
        with an ETA, so attempts and errors are never lost in a rollback. Only database
        concurrency errors propagate, for queue_job to run the job again.

        ``locked_attempts`` (batch jobs): the message is locked and its attempt recorded
        already; the number of committed attempts before this one."""
        self.ensure_one()
        job_attempt = self._job_attempt()
        job_uuid = self.env.context.get("job_uuid")
        if job_uuid and self.job_uuid and job_uuid != self.job_uuid:
            return self._without_call(job_attempt, "superseded: a newer job handles this message")
        if self.state not in MESSAGE_OPEN_STATES:
            return self._without_call(job_attempt, f"nothing to do: message is {self.state}")
        if locked_attempts is None:
            previous_attempts, open_exceptions = self._lock_for_processing(job_attempt)
        else:
            previous_attempts, open_exceptions = locked_attempts, None
        backend = self.backend_id
        backend.fetch(JOB_BACKEND_FIELDS + backend._addon_fields())
        if previous_attempts - self.attempt_floor >= (self.max_attempts or backend.max_attempts):
            # Attempts whose outcome was never written: the worker died in them (time or
            # memory limit, killed). The attempt records are committed before the partner is
            # called, so they count even though each job's own writes were rolled back.
            self._without_call(job_attempt)
            self.attempts = previous_attempts - self.attempt_floor
            return self._settle_failure(self._worker_died_error(previous_attempts))
        # The circuit breaker protects the partner: only requests to it are gated.
        outbound = self.direction == "outbound"
        wait = backend._breaker_wait_seconds() if outbound else 0
        if wait:
            # The partner is down: postpone without burning an attempt.
            self._enqueue(eta=wait)
            return self._without_call(job_attempt, f"circuit breaker open: postponed {int(wait)}s")
        booked, slot = backend._rate_limit_slot(RATE_LIMIT_MAX_SLEEP) if outbound else (True, 0.0)
        if not booked:
            # Not worth holding a worker: come back when a slot is near.
            self._enqueue(eta=slot)
            return self._without_call(job_attempt, f"rate limit: postponed {int(slot)}s")
        if slot:
            time.sleep(slot)
        if locked_attempts is None and not job_attempt:
            self._record_attempt_start()
        # Written with the outcome, in one update: nobody sees this transaction before it
        # commits, and the committed attempt row already tells that an attempt started.
        attempts = previous_attempts + 1 - self.attempt_floor
        error = self._attempt(backend, resend=bool(previous_attempts), attempts=attempts)
        if error is not None:
            self.attempts = attempts
            self._store_exchange(getattr(error, "exchange", None), backend._secret_values())
            if outbound and error.error_class == "transient":
                backend._breaker_record_failure(self._masked(error.message))
            elif outbound and error.error_class == "business":
                # The partner answered (it refused): it is up, whatever the breaker thought.
                backend._breaker_record_success()
            outcome = self._settle_failure(error)
        else:
            if outbound:
                backend._breaker_record_success()
            self._mark_done(written=True, open_exceptions=open_exceptions)
            outcome = "done"
        if job_attempt:
            self.env["logistics.message.attempt"]._finish(
                job_attempt, self.state, self.error_message
            )
        return outcome

    def _without_call(self, job_attempt, outcome=None):
        """The job ends without calling the partner: the attempt its runner recorded is no
        attempt."""
        if job_attempt:
            self.env["logistics.message.attempt"]._discard(job_attempt)
        return outcome

    def _attempt(self, backend, resend, attempts):
        """Call the adapter in a savepoint (a failed attempt leaves no partial business effect
        behind). Returns None when it went through, with the message done (``attempts`` and
        the done state written with what the adapter wrote, in one update), else the
        classified error."""
        try:
            with self.env.cr.savepoint():
                adapter = backend._get_adapter().with_context(
                    logistics_correlation_id=self.correlation_id
                )
                if self.direction == "outbound":
                    self._ensure_document()
                    answer = adapter._send(
                        self, resend=resend or self._earlier_revision_attempted()
                    )
                    if isinstance(answer, dict | list):
                        self.response_payload = answer
                else:
                    self._apply_documents(adapter._decode(self))
                self.write({**self._done_values(), "attempts": attempts})
        except LogisticsError as error:
            return error
        except (UserError, ValidationError) as error:
            # Our builder or applier refused the document in plain words: a person must look.
            return DocumentValidationError(str(error))
        except psycopg2.OperationalError as error:
            if error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                raise
            return self._unexpected(error)
        except Exception as error:  # a bug must not loop: it burns attempts up to dead
            return self._unexpected(error)
        return None

    def _unexpected(self, error):
        text = self._masked(str(error))[:300]
        # The text is masked; the traceback (code lines only) helps whoever fixes the bug.
        _logger.error("Unexpected error while processing %s: %s", self.name, text)
        _logger.debug("Traceback of the unexpected error", exc_info=True)
        return InternalError(
            self.env._(
                "Unexpected error (%(kind)s): %(error)s. It is retried with backoff; if it "
                "keeps failing, report it with this message's name.",
                kind=type(error).__name__,
                error=text,
            )
        )

    def _earlier_revision_attempted(self):
        """A new revision of a cancelled exchange asks the partner first when an earlier one
        was tried: it may have landed."""
        base_key = self.idempotency_key.split("#")[0]
        if base_key == self.idempotency_key:
            return False
        return bool(
            self.sudo().search_count(
                [
                    ("backend_id", "=", self.backend_id.id),
                    ("direction", "=", self.direction),
                    ("flow", "=", self.flow),
                    ("id", "!=", self.id),
                    ("attempts", ">", 0),
                    "|",
                    ("idempotency_key", "=", base_key),
                    ("idempotency_key", "=like", f"{base_key}#%"),
                ],
                limit=1,
            )
        )

    def _lock_for_processing(self, job_attempt=None):
        """One transaction at a time works on a message. If someone else holds it (a manager's
        action, an applier acknowledging it), the lock error makes queue_job run this job again
        a few seconds later. Returns, read with the lock, the number of committed attempts
        (but ``job_attempt``, this run's own) and whether the message has open exceptions."""
        try:
            self.env.cr.execute(
                "SELECT (SELECT count(*) FROM logistics_message_attempt a"
                " WHERE a.message_id = m.id AND a.id IS DISTINCT FROM %s),"
                " EXISTS (SELECT 1 FROM logistics_exception e"
                " WHERE e.message_id = m.id AND e.state IN %s)"
                " FROM logistics_message m WHERE m.id = %s FOR NO KEY UPDATE OF m NOWAIT",
                (job_attempt, EXCEPTION_OPEN_STATES, self.id),
            )
        except psycopg2.errors.LockNotAvailable:
            if job_attempt:
                # The job's transaction is rolled back: its attempt (committed) is no attempt.
                self.env["logistics.message.attempt"]._discard(job_attempt, now=True)
            raise
        return self.env.cr.fetchone()

    def _ensure_document(self):
        """The canonical document to send: the stored one if it is valid, else built anew from
        the business record (after a mapping or an address was fixed, a retry rebuilds it).
        Validated here, before anything goes out."""
        record = self._get_document()
        if self.canonical_payload:
            try:
                return canonical.check(self.canonical_payload)
            except DocumentValidationError:
                if not record:
                    raise
        if not record:
            raise DocumentValidationError(
                self.env._("%(name)s has no document to send.", name=self.name)
            )
        document = self.env["logistics.builder"]._build(self.flow, record, self.backend_id)
        document.setdefault("correlation_id", self.correlation_id)
        canonical.check(document)
        self.write(
            {
                "canonical_payload": document,
                "document_schema": document.get("schema"),
                "reference": document.get("reference") or self.reference,
                "content_hash": _hash_json(document),
            }
        )
        return document

    def _masked(self, text):
        return mask_secrets(text, self.backend_id._secret_values()) if text else text

    def _apply_documents(self, documents, defer_reference=False):
        """Validate then apply each decoded canonical document, in order. All of them are kept
        on the message: one document as itself, several as a list. With ``defer_reference``
        the message's reference is returned for the caller to write, not written."""
        applier = self.env["logistics.applier"]
        for document in documents:
            canonical.check(document)
        first = documents[0] if documents else {}
        self.write(
            {
                "canonical_payload": first if len(documents) == 1 else documents,
                "document_schema": ", ".join(sorted({d.get("schema") for d in documents})),
                "correlation_id": first.get("correlation_id") or self.correlation_id,
            }
        )
        for document in documents:
            applier._apply(self, document)
        # After the appliers: they search messages by reference, and a reference written
        # before would be flushed for each of them (one UPDATE per event of a batch).
        reference = _document_reference(first) or self.reference
        if defer_reference:
            return reference
        self.reference = reference
        return reference

    def _mark_done(self, written=False, open_exceptions=None):
        """The message went through. ``written``: its done values (_done_values) are written
        already; ``open_exceptions``: whether it has open exceptions, if known."""
        if open_exceptions is None:
            open_exceptions = bool(self.exception_ids)
        if open_exceptions:
            # A message that got through after a failure closes the exceptions it had opened.
            self.env["logistics.exception"]._resolve_for_messages(
                self, self.env._("%(name)s went through on a later attempt.", name=self.name)
            )
        if not written:
            self.write(self._done_values())
        self._audit(
            "send" if self.direction == "outbound" else "receive",
            self.env._("%(name)s %(flow)s done", name=self.name, flow=self.flow),
            {"attempts": self.attempts, "external_id": self.external_id},
        )

    def _done_values(self):
        now = fields.Datetime.now()
        # Only what we send is acknowledged by the partner.
        ack_minutes = (
            self.backend_id._flow_settings(self.flow, self.direction).ack_expected_minutes
            if self.direction == "outbound" and not self.acknowledged
            else 0
        )
        return {
            "ack_due_at": now + timedelta(minutes=ack_minutes) if ack_minutes else self.ack_due_at,
            # A replay is acknowledged anew: its lateness is detected anew too.
            "ack_overdue_raised": False,
            "state": "done",
            "done_at": now,
            "latency": (now - self.create_date).total_seconds(),
            "error_class": False,
            "error_message": False,
            "next_attempt_at": False,
        }

    def _retry_policy(self):
        backend = self.backend_id
        return RetryPolicy(
            self.max_attempts or backend.max_attempts,
            backend.backoff_base,
            backend.backoff_cap,
            backend.backoff_jitter,
        )

    def _settle_failure(self, error):
        """Apply to this message what lib.retry decides about its failed attempt: a retry job
        with an ETA, or a stop with an exception for a person."""
        decision = decide_after_failure(
            _error_class(error),
            self.attempts,
            self._retry_policy(),
            retry_after=error.retry_after,
            direction=self.direction,
        )
        if decision.state == "retry":
            return self._schedule_retry(error, decision.delay)
        return self._fail(error, decision)

    def _schedule_retry(self, error, delay):
        text = self._masked(error.message)
        self.write({"state": "retry", "error_class": error.error_class, "error_message": text})
        self._enqueue(eta=delay)
        self._audit_state(
            self.env._("%(name)s will retry in %(delay)ss", name=self.name, delay=int(delay)),
            text,
        )
        return f"{error.error_class} error, retry in {int(delay)}s: {text}"

    def _fail(self, error, decision=None):
        """Stop the message and give a person a work item that says what to fix. Without a
        ``decision`` (an error found before any attempt) the message fails at once."""
        error_class = _error_class(error)
        decision = decision or stop_decision(error_class, self.direction)
        dead = decision.dead
        text = self._masked(error.message)
        self.write(
            {
                "state": "dead" if dead else "failed",
                "error_class": error_class,
                "error_message": text,
                "next_attempt_at": False,
            }
        )
        if dead and error_class == "internal":
            summary = self.env._(
                "%(name)s gave up after %(attempts)s attempts: unexpected error",
                name=self.name,
                attempts=self.attempts,
            )
            description = self.env._(
                "Every attempt hit an unexpected error (a bug, or data the connector does not "
                "handle): %(error)s\nReport it with this message's name; once fixed, use Retry.",
                error=text,
            )
        elif dead:
            summary = self.env._(
                "%(name)s gave up after %(attempts)s attempts",
                name=self.name,
                attempts=self.attempts,
            )
            description = self.env._(
                "Every attempt failed; the last error was: %(error)s\nWhen the partner works "
                "again, use Retry: the same message is sent with the same idempotency key.",
                error=text,
            )
        else:
            summary = self.env._("%(name)s failed: %(error)s", name=self.name, error=text)
            description = text
            errors = getattr(error, "errors", None)
            if errors:
                description += "\n" + "\n".join(f"- {line}" for line in errors)
        self._audit_state(summary[:250], text)
        self.env["logistics.exception"].raise_exception(
            decision.exception_type,
            self._exception_title(error, text, dead),
            self._masked(description),
            backend=self.backend_id,
            message=self,
            record=self._get_document(),
            severity="high" if dead else None,
            correlation_id=self.correlation_id,
            next_step=self._exception_next_step(error),
        )
        return f"{self.state}: {text}"

    def _exception_title(self, error, text, dead):
        """The exception's title as people scan it: the problem first, the message's name
        last (it stays on the exception's Message field), at most EXCEPTION_TITLE_MAX
        characters."""
        mapping_type = getattr(error, "mapping_type", None)
        if mapping_type and not dead:
            label = dict(MAPPING_TYPES).get(mapping_type, mapping_type)
            problem = self.env._(
                "Missing %(type)s mapping for '%(value)s'",
                type=label,
                value=getattr(error, "value", None),
            )
        elif dead:
            # The last error says what it was (an unexpected error names itself).
            problem = self.env._(
                "Gave up after %(attempts)s attempts: %(error)s",
                attempts=self.attempts,
                error=_first_sentence(text),
            )
        else:
            problem = _first_sentence(text)
        return _shorten(problem, EXCEPTION_TITLE_MAX - len(self.name) - 3) + f" ({self.name})"

    def _exception_next_step(self, error):
        """What a person can do in one click about this error, stored on its exception: a
        missing mapping names its type, value and side (Add Mapping opens it prefilled)."""
        mapping_type = getattr(error, "mapping_type", None)
        if not mapping_type:
            return None
        value = getattr(error, "value", None)
        side = getattr(error, "side", None) or (
            "partner" if self.direction == "inbound" else "odoo"
        )
        return {
            "action": "add_mapping",
            "mapping_type": mapping_type,
            "value": value if value is None else str(value),
            "side": side,
        }

    def _audit_state(self, summary, error_text=None):
        self._audit(
            "state_change",
            summary,
            {"state": self.state, "attempts": self.attempts, "error": error_text},
        )

    def _audit(self, event, summary, details=None):
        self.env["logistics.audit.log"].record(
            event,
            summary,
            backend=self.backend_id,
            message=self,
            correlation_id=self.correlation_id,
            details=details,
            defer=True,
        )

    def _committed_attempts(self):
        """Attempt records of this message, committed whatever became of their jobs."""
        self.ensure_one()
        return self.env["logistics.message.attempt"]._count_for(self)

    def _worker_died_error(self, previous_attempts):
        unfinished = self.env["logistics.message.attempt"]._count_for(self, unfinished=True)
        return InternalError(
            self.env._(
                "%(count)s of %(total)s attempts never finished: the worker processing this "
                "message stopped (time limit, memory limit or killed). Check the server log "
                "around the attempts' start times, then use Retry.",
                count=unfinished,
                total=previous_attempts - self.attempt_floor,
            )
        )

    def _record_attempt_start(self):
        """Record the attempt in its own committed transaction before talking to the partner:
        if this worker dies mid-call, the next attempt knows a request may have landed and asks
        the partner first instead of sending a duplicate, and the attempt counts toward the
        limit."""
        self.ensure_one()
        job_uuid = self.env.context.get("job_uuid") or self.job_uuid
        self.env["logistics.message.attempt"]._start(self, job_uuid)

    def _store_exchange(self, exchange, secrets):
        """Archive what went over the wire, secrets masked."""
        if not exchange:
            return
        request = exchange.get("request") or {}
        response = exchange.get("response") or {}
        self.write(
            {
                "wire_request": _to_base64(mask_secrets(request.get("body"), secrets)),
                "wire_response": _to_base64(mask_secrets(response.get("body"), secrets)),
                "wire_headers": mask_mapping(
                    mask_secrets(
                        {
                            "request": request.get("headers") or {},
                            "response": response.get("headers") or {},
                            "url": request.get("url"),
                            "status": response.get("status"),
                        },
                        secrets,
                    )
                ),
            }
        )

    # ------------------------------------------------------------------------------------------
    # Manual actions (managers), each audited
    # ------------------------------------------------------------------------------------------
    def _check_group(self, group, action_label):
        """Manual actions need the group; they then act with the pipeline's rights (nobody
        writes message fields directly, over RPC or otherwise) and are audited in the name of
        the person."""
        if not self.env.user.has_group(f"logistics_connector_base.{group}"):
            raise UserError(
                self.env._(
                    "You are not allowed to %(action)s messages: ask a Logistics Manager.",
                    action=action_label,
                )
            )
        return self.sudo()

    def action_retry(self):
        """Try a failed or dead message again (same payload, same idempotency key):
        operations staff do it once they fixed the cause."""
        messages = self._check_group("group_logistics_user", self.env._("retry"))
        retryable = messages.filtered(lambda m: m.state in ("failed", "dead", "retry", "pending"))
        if not retryable:
            raise UserError(
                self.env._("Only failed, dead, waiting or pending messages can be retried.")
            )
        for message in retryable:
            message.write(
                {
                    "attempts": 0,
                    "attempt_floor": message._committed_attempts(),
                    "error_class": False,
                    "error_message": False,
                }
            )
            message._enqueue()
            message._audit("retry", self.env._("%(name)s retried by hand", name=message.name))
        return self._done_notification(
            self.env._("%(count)s message(s) queued again", count=len(retryable))
        )

    def action_replay(self):
        """Process a done message once more, with the exact stored payload and the same
        idempotency key (the partner deduplicates; appliers are idempotent). Managers only:
        it repeats an exchange that worked."""
        messages = self._check_group("group_logistics_manager", self.env._("replay"))
        replayable = messages.filtered(lambda m: m.state in ("done", "duplicate"))
        if not replayable:
            raise UserError(self.env._("Only done messages can be replayed; retry failed ones."))
        for message in replayable:
            message.write(
                {"state": "queued", "attempts": 0, "attempt_floor": message._committed_attempts()}
            )
            message._enqueue()
            message._audit("replay", self.env._("%(name)s replayed", name=message.name))
        return self._done_notification(
            self.env._("%(count)s message(s) queued for replay", count=len(replayable))
        )

    def action_cancel(self):
        messages = self._check_group("group_logistics_manager", self.env._("cancel"))
        for message in messages.filtered(
            lambda m: m.state in (*MESSAGE_OPEN_STATES, "failed", "dead")
        ):
            message.write({"state": "cancelled", "next_attempt_at": False})
            message._audit("state_change", self.env._("%(name)s cancelled", name=message.name))
        return True

    def _done_notification(self, text):
        """Say what happened, then show the new states (the list or form reloads)."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": text,
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_open_document(self):
        self.ensure_one()
        record = self._get_document()
        if not record:
            raise UserError(self.env._("This message is not linked to a document."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }

    def action_view_correlated(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            # Named by what people know (the raw correlation id is for debug mode).
            "name": self.env._(
                "Whole story of %(what)s", what=self.reference or self.document_name or self.name
            ),
            "res_model": "logistics.message",
            "view_mode": "list,form",
            "domain": [("correlation_id", "=", self.correlation_id)],
        }

    def action_view_exceptions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Exceptions"),
            "res_model": "logistics.exception",
            "view_mode": "list,form",
            "domain": [("message_id", "=", self.id)],
        }

    def action_view_job(self):
        self.ensure_one()
        # Logistics Managers follow their messages' jobs without being job queue managers.
        job = self.env["queue.job"].sudo().search([("uuid", "=", self.job_uuid)], limit=1)
        if not job:
            raise UserError(self.env._("The job of this message no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": "queue.job",
            "res_id": job.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------------------------------
    @api.model
    def _cron_recover_stuck(self, stuck_minutes=15):
        """Re-enqueue messages whose job is gone, failed or stuck (a killed worker), and
        real-time messages left pending, so a crash anywhere leaves a message that the next run
        picks up. A job a person cancelled in the job queue cancels its message."""
        limit = fields.Datetime.now() - timedelta(minutes=stuck_minutes)
        # Only messages that need something, in a bounded batch: the many that wait on
        # purpose (a job due later, a batch run) are not read at all, so the cost per run
        # does not grow with them, and a full batch asks the cron to run again at once.
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id
              FROM logistics_message m
         LEFT JOIN queue_job j ON j.uuid = m.job_uuid
             WHERE m.state IN ('pending', 'queued', 'in_progress', 'retry')
               AND m.write_date < %(limit)s
               AND CASE
                   WHEN j.id IS NULL THEN NOT (m.state = 'pending' AND EXISTS (
                       SELECT 1 FROM logistics_backend_flow f
                        WHERE f.backend_id = m.backend_id AND f.flow = m.flow
                          AND f.direction = m.direction AND f.mode = 'batch' AND f.active))
                   WHEN j.state IN ('pending', 'enqueued', 'wait_dependencies') THEN FALSE
                   WHEN j.state = 'started' THEN j.date_started < %(limit)s
                   ELSE TRUE
                   END
          ORDER BY m.write_date
             LIMIT %(batch)s
            """,
            {"limit": limit, "batch": CRON_BATCH},
        )
        candidates = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        jobs = {
            job.uuid: job
            for job in self.env["queue.job"]
            .sudo()
            .search([("uuid", "in", candidates.mapped("job_uuid"))])
        }
        recovered = self.browse()
        for message in candidates:
            job = jobs.get(message.job_uuid)
            if message.state == "pending" and not job:
                if message.backend_id._flow_mode(message.flow, message.direction) == "batch":
                    continue  # waits for its batch run, on purpose
            elif job and job.state == "cancelled":
                message.write({"state": "cancelled", "next_attempt_at": False})
                message._audit_state(
                    self.env._("%(name)s cancelled with its job", name=message.name)
                )
                continue
            elif job and (
                job.state in ("pending", "enqueued", "wait_dependencies")
                or (job.state == "started" and job.date_started and job.date_started > limit)
            ):
                continue
            if job and job.state == "started":
                job.write({"state": "failed", "exc_info": "Stuck: recovered by logistics cron"})
            message._enqueue()
            recovered |= message
        if recovered:
            _logger.info("Recovered %s stuck logistics messages", len(recovered))
        self.env["ir.cron"]._notify_progress(
            done=len(candidates), remaining=int(len(candidates) >= CRON_BATCH)
        )
        return recovered

    @api.model
    def _cron_ack_overdue(self):
        """Outbound messages whose acknowledgement is late get an ack_overdue exception."""
        self.env.flush_all()
        # Written as the partial index logistics_message_ack_pending_idx is, so PostgreSQL
        # uses it (the ORM's "= False" becomes "IS NULL OR = false", which it does not match).
        self.env.cr.execute(
            """
            SELECT id FROM logistics_message
             WHERE direction = 'outbound' AND state = 'done' AND acknowledged IS NOT TRUE
               AND ack_overdue_raised IS NOT TRUE AND ack_due_at IS NOT NULL
               AND ack_due_at < %s
          ORDER BY ack_due_at
             LIMIT %s
            """,
            (fields.Datetime.now(), CRON_BATCH),
        )
        overdue = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        overdue.write({"ack_overdue_raised": True})
        for message in overdue:
            self.env["logistics.exception"].raise_exception(
                "ack_overdue",
                self.env._("No acknowledgement from the partner (%(name)s)", name=message.name),
                self.env._(
                    "The partner should have acknowledged %(name)s by %(due)s. Ask the partner "
                    "whether they received it, then replay it or mark this exception resolved.",
                    name=message.name,
                    due=message.ack_due_at,
                ),
                backend=message.backend_id,
                message=message,
                record=message._get_document(),
                correlation_id=message.correlation_id,
            )
        # Each batch commits with its cron run; a full one asks for another run at once.
        self.env["ir.cron"]._notify_progress(
            done=len(overdue), remaining=int(len(overdue) >= CRON_BATCH)
        )
        return overdue


# Where a received document names itself when it has no "reference" (acknowledgement,
# tracking event, freight invoice, inventory count): the list of messages shows it.
REFERENCE_KEYS = (
    "reference",
    "acknowledged_reference",
    "shipment_reference",
    "tracking_number",
    "invoice_number",
    "order_reference",
    "warehouse_code",
)


def _error_class(error):
    """The error's class for the retry decision; a missing mapping has its own."""
    if getattr(error, "mapping_type", None):
        return "mapping"
    return getattr(error, "error_class", "business")


def _document_reference(document):
    for key in REFERENCE_KEYS:
        value = document.get(key) if isinstance(document, dict) else None
        if value and isinstance(value, str | int):
            return str(value)
    return False


def _first_sentence(text):
    """The first sentence (or line) of a text, without its final period."""
    first = re.split(r"(?<=[.!?])\s+|\n", (text or "").strip(), maxsplit=1)[0].strip()
    return first[:-1] if first.endswith(".") and not first.endswith("..") else first


def _shorten(text, limit):
    """At most ``limit`` characters, cut at a word when possible."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    if " " in cut[len(cut) // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def _id_from_name(value):
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return int(digits) if digits and len(digits) < 12 else 0


def new_correlation_id():
    return uuid.uuid4().hex


def _record_correlation_id(record):
    if record is not None and hasattr(record, "_logistics_correlation"):
        return record._logistics_correlation()
    return None


def _default_outbound_key(flow, record, document):
    if record is not None:
        return f"{flow}:{record._name}:{record.id}"
    return f"{flow}:{_hash_json(document)}"


def _hash_json(document):
    if document is None:
        return False
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _eta_datetime(eta):
    if not eta:
        return False
    return fields.Datetime.now() + timedelta(seconds=eta)


def _to_base64(value):
    if value is None or value is False or value == b"" or value == "":
        return False
    if isinstance(value, str):
        value = value.encode()
    elif not isinstance(value, bytes):
        value = json.dumps(value, ensure_ascii=False, default=str).encode()
    return base64.b64encode(value)


def _bytes_to_text(value):
    # Binary fields read back base64-encoded.
    if not value:
        return False
    raw = base64.b64decode(value)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return f"<{len(raw)} bytes of binary data>"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
