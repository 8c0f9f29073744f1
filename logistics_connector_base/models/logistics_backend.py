import hashlib
import logging
import os
import posixpath
import re
import secrets
import threading
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config as odoo_config

from ..lib import webhook_signature
from ..lib.destinations import check_destination
from ..lib.errors import ConfigurationError, DocumentValidationError, LogisticsError
from ..lib.masking import mask_secrets
from ..lib.transports.rest import RestTransport
from ..lib.transports.sftp import SftpTransport, file_fingerprint
from .db_tools import autonomous_cursor

_logger = logging.getLogger(__name__)
# Per worker thread: a requests session is not meant to be shared between threads.
_thread_transports = threading.local()

MANAGER_GROUP = "logistics_connector_base.group_logistics_manager"
# The base's endpoint fields by role. Partner addons extend the roles through the endpoint's
# _logistics_credential_fields / _logistics_endpoint_fields / _logistics_secret_field_names.
# Credentials may come from the server configuration or the environment instead of the
# database (see README "Credentials from the server configuration").
CREDENTIAL_FIELDS = (
    "base_url",
    "username",
    "password",
    "token",
    "api_key",
    "client_id",
    "client_secret",
    "sftp_host",
    "sftp_port",
    "sftp_username",
    "sftp_password",
    "sftp_private_key",
    "sftp_host_key",
)
ENDPOINT_SETTING_FIELDS = (
    "auth_kind",
    "api_key_header",
    "token_url",
    "scope",
    "sftp_inbound_folder",
    "sftp_outbound_folder",
    "sftp_archive_folder",
    "sftp_error_folder",
)
SHARED_STATE_FIELDS = [
    "rate_next_slot_at",
    "breaker_state",
    "breaker_failures",
    "breaker_opened_at",
    "last_success_at",
    "last_failure_at",
    "last_error",
]
# Seconds a half-open probe may take before another worker may probe instead.
PROBE_LEASE = 120
SECRET_FIELDS = (
    "password",
    "token",
    "api_key",
    "client_secret",
    "sftp_password",
    "sftp_private_key",
)


class LogisticsBackend(models.Model):
    """A logistics partner: a 3PL warehouse, a carrier or an EDI trading partner."""

    _name = "logistics.backend"
    _description = "Logistics Partner"
    _inherit = ["mail.thread", "mail.activity.mixin", "logistics.audited.mixin"]
    _order = "sequence, name"
    _logistics_secret_fields = ("webhook_secret", "webhook_secret_previous")

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        copy=False,
        help="Short technical name (letters, digits, underscores). It names the job channel "
        "root.logistics.<code> and the server configuration keys of the credentials.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer()
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        help="The partner company in Odoo (address, contacts, invoices).",
    )
    kind = fields.Selection(
        [
            ("3pl", "3PL Warehouse"),
            ("carrier", "Carrier"),
            ("edi", "EDI Partner"),
            ("other", "Other"),
        ],
        required=True,
        default="3pl",
        tracking=True,
    )
    adapter = fields.Selection(
        [("generic_rest", "Generic REST (JSON)")],
        required=True,
        default="generic_rest",
        tracking=True,
        help="The protocol adapter that translates canonical documents to this partner's wire "
        "format. Partner addons add their own adapters.",
    )
    environment = fields.Selection(
        [("test", "Test"), ("production", "Production")],
        required=True,
        default="test",
        tracking=True,
        help="Which set of endpoints and credentials is used.",
    )
    api_version = fields.Char(string="API Version", help="Sent to partners that version their API.")
    endpoint_ids = fields.One2many(
        "logistics.backend.endpoint",
        "backend_id",
        string="Endpoints and Credentials",
        groups=MANAGER_GROUP,
    )
    flow_ids = fields.One2many("logistics.backend.flow", "backend_id", string="Flows")
    mapping_ids = fields.One2many("logistics.mapping", "backend_id", string="Mappings")

    # Retry policy
    max_attempts = fields.Integer(
        default=5, help="After this many failed attempts a message is dead and needs a person."
    )
    backoff_base = fields.Integer(
        string="Backoff Base (s)",
        default=30,
        help="Delay before the 1st retry; it doubles at each attempt.",
    )
    backoff_cap = fields.Integer(
        string="Backoff Cap (s)", default=3600, help="Longest delay between two attempts."
    )
    backoff_jitter = fields.Float(
        default=0.2, help="Random spread of the delay (0.2 = +/-20%), so retries do not align."
    )
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
    connect_timeout = fields.Float(
        string="Connect Timeout (s)",
        default=5.0,
        help="How long to wait for the partner to accept a connection.",
    )
    read_timeout = fields.Float(
        string="Read Timeout (s)",
        default=30.0,
        help="How long to wait for the partner's answer before retrying later.",
    )
    inbound_batch_size = fields.Integer(
        default=50,
        help="Light inbound events (acknowledgements, tracking events) are applied up to this "
        "many per job, each in a savepoint of its own so one bad event fails alone; 1 = one "
        "job per event.",
    )
    sync_deadline = fields.Float(
        string="Synchronous Deadline (s)",
        default=8.0,
        help="How long a user waits for the partner in an exchange made while they wait (e.g. "
        "a label bought when a delivery is validated). A slower or unreachable partner gets "
        "the exchange from the job queue instead, with the same idempotency key.",
    )
    channel_name = fields.Char(
        compute="_compute_channel_name",
        store=True,
        help="queue_job channel of this partner's jobs; set its capacity in the server "
        "configuration ([queue_job] channels = root.logistics.<code>:2).",
    )
    # Webhooks
    webhook_token = fields.Char(
        copy=False,
        readonly=True,
        groups=MANAGER_GROUP,
        help="Public token in the webhook URL; it identifies the partner, it is not a secret.",
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", groups=MANAGER_GROUP)
    webhook_secret = fields.Char(
        copy=False,
        groups=MANAGER_GROUP,
        help="Signing secret shared with the partner (Standard Webhooks, whsec_...).",
    )
    webhook_secret_previous = fields.Char(copy=False, groups=MANAGER_GROUP)
    webhook_secret_previous_expiry = fields.Datetime(
        copy=False,
        groups=MANAGER_GROUP,
        help="Until then, deliveries signed with the previous secret are still accepted.",
    )
    webhook_rotation_grace_hours = fields.Integer(
        default=24,
        help="After a rotation, deliveries signed with the previous secret are accepted this long.",
    )
    webhook_max_body_kb = fields.Integer(string="Webhook Body Limit (KB)", default=1024)
    # SFTP intake
    sftp_settle_seconds = fields.Float(
        string="File Settle Time (s)",
        default=2.0,
        help="The inbound folder is listed twice this far apart; a file whose size or time "
        "changed in between is still being written and is taken at the next poll.",
    )
    sftp_max_file_kb = fields.Integer(
        string="File Size Limit (KB)",
        default=51200,
        help="Larger inbound files stay on the server, with an exception; 0 = no limit.",
    )
    # Health
    last_success_at = fields.Datetime(readonly=True, copy=False)
    last_failure_at = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Char(readonly=True, copy=False)
    message_count = fields.Integer(compute="_compute_message_count")
    queued_count = fields.Integer(compute="_compute_counters")
    failed_count = fields.Integer(compute="_compute_counters")
    dead_count = fields.Integer(compute="_compute_counters")
    open_exception_count = fields.Integer(
        string="To Handle",
        compute="_compute_counters",
        help="Open exceptions of this partner: the work waiting for a person.",
    )
    oldest_open_exception_date = fields.Datetime(compute="_compute_counters")
    connection_status = fields.Selection(
        [
            ("healthy", "Connection healthy"),
            ("paused", "Paused (partner not answering)"),
            ("probing", "Probing"),
        ],
        compute="_compute_connection_status",
        help="Connection healthy: messages go out. Paused: the partner stopped answering, "
        "messages to it wait (nothing is lost) until a probe gets through. Probing: one "
        "message is being tried to see whether the partner is back.",
    )
    last_error_is_current = fields.Boolean(
        compute="_compute_connection_status",
        help="The last error happened after the last success: the partner may still fail.",
    )
    production_endpoint_missing = fields.Boolean(
        compute="_compute_production_endpoint_missing",
        help="The partner is switched to production but has no production endpoint: its "
        "messages would fail until one is added.",
    )

    _sql_constraints = [
        ("code_company_uniq", "unique(code)", "Another logistics partner already uses this code."),
        ("webhook_token_uniq", "unique(webhook_token)", "Webhook tokens must be unique."),
    ]

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not re.fullmatch(r"[a-z0-9_]+", backend.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code of %(name)s may only contain lower-case letters, digits and "
                        "underscores.",
                        name=backend.name,
                    )
                )

    @api.constrains("max_attempts", "backoff_base", "backoff_cap", "backoff_jitter")
    def _check_retry_policy(self):
        for backend in self:
            if backend.max_attempts < 1 or backend.backoff_base < 0 or backend.backoff_cap < 0:
                raise ValidationError(
                    self.env._("Attempts must be at least 1 and delays cannot be negative.")
                )
            if not 0 <= backend.backoff_jitter <= 1:
                raise ValidationError(self.env._("The jitter is a ratio between 0 and 1."))

    @api.depends("code")
    def _compute_channel_name(self):
        for backend in self:
            backend.channel_name = f"root.logistics.{backend.code}" if backend.code else False

    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for backend in self:
            backend.webhook_url = (
                f"{base_url}/logistics/webhook/{backend.webhook_token}"
                if backend.webhook_token
                else False
            )

    @api.model
    def _needs_attention_domain(self):
        """Failed or dead messages still waiting for a person: those whose exceptions were all
        resolved or ignored are handled (a message without any exception still counts)."""
        return [
            ("state", "in", ("failed", "dead")),
            "|",
            ("exception_ids", "=", False),
            ("exception_ids", "any", [("state", "in", ("new", "in_progress"))]),
        ]

    def _compute_message_count(self):
        """All messages, for the partner form's smart button (not the overview)."""
        counts = dict(
            self.env["logistics.message"]
            .sudo()
            ._read_group([("backend_id", "in", self.ids)], ["backend_id"], ["__count"])
        )
        for backend in self:
            backend.message_count = counts.get(backend, 0)

    def _compute_counters(self):
        messages = self.env["logistics.message"].sudo()
        exceptions = self.env["logistics.exception"].sudo()
        # Only the states the overview shows: read from a partial index, whatever the number
        # of messages done over the years.
        counts = {
            (backend.id, state): count
            for backend, state, count in messages._read_group(
                [
                    ("backend_id", "in", self.ids),
                    ("state", "in", ("pending", "queued", "in_progress", "retry")),
                ],
                ["backend_id", "state"],
                ["__count"],
            )
        }
        failing = {
            (backend.id, state): count
            for backend, state, count in messages._read_group(
                [("backend_id", "in", self.ids), *self._needs_attention_domain()],
                ["backend_id", "state"],
                ["__count"],
            )
        }
        open_exc = {
            backend.id: (count, oldest)
            for backend, count, oldest in exceptions._read_group(
                [("backend_id", "in", self.ids), ("state", "in", ("new", "in_progress"))],
                ["backend_id"],
                ["__count", "create_date:min"],
            )
        }
        for backend in self:
            by_state = {state: n for (bid, state), n in counts.items() if bid == backend.id}
            backend.queued_count = sum(
                by_state.get(s, 0) for s in ("pending", "queued", "in_progress", "retry")
            )
            backend.failed_count = failing.get((backend.id, "failed"), 0)
            backend.dead_count = failing.get((backend.id, "dead"), 0)
            backend.open_exception_count, backend.oldest_open_exception_date = open_exc.get(
                backend.id, (0, False)
            )

    @api.depends("breaker_state", "last_success_at", "last_failure_at")
    def _compute_connection_status(self):
        status = {"open": "paused", "half_open": "probing"}
        for backend in self:
            backend.connection_status = status.get(backend.breaker_state, "healthy")
            backend.last_error_is_current = bool(
                backend.last_failure_at
                and (
                    not backend.last_success_at or backend.last_failure_at > backend.last_success_at
                )
            )

    @api.depends("environment", "code", "endpoint_ids.environment", "endpoint_ids.base_url")
    def _compute_production_endpoint_missing(self):
        for backend in self:
            backend.production_endpoint_missing = (
                backend.environment == "production" and not backend._has_production_endpoint()
            )

    def _has_production_endpoint(self):
        """A production endpoint in the database (a URL or an SFTP host) or in the server
        configuration."""
        self.ensure_one()
        endpoints = self.sudo().endpoint_ids.filtered(
            lambda e: e.environment == "production" and (e.base_url or e.sftp_host)
        )
        if endpoints:
            return True
        return bool(self.code) and any(
            self._config_value(name, environment="production") for name in ("base_url", "sftp_host")
        )

    @api.onchange("environment")
    def _onchange_environment_warn_production(self):
        if self.environment == "production" and not self._has_production_endpoint():
            return {
                "warning": {
                    # Not a dialog: the form keeps saying it in a banner until it is fixed.
                    "type": "notification",
                    "title": self.env._("No production endpoint"),
                    "message": self.env._(
                        "%(name)s has no production endpoint yet: once saved, its messages "
                        "would fail with a configuration error. Add the production endpoint "
                        "(Endpoints & Credentials tab) before switching, or switch back to Test.",
                        name=self.name or self.env._("This partner"),
                    ),
                }
            }
        return None

    @api.model
    def _logistics_transport_kind(self, adapter):
        """Which endpoint settings the adapter uses: "rest" (URL and authentication), "sftp"
        (SFTP server and folders) or "both". Partner addons extend it for their adapters; the
        endpoint form shows the matching settings (and any that are filled anyway)."""
        return "rest" if adapter == "generic_rest" else "both"

    # ------------------------------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("code") and vals.get("name"):
                vals["code"] = re.sub(r"[^a-z0-9]+", "_", vals["name"].lower()).strip("_")[:40]
            vals.setdefault("webhook_token", secrets.token_urlsafe(24))
            vals.setdefault("webhook_secret", webhook_signature.generate_secret())
        backends = super().create(vals_list)
        backends._ensure_job_channel()
        return backends

    def write(self, vals):
        res = super().write(vals)
        if "code" in vals:
            self._ensure_job_channel()
        return res

    def _ensure_job_channel(self):
        """Each partner gets its own queue_job channel, so one slow partner cannot starve the
        others; its capacity is set in the server configuration ([queue_job] channels)."""
        channels = self.env["queue.job.channel"].sudo()
        parent = channels.search([("complete_name", "=", "root.logistics")], limit=1)
        if not parent:
            parent = channels.create(
                {"name": "logistics", "parent_id": self.env.ref("queue_job.channel_root").id}
            )
        for backend in self:
            if not channels.search([("complete_name", "=", backend.channel_name)], limit=1):
                channels.create({"name": backend.code, "parent_id": parent.id})

    # ------------------------------------------------------------------------------------------
    # Endpoints and credentials
    # ------------------------------------------------------------------------------------------
    def _get_endpoint(self):
        """The endpoint of the current environment with credentials resolved from the
        environment variables, then the server configuration, then the database."""
        self.ensure_one()
        endpoint = self.sudo().endpoint_ids.filtered(lambda e: e.environment == self.environment)
        names = self.env["logistics.backend.endpoint"]._logistics_endpoint_fields()
        values = {name: endpoint[name] for name in names} if endpoint else {}
        values.update(self._credentials_from_server_config())
        if not values.get("base_url") and not values.get("sftp_host"):
            raise ConfigurationError(
                self.env._(
                    "Partner %(name)s has no %(env)s endpoint: add it in its Endpoints tab.",
                    name=self.name,
                    env=self.environment,
                )
            )
        values.setdefault("auth_kind", "none")
        return values

    def _config_value(self, field_name, environment=None):
        """One credential from the environment or the [logistics_connector] section (of the
        partner's current environment unless ``environment`` is given)."""
        environment = environment or self.environment
        key = f"{self.code}.{environment}.{field_name}"
        env_key = f"LOGISTICS_{self.code}_{environment}_{field_name}".upper()
        return os.environ.get(env_key) or odoo_config.misc.get("logistics_connector", {}).get(key)

    def _credentials_from_server_config(self):
        """Keys `<code>.<environment>.<field>` in the [logistics_connector] section of the Odoo
        configuration file, or env vars LOGISTICS_<CODE>_<ENVIRONMENT>_<FIELD>."""
        names = self.env["logistics.backend.endpoint"]._logistics_credential_fields()
        found = {name: self._config_value(name) for name in names}
        return {name: value for name, value in found.items() if value}

    def _secret_values(self):
        """Every secret this partner knows, so transports and archives can mask them."""
        self.ensure_one()
        sudo = self.sudo()
        secret_names = self.env["logistics.backend.endpoint"]._logistics_secret_field_names()
        values = [sudo.webhook_secret, sudo.webhook_secret_previous]
        values.append(self._config_value("webhook_secret"))
        for endpoint in sudo.endpoint_ids:
            values += [endpoint[name] for name in secret_names]
        values += [
            value
            for key, value in self._credentials_from_server_config().items()
            if key in secret_names
        ]
        return [value for value in values if value]

    def _masked_text(self, text):
        return mask_secrets(text, self._secret_values()) if text else text

    def _rest_transport(self):
        """The partner's REST transport, kept per worker thread while the partner's
        configuration is unchanged: its HTTP connections and OAuth2 token are reused."""
        self.ensure_one()
        endpoint = self._get_endpoint()
        settings = (
            self.api_version,
            self._timeouts(),
            tuple(sorted(endpoint.items())),
        )
        key = (self.env.cr.dbname, self.id, hashlib.sha256(repr(settings).encode()).digest())
        cache = _thread_transports.__dict__.setdefault("rest", {})
        transport = cache.get(key)
        if transport is None:
            # Drop this partner's stale transports (older configuration) before adding.
            for stale in [k for k in cache if k[:2] == key[:2]]:
                cache.pop(stale).close()
            transport = cache[key] = self._new_rest_transport(endpoint)
        return transport

    def _check_destination(self, target, what):
        """Refuse sending this partner's data where it must not go (lib/destinations.py)."""
        section = odoo_config.misc.get("logistics_connector", {})
        allowed = str(section.get("allow_internal_endpoints", "")).lower() in ("1", "true", "yes")
        check_destination(
            target,
            production=self.environment == "production",
            allow_internal=allowed,
            what=self.env._("%(what)s of %(name)s", what=what, name=self.name),
        )

    def _new_rest_transport(self, endpoint):
        self._check_destination(endpoint["base_url"], self.env._("base URL"))
        if endpoint["auth_kind"] == "oauth2" and endpoint.get("token_url"):
            self._check_destination(endpoint["token_url"], self.env._("OAuth2 token URL"))
        kind = endpoint["auth_kind"]
        auth = {"kind": kind}
        if kind == "basic":
            auth.update(username=endpoint.get("username"), password=endpoint.get("password"))
        elif kind == "bearer":
            auth.update(token=endpoint.get("token"))
        elif kind == "api_key":
            auth.update(header=endpoint.get("api_key_header"), value=endpoint.get("api_key"))
        elif kind == "oauth2":
            auth.update(
                token_url=endpoint.get("token_url"),
                client_id=endpoint.get("client_id"),
                client_secret=endpoint.get("client_secret"),
                scope=endpoint.get("scope"),
            )
        headers = {"X-API-Version": self.api_version} if self.api_version else None
        return RestTransport(
            endpoint["base_url"],
            auth=auth,
            timeout=self._timeouts(),
            default_headers=headers,
            secrets=self._secret_values(),
            cache_scope=(self.env.cr.dbname, self.id),
        )

    def _timeouts(self):
        """(connect, read) seconds; a synchronous exchange (context ``logistics_deadline``)
        caps both with its short deadline."""
        connect, read = self.connect_timeout or 5.0, self.read_timeout or 30.0
        deadline = self.env.context.get("logistics_deadline")
        if deadline:
            connect, read = min(connect, deadline), min(read, deadline)
        return (connect, read)

    def _sftp_transport(self):
        self.ensure_one()
        endpoint = self._get_endpoint()
        self._check_destination(endpoint.get("sftp_host") or "", self.env._("SFTP host"))
        if not endpoint.get("sftp_host_key"):
            raise ConfigurationError(
                self.env._(
                    "Partner %(name)s has no pinned SFTP host key: paste the server's public "
                    "host key line (ssh-ed25519 AAAA...) in its endpoint.",
                    name=self.name,
                )
            )
        return SftpTransport(
            endpoint["sftp_host"],
            int(endpoint.get("sftp_port") or 22),
            endpoint.get("sftp_username"),
            password=endpoint.get("sftp_password"),
            private_key=endpoint.get("sftp_private_key"),
            host_key=endpoint["sftp_host_key"],
            timeout=self.connect_timeout or 15,
        )

    def _sftp_poll(self, flow="file", limit=None):
        """Fetch the partner's new files from its inbound folder.

        Each file becomes an inbound message, stored raw and committed in a transaction of its
        own, and only then is the file moved to the archive folder: a crash in between leaves
        the file in place, and the next poll finds its message (the idempotency key - name,
        size and SHA-256 - is the partner's ledger of processed files, whichever flow polls)
        and just archives it. A new file under an old name has another hash: it is new.

        The folder is listed twice, ``sftp_settle_seconds`` apart: a file whose size or time
        changed in between is still being written and waits for the next poll. Files over
        ``sftp_max_file_kb`` wait too, with an exception. One bad file (unreadable, a name
        that is not UTF-8, a move that fails) gets an exception and never blocks the others.
        Only one poll of a partner runs at a time. Returns counts."""
        self.ensure_one()
        counts = {
            "received": 0,
            "already_received": 0,
            "refused": 0,
            "waiting": 0,
            "too_large": 0,
            "failed": 0,
        }
        self.env.cr.execute(
            "SELECT pg_try_advisory_lock(hashtext('logistics_sftp_poll'), %s)", (self.id,)
        )
        if not self.env.cr.fetchone()[0]:
            return counts  # another worker polls this partner right now
        try:
            self._sftp_poll_locked(flow, limit, counts)
        finally:
            self.env.cr.execute(
                "SELECT pg_advisory_unlock(hashtext('logistics_sftp_poll'), %s)", (self.id,)
            )
        return counts

    def _sftp_poll_locked(self, flow, limit, counts):
        endpoint = self._get_endpoint()
        folders = {
            "inbound": endpoint.get("sftp_inbound_folder") or "outbound",
            "archive": endpoint.get("sftp_archive_folder") or "archive",
            "error": endpoint.get("sftp_error_folder") or "error",
        }
        max_bytes = max(self.sftp_max_file_kb or 0, 0) * 1024
        with self._sftp_transport() as sftp:
            sftp.ensure_folder(folders["archive"])
            first = {
                name: (size, mtime) for name, size, mtime in sftp.list_files(folders["inbound"])
            }
            if self.sftp_settle_seconds > 0:
                time.sleep(self.sftp_settle_seconds)
            for name, size, mtime in sftp.list_files(folders["inbound"])[:limit]:
                if first.get(name) != (size, mtime):
                    counts["waiting"] += 1  # still being written: the next poll takes it
                    continue
                try:
                    outcome = self._sftp_take_file(sftp, folders, flow, name, size, max_bytes)
                except Exception as error:  # one bad file never stops the others
                    _logger.warning("SFTP file %r of %s failed: %s", name, self.name, error)
                    self._sftp_file_problem(name, folders, error)
                    outcome = "failed"
                counts[outcome] += 1

    def _sftp_take_file(self, sftp, folders, flow, name, size, max_bytes):
        """Store one file and archive it; returns what happened to it."""
        path = posixpath.join(
            folders["inbound"].encode() if isinstance(name, bytes) else folders["inbound"], name
        )
        if isinstance(name, bytes):
            # Not UTF-8: it cannot be named in Odoo or in a reply. Set aside, with a work item.
            sftp.ensure_folder(folders["error"])
            sftp.move(path, folders["error"])
            self._sftp_file_problem(
                name,
                folders,
                ConfigurationError(
                    self.env._(
                        "Its name is not valid UTF-8 text: it was moved to the error folder."
                    )
                ),
                moved=True,
            )
            return "refused"
        if max_bytes and size > max_bytes:
            self._sftp_file_problem(
                name,
                folders,
                ConfigurationError(
                    self.env._(
                        "It is %(size)s bytes, more than the %(limit)s accepted for this partner: "
                        "it stays on the server. Raise the partner's file size limit to take it.",
                        size=size,
                        limit=max_bytes,
                    )
                ),
            )
            return "too_large"
        data = sftp.read(path)
        if not data:
            # Nothing to store: the work item is committed first, then the file is set aside
            # where the partner can see it was refused.
            sftp.ensure_folder(folders["error"])
            self._sftp_file_problem(
                name,
                folders,
                DocumentValidationError(self.env._("The file was empty.")),
                moved=True,
            )
            sftp.move(path, folders["error"])
            return "refused"
        fingerprint = file_fingerprint(name, data)
        file_key = f"{name}:{fingerprint['size']}:{fingerprint['sha256']}"
        with autonomous_cursor(self.env) as cr:
            env = self.env(cr=cr)
            backend = self.with_env(env)
            messages = env["logistics.message"].sudo()
            # The ledger is the partner's, not a flow's: a file is stored once per partner.
            created = not messages.search_count(
                [
                    ("backend_id", "=", self.id),
                    ("direction", "=", "inbound"),
                    ("idempotency_key", "=", file_key),
                ],
                limit=1,
            )
            if created:
                _message, created = messages._create_inbound(
                    backend,
                    backend._get_adapter()._file_flow(backend, name, data, flow),
                    data,
                    headers={"filename": name, "size": fingerprint["size"]},
                    event_id=file_key,
                    filename=name,
                )
        sftp.move(path, folders["archive"])
        return "received" if created else "already_received"

    def _sftp_file_problem(self, name, folders, error, moved=False):
        """A work item, committed at once, for a file that could not be taken."""
        shown = name if isinstance(name, str) else name.decode("utf-8", "replace")
        text = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        with autonomous_cursor(self.env) as cr:
            backend = self.with_env(self.env(cr=cr))
            backend.env["logistics.exception"].raise_exception(
                "validation_error" if moved else "configuration_error",
                self.env._(
                    "File %(file)s from %(partner)s was not taken", file=shown, partner=self.name
                ),
                self.env._(
                    "%(file)s: %(error)s\nFolder: %(folder)s on the partner's server. The "
                    "other files are taken as usual.",
                    file=shown,
                    error=self._masked_text(text),
                    folder=folders["error"] if moved else folders["inbound"],
                ),
                backend=backend,
                dedup_key=f"sftp_file:{self.id}:{shown}",
            )

    def _get_adapter(self):
        """The adapter model of this partner. A code without its model (an addon registered
        the code but not the model, or was half uninstalled) is a configuration error in plain
        words, never a KeyError."""
        self.ensure_one()
        model_name = f"logistics.adapter.{self.adapter}"
        if model_name not in self.env:
            raise ConfigurationError(
                self.env._(
                    "The adapter %(adapter)s of %(name)s is not installed: choose another "
                    "adapter or install the addon that provides it.",
                    adapter=self.adapter,
                    name=self.name,
                )
            )
        return self.env[model_name]

    @api.constrains("adapter")
    def _check_adapter_installed(self):
        for backend in self:
            if f"logistics.adapter.{backend.adapter}" not in self.env:
                label = dict(self._fields["adapter"]._description_selection(self.env)).get(
                    backend.adapter, backend.adapter
                )
                raise ValidationError(
                    self.env._(
                        "The adapter %(adapter)s cannot be used yet: its addon registers the "
                        "name but provides no adapter model (logistics.adapter.%(code)s). "
                        "Choose another adapter.",
                        adapter=label,
                        code=backend.adapter,
                    )
                )

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
        self._execute_shared_state(
            """
            UPDATE logistics_backend
               SET breaker_state = 'closed', breaker_failures = 0, breaker_opened_at = NULL,
                   last_success_at = now() at time zone 'UTC'
             WHERE id = %s
               -- Health to the half-minute is enough: spare a row write per message.
               AND (breaker_state <> 'closed' OR breaker_failures <> 0
                    OR last_success_at IS NULL
                    OR last_success_at < now() at time zone 'UTC' - interval '30 seconds')
         RETURNING id
            """,
            (self.id,),
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

    def _flow_setting(self, flow, direction):
        self.ensure_one()
        return self.flow_ids.filtered(lambda f: f.flow == flow and f.direction == direction)[:1]

    def _flow_mode(self, flow, direction):
        return self._flow_setting(flow, direction).mode or "realtime"

    def action_reset_breaker(self):
        self.check_access("write")
        for backend in self:
            backend._breaker_record_success()
            self.env["logistics.audit.log"].record(
                "other", self.env._("Circuit breaker reset by hand"), backend=backend
            )

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------
    def action_test_connection(self):
        self.ensure_one()
        self.check_access("write")
        try:
            detail = self._get_adapter()._test_connection(self)
        except LogisticsError as error:
            return self._notify(
                self.env._("Connection to %(name)s failed", name=self.name), error.message, "danger"
            )
        return self._notify(
            self.env._("Connection to %(name)s works", name=self.name), detail, "success"
        )

    def _notify(self, title, text, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": title, "message": text, "type": kind, "sticky": kind != "success"},
        }

    def action_rotate_webhook_secret(self):
        """New current secret; the old one stays valid for the grace period so deliveries in
        flight (or a partner not yet reconfigured) are not rejected."""
        self.check_access("write")
        for backend in self.sudo():
            if backend._config_value("webhook_secret"):
                raise UserError(
                    self.env._(
                        "The signing secret of %(name)s comes from the server configuration "
                        "(environment or configuration file): rotate it there.",
                        name=backend.name,
                    )
                )
            backend.write(
                {
                    "webhook_secret_previous": backend.webhook_secret,
                    "webhook_secret_previous_expiry": fields.Datetime.now()
                    + timedelta(hours=backend.webhook_rotation_grace_hours),
                    "webhook_secret": webhook_signature.generate_secret(),
                }
            )
        if len(self) == 1:
            # The manager gives the new secret to the partner now: show it once, at hand.
            return self._secret_notification(
                self.env._("New signing secret of %(name)s", name=self.name),
                self.env._(
                    "%(secret)s\nGive it to the partner: the previous secret stays valid for "
                    "%(hours)s hours.",
                    secret=self.sudo().webhook_secret,
                    hours=self.webhook_rotation_grace_hours,
                ),
            )
        return True

    def action_show_webhook_secret(self):
        """Show the signing secret to a Logistics Manager (to give it to the partner or paste
        it into its portal); the reveal is audited."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(self.env._("Only Logistics Managers can see signing secrets."))
        if self._config_value("webhook_secret"):
            return self._notify(
                self.env._("Signing secret of %(name)s", name=self.name),
                self.env._(
                    "It comes from the server configuration (environment or configuration "
                    "file): ask the server administrator."
                ),
                "info",
            )
        secret = self.sudo().webhook_secret
        if not secret:
            raise UserError(
                self.env._(
                    "%(name)s has no signing secret: use Rotate signing secret.", name=self.name
                )
            )
        self.env["logistics.audit.log"].record(
            "other",
            self.env._(
                "Signing secret of %(name)s shown to %(user)s",
                name=self.name,
                user=self.env.user.name,
            ),
            backend=self,
        )
        return self._secret_notification(
            self.env._("Signing secret of %(name)s", name=self.name), secret
        )

    def _secret_notification(self, title, text):
        """A notification that stays until closed (the secret is copied from it), then the
        form shows the new state."""
        action = self._notify(title, text, "warning")
        action["params"]["sticky"] = True
        action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action

    def _webhook_secrets(self):
        """Secrets accepted now: the current one, then the previous one until it expires."""
        self.ensure_one()
        sudo = self.sudo()
        configured = self._config_value("webhook_secret")
        accepted = [configured or sudo.webhook_secret]
        if sudo.webhook_secret_previous and (
            not sudo.webhook_secret_previous_expiry
            or sudo.webhook_secret_previous_expiry > fields.Datetime.now()
        ):
            accepted.append(sudo.webhook_secret_previous)
        return [secret for secret in accepted if secret]

    def _action_open_related(self, model, name, extra_domain=None):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "list,form",
            "domain": [("backend_id", "=", self.id)] + (extra_domain or []),
            "context": {"default_backend_id": self.id},
        }

    def action_view_messages(self):
        return self._action_open_related("logistics.message", self.env._("Messages"))

    def action_view_failed_messages(self):
        return self._action_open_related(
            "logistics.message",
            self.env._("Failed messages"),
            self._needs_attention_domain(),
        )

    def action_view_exceptions(self):
        return self._action_open_related(
            "logistics.exception",
            self.env._("Open exceptions"),
            [("state", "in", ("new", "in_progress"))],
        )

    def action_view_mappings(self):
        return self._action_open_related("logistics.mapping", self.env._("Mappings"))

    # ------------------------------------------------------------------------------------------
    # Mappings
    # ------------------------------------------------------------------------------------------
    def _map(self, mapping_type, odoo_value, default=None):
        """Partner value for an Odoo value; a missing mapping is a configuration error that
        names exactly what to add."""
        self.ensure_one()
        mapping = (
            self.env["logistics.mapping"].sudo()._lookup(self, mapping_type, odoo_value=odoo_value)
        )
        if mapping:
            return mapping.partner_value
        if default is not None:
            return default
        raise self.env["logistics.mapping"]._missing_error(self, mapping_type, odoo_value, "odoo")

    def _unmap(self, mapping_type, partner_value, default=None):
        self.ensure_one()
        mapping = (
            self.env["logistics.mapping"]
            .sudo()
            ._lookup(self, mapping_type, partner_value=partner_value)
        )
        if mapping:
            return mapping.odoo_value
        if default is not None:
            return default
        raise self.env["logistics.mapping"]._missing_error(
            self, mapping_type, partner_value, "partner"
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_messages(self):
        if (
            self.env["logistics.message"]
            .sudo()
            .search_count([("backend_id", "in", self.ids)], limit=1)
        ):
            raise UserError(
                self.env._(
                    "This partner has messages: archive it instead of deleting it, so its "
                    "history and audit trail stay readable."
                )
            )


class LogisticsBackendEndpoint(models.Model):
    """Endpoint and credentials of one environment (test or production) of a partner.
    Only Logistics Managers can read it; the pipeline reads it with sudo."""

    _name = "logistics.backend.endpoint"
    _description = "Logistics Partner Endpoint"
    _inherit = ["logistics.audited.mixin"]
    _logistics_secret_fields = SECRET_FIELDS
    # A display toggle of the form, never saved.
    _logistics_audit_skip_fields = ("use_sftp",)
    _rec_name = "environment"

    backend_id = fields.Many2one("logistics.backend", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    environment = fields.Selection(
        [("test", "Test"), ("production", "Production")], required=True, default="test"
    )
    base_url = fields.Char(string="Base URL", help="e.g. https://api.partner.example/")
    auth_kind = fields.Selection(
        help="How Odoo authenticates to the partner's API. OAuth2 tokens are cached and "
        "refreshed on expiry or on a 401.",
        selection=[
            ("none", "None"),
            ("basic", "Basic (user + password)"),
            ("bearer", "Bearer token"),
            ("api_key", "API key header"),
            ("oauth2", "OAuth2 client credentials"),
        ],
        default="none",
        required=True,
    )
    username = fields.Char()
    password = fields.Char()
    token = fields.Char()
    api_key_header = fields.Char(
        default="X-Api-Key", help="Name of the HTTP header that carries the API key."
    )
    api_key = fields.Char(string="API Key")
    token_url = fields.Char(
        string="OAuth2 Token URL", help="Where client-credentials tokens are requested."
    )
    client_id = fields.Char(string="OAuth2 Client ID")
    client_secret = fields.Char(string="OAuth2 Client Secret")
    scope = fields.Char(string="OAuth2 Scope", help="Space-separated scopes, if the partner asks.")
    sftp_host = fields.Char(string="SFTP Host")
    sftp_port = fields.Integer(string="SFTP Port", default=22)
    sftp_username = fields.Char(string="SFTP User")
    sftp_password = fields.Char(string="SFTP Password")
    sftp_private_key = fields.Text(string="SFTP Private Key")
    sftp_host_key = fields.Char(
        string="SFTP Host Key",
        help="The server's public host key line (e.g. 'ssh-ed25519 AAAA...'). Connections to a "
        "server showing any other key are refused.",
    )
    # Folders are relative to the SFTP login directory unless they start with "/".
    sftp_inbound_folder = fields.Char(default="outbound", help="Where the partner drops files.")
    sftp_outbound_folder = fields.Char(default="inbound", help="Where Odoo uploads files.")
    sftp_archive_folder = fields.Char(
        default="archive", help="Where fetched files are moved once stored in Odoo."
    )
    sftp_error_folder = fields.Char(default="error", help="Where unreadable files are moved.")
    transport_kind = fields.Selection(
        [("rest", "REST / SOAP"), ("sftp", "SFTP"), ("both", "REST / SOAP and SFTP")],
        compute="_compute_transport_kind",
        help="The settings the partner's adapter uses; settings that are filled are shown "
        "whatever the adapter.",
    )
    use_sftp = fields.Boolean(
        string="Files over SFTP",
        compute="_compute_use_sftp",
        readonly=False,
        help="Also exchange files with this partner over SFTP (its inbound batch flows fetch "
        "them): shows the SFTP settings.",
    )

    @api.depends("backend_id.adapter", "base_url", "sftp_host")
    def _compute_transport_kind(self):
        backends = self.env["logistics.backend"]
        for endpoint in self:
            kind = backends._logistics_transport_kind(endpoint.backend_id.adapter)
            if (kind == "rest" and endpoint.sftp_host) or (kind == "sftp" and endpoint.base_url):
                kind = "both"  # never hide what is filled in
            endpoint.transport_kind = kind

    @api.depends("transport_kind")
    def _compute_use_sftp(self):
        for endpoint in self:
            endpoint.use_sftp = endpoint.transport_kind != "rest"

    @api.constrains("environment", "base_url", "token_url")
    def _check_production_uses_tls(self):
        for endpoint in self.filtered(lambda e: e.environment == "production"):
            for url in (endpoint.base_url, endpoint.token_url):
                if url and not url.lower().startswith("https://"):
                    raise ValidationError(
                        self.env._(
                            "The production endpoint of %(name)s must use https: %(url)s",
                            name=endpoint.backend_id.name,
                            url=url,
                        )
                    )

    @api.model
    def _logistics_credential_fields(self):
        """Fields that may also come from the server configuration or the environment.
        Partner addons add theirs (an account number, a WSDL location, ISA identifiers) to
        super()'s."""
        return list(CREDENTIAL_FIELDS)

    @api.model
    def _logistics_endpoint_fields(self):
        """Every field the pipeline reads from an endpoint (credentials included)."""
        return [*self._logistics_credential_fields(), *ENDPOINT_SETTING_FIELDS]

    _sql_constraints = [
        (
            "backend_environment_uniq",
            "unique(backend_id, environment)",
            "A partner has one endpoint per environment.",
        )
    ]
