"""A partner's endpoints (one per environment) and where their credentials come from."""

import logging
import os

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import config as odoo_config

from ..const import FlowSettings
from ..lib.errors import ConfigurationError
from ..lib.masking import mask_secrets

_logger = logging.getLogger(__name__)

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
SECRET_FIELDS = (
    "password",
    "token",
    "api_key",
    "client_secret",
    "sftp_password",
    "sftp_private_key",
)


class LogisticsBackend(models.Model):
    """Endpoint and credential resolution of a partner."""

    _inherit = "logistics.backend"

    # ------------------------------------------------------------------------------------------
    # Endpoints and credentials
    # ------------------------------------------------------------------------------------------
    def _get_endpoint(self):
        """The endpoint of the current environment with credentials resolved from the
        environment variables, then the server configuration, then the database."""
        self.ensure_one()
        values = dict(self._exchange_settings()["endpoint"])
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

    def _exchange_settings(self):
        """What every exchange with this partner reads: the current environment's endpoint
        (credentials resolved), every secret to mask, the flows' settings. Kept per worker
        until an administrator changes the partner, an endpoint or a flow (their models
        declare _logistics_settings_fields), or the server configuration's credentials."""
        self.ensure_one()
        section = odoo_config.misc.get("logistics_connector", {})
        from_environment = [(k, v) for k, v in os.environ.items() if k.startswith("LOGISTICS_")]
        return self._exchange_settings_cached(
            tuple(sorted(section.items())), tuple(sorted(from_environment))
        )

    @tools.ormcache("self.id", "configured", "from_environment")
    def _exchange_settings_cached(self, configured, from_environment):
        endpoint_model = self.env["logistics.backend.endpoint"].sudo()
        names = endpoint_model._logistics_endpoint_fields()
        endpoint = endpoint_model.search_fetch(
            [("backend_id", "=", self.id), ("environment", "=", self.environment)],
            names,
            limit=1,
        )
        values = {name: endpoint[name] for name in names} if endpoint else {}
        values.update(self._credentials_from_server_config())
        flows = {
            (flow.flow, flow.direction): FlowSettings(flow.mode, flow.ack_expected_minutes)
            for flow in self.sudo().flow_ids
        }
        return {
            "endpoint": values,
            "secrets": tuple(self._read_secret_values()),
            "flows": flows,
        }

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
        return list(self._exchange_settings()["secrets"])

    def _read_secret_values(self):
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


class LogisticsBackendEndpoint(models.Model):
    """Endpoint and credentials of one environment (test or production) of a partner.
    Only Logistics Managers can read it; the pipeline reads it with sudo."""

    _name = "logistics.backend.endpoint"
    _description = "Logistics Partner Endpoint"
    _inherit = ["logistics.audited.mixin"]
    _logistics_secret_fields = SECRET_FIELDS
    # A display toggle of the form, never saved.
    _logistics_audit_skip_fields = ("use_sftp",)
    _logistics_settings_fields = True
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
