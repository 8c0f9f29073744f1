import json
import logging
import os
import re
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..const import MANAGER_GROUP, FlowSettings
from ..lib import webhook_signature
from ..lib.errors import ConfigurationError

_logger = logging.getLogger(__name__)


class LogisticsBackend(models.Model):
    """A logistics partner: a 3PL warehouse, a carrier or an EDI trading partner."""

    _name = "logistics.backend"
    _description = "Logistics Partner"
    _inherit = ["mail.thread", "mail.activity.mixin", "logistics.audited.mixin"]
    _order = "sequence, name"
    _logistics_secret_fields = ("webhook_secret", "webhook_secret_previous")
    _logistics_settings_fields = (
        "code",
        "environment",
        "webhook_secret",
        "webhook_secret_previous",
    )

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
    def _addon_fields(self):
        """The stored fields partner addons add to the partner (their adapters' settings)."""
        return [
            name
            for name, field in self._fields.items()
            if field.store and field.column_type and field._module != "logistics_connector_base"
        ]

    @api.model
    def _needs_attention_domain(self):
        """Failed or dead messages still waiting for a person: those whose exceptions were all
        resolved or ignored are handled (a message without any exception still counts)."""
        return [("needs_person", "=", True)]

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

    def _flow_setting(self, flow, direction):
        self.ensure_one()
        return self.flow_ids.filtered(lambda f: f.flow == flow and f.direction == direction)[:1]

    def _flow_settings(self, flow, direction):
        """The flow's mode and acknowledgement deadline as the pipeline reads them, from the
        partner's cached exchange settings (no flow configured: mode False, no deadline)."""
        self.ensure_one()
        return self._exchange_settings()["flows"].get((flow, direction)) or FlowSettings(False, 0)

    def _flow_mode(self, flow, direction):
        return self._flow_settings(flow, direction).mode or "realtime"

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------
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

    @api.model
    def _demo_connect_sandboxes(self, sftp_connection_file):
        """Demo only (scripts/run, after the sandboxes started): point the demo partners at
        the ports their sandboxes were started on, and at the demo SFTP server, whose keys
        are new at every start (``connection.json`` written by ``python -m tests.sandboxes``).
        Partner addons with SFTP demo partners extend it."""
        self._demo_follow_sandbox_ports()
        return True

    @api.model
    def _demo_connect_sftp_partner(self, backend_xmlid, files_flow_xmlid, connection_file):
        """Point a demo SFTP partner at the demo SFTP server (``connection_file``: its
        connection.json, written at every start with new keys) and start fetching its files
        in batch. Demo only; a partner addon's demo partner calls it from
        _demo_connect_sandboxes."""
        backend = self.env.ref(backend_xmlid, raise_if_not_found=False)
        if not backend:
            return False
        with open(connection_file, encoding="utf-8") as handle:
            connection = json.load(handle)
        with open(connection["client_key"], encoding="utf-8") as handle:
            private_key = handle.read()
        backend.endpoint_ids.filtered(lambda e: e.environment == "test").write(
            {
                "sftp_host": connection["host"],
                "sftp_port": connection["port"],
                "sftp_username": connection["username"],
                "sftp_private_key": private_key,
                "sftp_host_key": connection["host_key"],
            }
        )
        files = self.env.ref(files_flow_xmlid, raise_if_not_found=False)
        if files:
            files.mode = "batch"
        return True

    @api.model
    def _demo_follow_sandbox_ports(self):
        for xmlid, variable, path in self._demo_sandbox_endpoints():
            port = os.environ.get(variable, "")
            endpoint = self.env.ref(xmlid, raise_if_not_found=False)
            if endpoint and port.isdigit():
                endpoint.base_url = f"http://127.0.0.1:{port}{path}"

    @api.model
    def _demo_sandbox_endpoints(self):
        """Demo REST endpoints with the run command's setting of their sandbox's port (e.g.
        for a second clone on one machine): (endpoint xmlid, environment variable, path after
        the port). Partner addons add their demo partners'."""
        return [
            ("logistics_connector_base.demo_backend_3pl_endpoint_test", "LC_SANDBOX_HTTP_PORT", "")
        ]

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
