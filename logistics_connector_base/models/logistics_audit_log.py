"""Append-only, hash-chained audit trail of the logistics connector.

Every entry carries the SHA-256 hash of its own content and of the previous entry of the same
company, so changing, removing or re-ordering an entry after the fact - even directly in SQL -
breaks the chain, and "Verify chain" names the first broken link.

Concurrency: appending must never make busy workers wait for each other, so an entry is
inserted *unsealed* (no position, no hash) in the business transaction - a plain INSERT. Right
after that transaction commits, a short transaction of its own (READ COMMITTED, so it always
sees the latest head) locks the company's chain head (``logistics.audit.chain``) and seals every
committed unsealed entry in id order: position, previous hash, hash. An entry whose transaction
rolled back never existed; one whose sealing was interrupted is sealed by the next seal, by the
sealing cron, or before any verification or purge.

The post-commit seal never waits and never fails the commit it follows: it takes the chain head
with SKIP LOCKED (if another seal holds it, that one or the next seal or the cron catches up)
and any error is logged and left to the sealing cron. Verification, purge and cron take the
lock and wait for it.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import datetime, timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools import config as odoo_config

from ..const import AUDIT_EVENTS, AUDIT_PURGE_BATCH, MANAGER_GROUP
from ..lib.masking import mask_mapping, mask_urls
from .db_tools import after_commit, side_cursor

_logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
# A worker seals its commits' entries at most this often (seconds; see _SealPacer).
SEAL_PERIOD = 0.25
# Where a transaction's entries wait for its next flush (cr.precommit.data).
PENDING_ENTRIES_KEY = "logistics_audit_pending"
# Context key set only by _purge_older_than(): the one way entries are deleted.
PURGE_FLAG = "_logistics_audit_purge"
# What the entry hash covers, in this order (the serialisation sorts keys anyway).
HASHED_FIELDS = (
    "company_id",
    "sequence",
    "create_date",
    "user_id",
    "event",
    "backend_ref",
    "message_ref",
    "correlation_id",
    "res_model",
    "res_id",
    "record_name",
    "summary",
    "details",
    "prev_hash",
)
VERIFY_BATCH = 5000
# What an entry's seal reads of it: its id and the hashed content the seal does not give.
SEALED_COLUMNS = ("id", *(name for name in HASHED_FIELDS if name not in ("sequence", "prev_hash")))


def _normalise(value):
    # An empty reference is NULL in one place and 0 or False in another: all mean "none".
    if value is None or value is False or value == "" or (type(value) is int and value == 0):
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def canonical_content(values):
    """The exact text an entry hash is computed over (stable across Python and PostgreSQL).
    The key id is covered when the entry was sealed with a key (entries sealed before keys
    existed keep their content, and their hashes)."""
    names = HASHED_FIELDS + (("hash_key_id",) if values.get("hash_key_id") else ())
    return json.dumps(
        {name: _normalise(values.get(name)) for name in names},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def entry_hash(values, key=None):
    """SHA-256 of the entry's content; HMAC-SHA-256 with the server's audit key when one is
    configured, so that rewriting the chain takes the key, not only access to the database."""
    content = canonical_content(values).encode("utf-8")
    if key is None:
        return hashlib.sha256(content).hexdigest()
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def audit_key_id(key):
    """A public name for a key (never the key): which key sealed an entry."""
    return hashlib.sha256(f"logistics-audit-key:{key}".encode()).hexdigest()[:16]


def audit_keys():
    """(id of the key that seals new entries or None, {key id: key}) from the server
    configuration: [logistics_connector] audit_key, and audit_previous_keys (comma-separated)
    that still verify the entries they sealed."""
    section = odoo_config.misc.get("logistics_connector", {})
    current = (section.get("audit_key") or "").strip()
    previous = [k.strip() for k in (section.get("audit_previous_keys") or "").split(",")]
    keys = {audit_key_id(key): key.encode() for key in (current, *previous) if key}
    return (audit_key_id(current) if current else None), keys


class LogisticsAuditChain(models.Model):
    """Head of one company's audit chain: last sequence and last hash. Written only in SQL by
    logistics.audit.log; its row is the serialization point of concurrent appends."""

    _name = "logistics.audit.chain"
    _description = "Logistics Audit Chain Head"
    _log_access = False
    _rec_name = "company_id"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", readonly=True)
    last_sequence = fields.Integer(readonly=True, help="Sequence of the newest entry.")
    last_hash = fields.Char(readonly=True, help="Hash of the newest entry.")

    _sql_constraints = [
        ("company_uniq", "unique(company_id)", "A company has one audit chain."),
    ]


class LogisticsAuditLog(models.Model):
    _name = "logistics.audit.log"
    _description = "Logistics Audit Entry"
    _order = "id desc"
    _rec_name = "summary"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, ondelete="restrict"
    )
    create_date = fields.Datetime(string="When", readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        string="Who",
        readonly=True,
        index=True,
        ondelete="restrict",
        help="The user who acted, or the system user for crons and jobs.",
    )
    event = fields.Selection(
        AUDIT_EVENTS, required=True, readonly=True, index=True, help="What kind of act this was."
    )
    backend_id = fields.Many2one(
        "logistics.backend",
        string="Partner",
        readonly=True,
        index=True,
        ondelete="set null",
        help="Logistics partner concerned. Emptied if the partner is deleted; the hash keeps "
        "its id.",
    )
    backend_ref = fields.Integer(
        string="Partner ID", readonly=True, help="Id of the partner when the entry was written."
    )
    message_id = fields.Many2one(
        "logistics.message",
        readonly=True,
        index=True,
        ondelete="set null",
        help="Message concerned. Emptied when the message is purged; the hash keeps its id.",
    )
    message_ref = fields.Integer(
        string="Message ID", readonly=True, help="Id of the message when the entry was written."
    )
    correlation_id = fields.Char(
        readonly=True,
        index=True,
        help="Correlation id of the business story this entry is part of.",
    )
    res_model = fields.Char(string="Document Model", readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Document ID", model_field="res_model", readonly=True)
    record_name = fields.Char(
        string="Document", readonly=True, help="Name of the record when the entry was written."
    )
    summary = fields.Char(readonly=True, required=True, help="What happened, in one line.")
    details = fields.Text(
        readonly=True, help="Structured details (JSON). Secret-looking keys are redacted."
    )
    details_text = fields.Text(
        string="What Changed",
        compute="_compute_details_text",
        help="The details in plain lines: 'Field: old -> new' for a configuration change, "
        "'Label: value' otherwise, records named as people know them.",
    )
    sequence = fields.Integer(
        readonly=True,
        index=True,
        help="Position of the entry in its company's chain; empty for the few seconds until the "
        "entry is sealed, right after its transaction commits.",
    )
    prev_hash = fields.Char(
        string="Previous Hash", readonly=True, help="Hash of the previous entry of the chain."
    )
    entry_hash = fields.Char(
        string="Hash",
        readonly=True,
        help="SHA-256 over the entry's content and the previous hash; HMAC-SHA-256 with the "
        "server's audit key when one is configured.",
    )
    hash_key_id = fields.Char(
        readonly=True,
        help="Which audit key of the server configuration sealed this entry (its public id, "
        "not the key).",
    )

    _sql_constraints = [
        (
            "company_sequence_uniq",
            "unique(company_id, sequence)",
            "An audit chain cannot have two entries at the same position.",
        ),
    ]

    # ------------------------------------------------------------------------------------------
    # Append-only
    # ------------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        # Entries are appended in SQL by record(), never created through the ORM: no super.
        raise UserError(
            self.env._("Audit entries are written by the system only; they cannot be created.")
        )

    def write(self, vals):
        if self:
            raise UserError(self.env._("Audit entries cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_retention_purge(self):
        if not self.env.context.get(PURGE_FLAG):
            raise UserError(
                self.env._(
                    "Audit entries cannot be deleted; only the retention purge removes old ones."
                )
            )

    def copy(self, default=None):
        if self:
            raise UserError(self.env._("Audit entries cannot be duplicated."))
        return super().copy(default)

    # ------------------------------------------------------------------------------------------
    # Public API
    # ------------------------------------------------------------------------------------------
    @api.private  # Python callers only: over RPC anyone could forge entries (sudo write).
    @api.model
    def record(
        self,
        event,
        summary,
        *,
        backend=None,
        message=None,
        record=None,
        correlation_id=None,
        details=None,
        company=None,
        defer=False,
    ):
        """Append one entry to the audit chain of its company and return it (with ``defer``:
        return nothing and insert it with the transaction's other deferred entries at its
        next flush - the pipeline's entries, one statement for a whole batch).

        Works for any user (written with sudo; the acting user is kept in ``user_id``), which
        is why it cannot be called over RPC.
        ``details`` is a JSON-compatible dict; values of secret-looking keys (password, token,
        api_key, secret...) are masked before storage. Company, partner, correlation id and
        document are taken from the arguments, else from the message, else from the record.
        """
        if event not in dict(AUDIT_EVENTS):
            raise ValueError(f"Unknown audit event {event!r}")
        if not summary:
            raise ValueError("An audit entry needs a summary")
        message = message if message else None
        record = record if record else None
        backend = backend if backend else None
        if backend is None and message is not None:
            backend = message.backend_id or None
        if backend is None and record is not None and record._name == "logistics.backend":
            backend = record
        company = company or self._audit_company(record, message, backend)
        if correlation_id is None:
            correlation_id = self._audit_correlation(record, message)
        if record is not None:
            res_model = record._name
            res_id = record.id if len(record) == 1 else False
            record_name = ", ".join(record.sudo()[:5].mapped("display_name"))
        elif message is not None:
            res_model, res_id = message.res_model, message.res_id
            record_name = message.sudo().display_name
        else:
            res_model = res_id = record_name = False
        if details is not None:
            details = json.dumps(
                mask_urls(mask_mapping(details)),
                sort_keys=True,
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        values = {
            "company_id": company.id,
            "create_date": self.env.cr.now().replace(microsecond=0),
            "user_id": self.env.uid,
            "event": event,
            "backend_id": backend.id if backend is not None else False,
            "backend_ref": backend.id if backend is not None else False,
            "message_id": message.id if message is not None else False,
            "message_ref": message.id if message is not None else False,
            "correlation_id": correlation_id or False,
            "res_model": res_model or False,
            "res_id": res_id or False,
            "record_name": record_name or False,
            "summary": str(summary),
            "details": details or False,
        }
        return self._append(values, defer)

    @api.model
    def _audit_company(self, record, message, backend):
        if record is not None and "company_id" in record._fields:
            company = record[:1].sudo().company_id
            if company:
                return company
        if record is not None and record._name == "res.company":
            return record
        if message is not None and message.sudo().company_id:
            return message.sudo().company_id
        if backend is not None and backend.sudo().company_id:
            return backend.sudo().company_id
        return self.env.company

    @api.model
    def _audit_correlation(self, record, message):
        if message is not None and message.correlation_id:
            return message.correlation_id
        if record is not None:
            for name in ("correlation_id", "logistics_correlation_id"):
                if name in record._fields and record[:1].sudo()[name]:
                    return record[:1].sudo()[name]
        return False

    @api.model
    def _append(self, values, defer=False):
        """Queue the entry unsealed: queued entries are inserted together, in one statement,
        at the transaction's next flush (a savepoint, a read of the audit log, the commit) -
        in the same transaction, so they commit or roll back with what they record - or at
        once unless ``defer``. Sealed once the transaction commits."""
        precommit = self.env.cr.precommit
        pending = precommit.data.get(PENDING_ENTRIES_KEY)
        if pending is None:
            pending = precommit.data[PENDING_ENTRIES_KEY] = []
            precommit.add(self._insert_pending)
        pending.append(values)
        self._schedule_seal(values["company_id"])
        if defer:
            return self.browse()
        return self.browse(self._insert_pending()[-1])

    @api.model
    def _insert_pending(self):
        """Insert the queued entries of this transaction (see _append), in SQL: they need
        nothing of the ORM (plain columns, nothing computed from them). Returns their ids."""
        pending = self.env.cr.precommit.data.pop(PENDING_ENTRIES_KEY, None)
        if not pending:
            return []
        columns = [*pending[0], "create_uid", "write_uid", "write_date"]
        rows = [
            # False is the ORM's empty value; in SQL it is NULL (there is no boolean column).
            SQL(
                "%s",
                (
                    *(None if value is False else value for value in values.values()),
                    values["user_id"],
                    values["user_id"],
                    values["create_date"],
                ),
            )
            for values in pending
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO logistics_audit_log (%s) VALUES %s RETURNING id",
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(rows),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def flush_model(self, fnames=None):
        # Reads and searches of the audit log see the entries queued in this transaction.
        self._insert_pending()
        return super().flush_model(fnames)

    def _schedule_seal(self, company_id):
        # Sealed right after this transaction commits, in the side transaction it shares with
        # the attempt log - or, if this worker sealed less than SEAL_PERIOD ago, together with
        # the others committed until then (_SEAL_PACER); whatever is left unsealed (a failure,
        # a held chain head, a worker gone) is sealed by the next seal or the cron.
        companies = self.env.cr.postcommit.data.setdefault("logistics_audit_seal", set())
        companies.add(company_id)
        registry = self.env.registry
        after_commit(
            self.env,
            "audit seal",
            lambda cr: _seal_companies(cr, companies),
            when=lambda: _SEAL_PACER.due(registry, companies),
        )

    @api.model
    def _seal_pending(self, company_id, skip_locked=False):
        """Give every committed unsealed entry of the company its position and hashes, in id
        order, under the lock of the company's chain head. Returns how many were sealed.

        With ``skip_locked`` (the post-commit seal) nothing is done if another transaction
        holds the chain head: that seal, the next one or the cron seals these entries."""
        cr = self.env.cr
        self._insert_pending()
        self.env.flush_all()
        head, rows = self._lock_head_with_unsealed(company_id, skip_locked)
        if head is None:
            # The company's first entry (or a head held by another seal, then a no-op insert).
            cr.execute(
                "INSERT INTO logistics_audit_chain (company_id, last_sequence, last_hash) "
                "VALUES (%s, 0, %s) ON CONFLICT (company_id) DO NOTHING",
                (company_id, GENESIS_HASH),
            )
            head, rows = self._lock_head_with_unsealed(company_id, skip_locked)
            if head is None:
                return 0
        sequence, last_hash = head
        key_id, keys = audit_keys()
        key = keys.get(key_id)
        sealed = 0
        while rows:
            seals = []
            for row in rows:
                sequence += 1
                row.update(sequence=sequence, prev_hash=last_hash, hash_key_id=key_id)
                last_hash = entry_hash(row, key)
                seals.append(
                    SQL("(%s, %s, %s, %s)", row["id"], sequence, row["prev_hash"], last_hash)
                )
            # The round's entries and the chain head in one round trip.
            cr.execute(
                SQL(
                    "UPDATE logistics_audit_log l SET sequence = v.sequence, "
                    "prev_hash = v.prev_hash, entry_hash = v.entry_hash, hash_key_id = %s "
                    "FROM (VALUES %s) AS v(id, sequence, prev_hash, entry_hash) "
                    "WHERE l.id = v.id; "
                    "UPDATE logistics_audit_chain SET last_sequence = %s, last_hash = %s "
                    "WHERE company_id = %s",
                    key_id,
                    SQL(", ").join(seals),
                    sequence,
                    last_hash,
                    company_id,
                )
            )
            sealed += len(rows)
            if len(rows) < VERIFY_BATCH:
                # All there was. Entries committed since (by a transaction whose own seal
                # skipped the head we hold) are sealed by the next seal or the cron.
                break
            cr.execute(SQL("%s", self._unsealed_query(company_id)))
            rows = cr.dictfetchall()
        if sealed:
            self.invalidate_model(["sequence", "prev_hash", "entry_hash", "hash_key_id"])
        return sealed

    def _unsealed_query(self, company_id):
        return SQL(
            "SELECT %s FROM logistics_audit_log WHERE company_id = %s AND sequence IS NULL "
            "ORDER BY id LIMIT %s FOR UPDATE",
            SQL(", ").join(SQL.identifier(name) for name in SEALED_COLUMNS),
            company_id,
            VERIFY_BATCH,
        )

    def _lock_head_with_unsealed(self, company_id, skip_locked):
        """Lock the company's chain head and read its first unsealed entries, in one round
        trip. Returns ((last sequence, last hash), entry rows), or (None, []) when the head
        does not exist or, with ``skip_locked``, another transaction holds it."""
        self.env.cr.execute(
            SQL(
                "WITH head AS (SELECT last_sequence, last_hash FROM logistics_audit_chain "
                "WHERE company_id = %s FOR UPDATE %s) "
                "SELECT head.last_sequence AS head_sequence, head.last_hash AS head_hash, "
                "entry.* FROM head LEFT JOIN LATERAL (%s) entry ON TRUE",
                company_id,
                SQL("SKIP LOCKED") if skip_locked else SQL(),
                self._unsealed_query(company_id),
            )
        )
        rows = self.env.cr.dictfetchall()
        if not rows:
            return None, []
        head = (rows[0].pop("head_sequence"), rows[0].pop("head_hash"))
        for row in rows[1:]:
            del row["head_sequence"], row["head_hash"]
        return head, [row for row in rows if row["id"] is not None]

    @api.model
    def _cron_seal_pending(self):
        """Seal what an interrupted post-commit sealing left behind."""
        self.env.cr.execute(
            "SELECT DISTINCT company_id FROM logistics_audit_log WHERE sequence IS NULL"
        )
        for (company_id,) in self.env.cr.fetchall():
            self._seal_pending(company_id)

    # ------------------------------------------------------------------------------------------
    # Verification
    # ------------------------------------------------------------------------------------------
    def action_verify_chain(self):
        """Verify the chains of the companies of the selected entries (or of all the user's
        active companies) and report the first broken link in a notification."""
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Logistics Managers can verify the audit chain."))
        companies = self.company_id or self.env.companies
        results = [self._verify_chain(company) for company in companies]
        broken = [result for result in results if not result["ok"]]
        multi = len(companies) > 1
        lines = []
        for company, result in zip(companies, results, strict=True):
            prefix = f"{company.name}: " if multi else ""
            lines.append(prefix + result["message"])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Audit chain broken")
                if broken
                else self.env._("Audit chain intact"),
                "message": "\n".join(lines),
                "type": "danger" if broken else "success",
                "sticky": bool(broken),
            },
        }

    @api.model
    def _verify_chain(self, company):
        """Walk the company's chain in order. Returns a dict: ok, count, entry_id, sequence,
        reason and a plain-words message naming the first broken link."""
        cr = self.env.cr
        self._seal_pending(company.id)
        cr.execute(
            "SELECT last_sequence, last_hash FROM logistics_audit_chain WHERE company_id = %s",
            (company.id,),
        )
        head = cr.fetchone()
        anchor = self._purge_anchor(company)
        _key_id, keys = audit_keys()
        count = 0
        expected_prev = None
        previous_sequence = None
        last = None
        while True:
            cr.execute(
                """
                SELECT id, company_id, sequence, create_date, user_id, event, backend_id,
                       backend_ref, message_id, message_ref, correlation_id, res_model, res_id,
                       record_name, summary, details, prev_hash, entry_hash, hash_key_id
                  FROM logistics_audit_log
                 WHERE company_id = %s AND sequence > %s
              ORDER BY sequence
                 LIMIT %s
                """,
                (company.id, previous_sequence or 0, VERIFY_BATCH),
            )
            rows = cr.dictfetchall()
            if not rows:
                break
            for row in rows:
                if previous_sequence is None:
                    reason = self._check_chain_start(row, anchor)
                    expected_prev = row["prev_hash"]
                elif row["sequence"] != previous_sequence + 1:
                    reason = self.env._(
                        "link missing: the entry at sequence %(sequence)s was removed",
                        sequence=previous_sequence + 1,
                    )
                else:
                    reason = None
                if not reason and row["prev_hash"] != expected_prev:
                    reason = self.env._(
                        "link missing: its previous hash does not match the entry before it"
                    )
                key = keys.get(row["hash_key_id"]) if row["hash_key_id"] else None
                if not reason and row["hash_key_id"] and key is None:
                    reason = self.env._(
                        "sealed with an audit key this server does not have (key id "
                        "%(key_id)s): add that key to audit_previous_keys in the server "
                        "configuration",
                        key_id=row["hash_key_id"],
                    )
                if not reason and (
                    entry_hash(row, key) != row["entry_hash"]
                    or (row["backend_id"] and row["backend_id"] != row["backend_ref"])
                    or (row["message_id"] and row["message_id"] != row["message_ref"])
                ):
                    reason = self.env._("content changed after it was written")
                if reason:
                    return self._broken(row, reason, count)
                count += 1
                expected_prev = row["entry_hash"]
                previous_sequence = row["sequence"]
                last = row
        if head and last and (last["sequence"], last["entry_hash"]) != tuple(head):
            return self._broken(
                last,
                self.env._(
                    "link missing: newer entries up to sequence %(sequence)s were removed",
                    sequence=head[0],
                ),
                count,
            )
        if head and not last and head[0]:
            return {
                "ok": False,
                "count": 0,
                "entry_id": False,
                "sequence": head[0],
                "reason": "missing",
                "message": self.env._(
                    "Chain broken: all %(count)s entries were removed.", count=head[0]
                ),
            }
        return {
            "ok": True,
            "count": count,
            "entry_id": False,
            "sequence": False,
            "reason": False,
            "message": self.env._("Chain intact: %(count)s entries verified", count=count),
        }

    def _check_chain_start(self, row, anchor):
        """The first remaining entry is the genesis, or follows a retention purge whose purge
        entry recorded exactly where it cut and with which hash."""
        if row["sequence"] == 1:
            if row["prev_hash"] != GENESIS_HASH:
                return self.env._("link missing: the first entry does not start the chain")
            return None
        if anchor and anchor == (row["sequence"] - 1, row["prev_hash"]):
            return None
        return self.env._(
            "link missing: the entries before it were removed outside the retention purge"
        )

    def _broken(self, row, reason, count):
        return {
            "ok": False,
            "count": count,
            "entry_id": row["id"],
            "sequence": row["sequence"],
            "reason": reason,
            "message": self.env._(
                "Chain broken at entry #%(id)s (sequence %(sequence)s): %(reason)s. "
                "%(count)s entries before it verified.",
                id=row["id"],
                sequence=row["sequence"],
                reason=reason,
                count=count,
            ),
        }

    @api.model
    def _purge_anchor(self, company):
        """(last purged sequence, its hash) from the newest purge entry, if any."""
        self.env.cr.execute(
            "SELECT details FROM logistics_audit_log WHERE company_id = %s AND event = 'purge' "
            "ORDER BY sequence DESC LIMIT 1",
            (company.id,),
        )
        row = self.env.cr.fetchone()
        if not row or not row[0]:
            return None
        try:
            details = json.loads(row[0])
            return (int(details["purged_through_sequence"]), details["anchor_hash"])
        except (ValueError, KeyError, TypeError):
            return None

    # ------------------------------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------------------------------
    @api.model
    def _purge_older_than(self, days, batch_size=AUDIT_PURGE_BATCH):
        """Delete, per company, the oldest whole prefix of the chain older than ``days`` days,
        then append a purge entry recording the cut (last purged sequence and its hash) so the
        remaining chain still verifies. At most ``batch_size`` entries per company go per call,
        so the chain head stays locked briefly; the next call continues. Returns the number of
        entries removed."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise UserError(
                self.env._("The audit retention must be a whole number of days, at least 1.")
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserError(
                self.env._("The audit purge batch size must be a whole number, at least 1.")
            )
        cutoff = fields.Datetime.now() - timedelta(days=days)
        cr = self.env.cr
        self._insert_pending()
        self.env.flush_all()
        cr.execute(
            "SELECT DISTINCT company_id FROM logistics_audit_log WHERE create_date < %s",
            (cutoff,),
        )
        company_ids = [row[0] for row in cr.fetchall()]
        removed = 0
        for company in self.env["res.company"].sudo().browse(company_ids):
            # Seal first (this locks the chain head): nothing is sealed while we cut.
            self._seal_pending(company.id)
            cr.execute(
                "SELECT last_sequence FROM logistics_audit_chain WHERE company_id = %s",
                (company.id,),
            )
            head = cr.fetchone()
            cr.execute(
                "SELECT min(sequence) FROM logistics_audit_log "
                "WHERE company_id = %s AND create_date >= %s",
                (company.id, cutoff),
            )
            boundary = cr.fetchone()[0] or ((head[0] if head else 0) + 1)
            cr.execute(
                "SELECT id, sequence, entry_hash FROM logistics_audit_log "
                "WHERE company_id = %s AND sequence < %s ORDER BY sequence LIMIT %s",
                (company.id, boundary, batch_size),
            )
            rows = cr.fetchall()
            if not rows:
                continue
            last_purged_sequence, anchor_hash = rows[-1][1], rows[-1][2]
            self.sudo().browse([row[0] for row in rows]).with_context(**{PURGE_FLAG: True}).unlink()
            removed += len(rows)
            self.record(
                "purge",
                self.env._(
                    "Retention purge: %(count)s audit entries older than %(days)s days removed",
                    count=len(rows),
                    days=days,
                ),
                company=company,
                details={
                    "entries_removed": len(rows),
                    "older_than_days": days,
                    "purged_through_sequence": last_purged_sequence,
                    "anchor_hash": anchor_hash,
                },
            )
        return removed

    # ------------------------------------------------------------------------------------------
    # UI
    # ------------------------------------------------------------------------------------------
    @api.depends("details", "res_model")
    def _compute_details_text(self):
        for entry in self:
            entry.details_text = entry._readable_details()

    def _readable_details(self):
        """The details as lines a person reads: a configuration change as 'Label: old -> new'
        per field, other facts as 'Label: value', records by their name."""
        self.ensure_one()
        if not self.details:
            return False
        try:
            details = json.loads(self.details)
        except ValueError:
            return self.details
        if not isinstance(details, dict):
            return self.details
        lines = []
        changes = details.get("changes")
        if isinstance(changes, list):
            for change in changes:
                if isinstance(change, dict):
                    lines.append(
                        f"{change.get('label') or change.get('field')}: "
                        f"{change.get('old', '(empty)')} -> {change.get('new', '(empty)')}"
                    )
            if not changes and details.get("operation") == "unlink":
                lines.append(self.env._("Deleted"))
        for key, value in details.items():
            if key in ("changes", "operation", "model") or value in (None, "", [], {}):
                continue
            lines.append(f"{self._detail_label(key)}: {self._detail_value(key, value)}")
        return "\n".join(lines) or False

    def _detail_label(self, key):
        labels = {
            "exception_id": self.env._("Exception"),
            "exception_type": self.env._("Type"),
            "external_id": self.env._("Partner reference"),
            "previous_state": self.env._("Previous state"),
            "remote_addr": self.env._("From address"),
            "body_size": self.env._("Body size (bytes)"),
        }
        return labels.get(key) or key.replace("_", " ").capitalize()

    def _detail_value(self, key, value):
        if key == "exception_id" and isinstance(value, int):
            exception = self.env["logistics.exception"].sudo().browse(value).exists()
            return exception.display_name if exception else f"#{value}"
        if key == "exception_type" and isinstance(value, str):
            field = self.env["logistics.exception"]._fields["exception_type"]
            return dict(field._description_selection(self.env)).get(value, value)
        if key in ("state", "previous_state") and isinstance(value, str):
            model = (
                "logistics.exception"
                if self.res_model == "logistics.exception"
                else "logistics.message"
            )
            field = self.env[model]._fields["state"]
            return dict(field._description_selection(self.env)).get(value, value)
        if isinstance(value, bool):
            return self.env._("Yes") if value else self.env._("No")
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, ""))
        return str(value)

    def action_open_document(self):
        self.ensure_one()
        if not self.res_model or not self.res_id or self.res_model not in self.env:
            raise UserError(self.env._("This audit entry is not linked to a document."))
        record = self.env[self.res_model].browse(self.res_id).exists()
        if not record:
            raise UserError(self.env._("The document of this audit entry no longer exists."))
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }


def _seal_companies(cr, companies):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for company in sorted(companies):
        env["logistics.audit.log"]._seal_pending(company, skip_locked=True)


class _SealPacer:
    """Paces the seals a worker process makes after its commits: at most one per SEAL_PERIOD
    and database. A commit within the period leaves its entries to the seal that a timer makes
    when the period is over, for every commit of the period together: a busy worker pays one
    side transaction per period instead of one per commit, and an entry waits at most the
    period to be sealed (the cron seals what a worker that died left)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._last_seal = {}
        self._waiting = {}

    def due(self, registry, companies):
        """Whether to seal ``companies`` now; if not, they are sealed when the period is over."""
        # In test mode the side transaction is the test's own: only its thread may use it.
        if SEAL_PERIOD <= 0 or registry.in_test_mode():
            return True
        now = time.monotonic()
        dbname = registry.db_name
        with self._lock:
            waiting = self._waiting.get(dbname)
            since = now - self._last_seal.get(dbname, float("-inf"))
            if waiting is None and since >= SEAL_PERIOD:
                self._last_seal[dbname] = now
                return True
            if waiting is None:
                waiting = self._waiting[dbname] = set()
                timer = threading.Timer(SEAL_PERIOD - since, self._seal_waiting, (registry,))
                timer.daemon = True
                timer.start()
            waiting.update(companies)
            return False

    def _seal_waiting(self, registry):
        with self._lock:
            companies = self._waiting.pop(registry.db_name, set())
            self._last_seal[registry.db_name] = time.monotonic()
        if registry.in_test_mode():
            return  # the test's transaction is not this thread's: the cron seals them
        try:
            with side_cursor(registry, lock_timeout=False) as cr:
                _seal_companies(cr, companies)
        except Exception as error:  # a timer thread has nobody to raise to
            _logger.warning(
                "The paced audit seal failed (%s); the sealing cron seals what it left",
                type(error).__name__,
            )


_SEAL_PACER = _SealPacer()
