import json

from odoo import api, models

from ..lib import webhook_signature
from ..lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
    LogisticsError,
)

# Generic REST: canonical flow -> partner resource path under /api/v1/.
GENERIC_REST_RESOURCES = {
    "order_release": "orders",
    "receipt": "receipts",
    "return": "returns",
    "shipment": "shipments",
    "freight_invoice": "freight-invoices",
}


class LogisticsAdapter(models.AbstractModel):
    """Translates canonical documents to a partner's wire format and back, and talks to the
    partner through a shared transport. Adapters never touch Odoo business records: builders
    and appliers do. A partner addon adds `logistics.adapter.<code>` (inheriting this model)
    and its code in the backend's `adapter` selection; integrators `_inherit` it to override
    one method."""

    _name = "logistics.adapter"
    _description = "Logistics Adapter"

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _send(self, message, resend=False):
        """Send ``message`` (its canonical payload). On ``resend`` (an earlier attempt may have
        reached the partner), ask the partner first and send only if it has nothing."""
        raise ConfigurationError(
            self.env._("The adapter %(name)s cannot send messages.", name=self._description)
        )

    # ---- inbound -----------------------------------------------------------------------------
    @api.model
    def _decode(self, message):
        """Return the list of canonical documents carried by an inbound message's raw payload."""
        raise ConfigurationError(
            self.env._("The adapter %(name)s cannot read messages.", name=self._description)
        )

    @api.model
    def _verify_webhook(self, backend, headers, body):
        """Authenticate a webhook delivery; return the partner's delivery id. Default: the
        Standard Webhooks scheme. Raises WebhookVerificationError."""
        return webhook_signature.verify(backend._webhook_secrets(), headers, body)

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        """Return a sentence saying what was checked; raise LogisticsError in plain words."""
        raise ConfigurationError(
            self.env._("The adapter %(name)s has no connection test.", name=self._description)
        )

    # ---- helpers shared by adapters ----------------------------------------------------------
    @api.model
    def _parse_json(self, raw, what):
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise DocumentValidationError(
                self.env._("The %(what)s is not valid JSON: %(error)s", what=what, error=error)
            ) from None


class LogisticsAdapterGenericRest(models.AbstractModel):
    """A partner that speaks the canonical documents as JSON over REST:
    POST /api/v1/<resource> with Idempotency-Key, GET /api/v1/<resource>?reference=... to find
    an earlier attempt, GET /api/v1/ping, and Standard Webhooks whose `data` is a canonical
    document."""

    _name = "logistics.adapter.generic_rest"
    _inherit = "logistics.adapter"
    _description = "Generic REST (JSON)"

    @api.model
    def _send(self, message, resend=False):
        backend = message.backend_id
        resource = GENERIC_REST_RESOURCES.get(message.flow)
        if not resource:
            raise ConfigurationError(
                self.env._("The generic REST adapter cannot send %(flow)s.", flow=message.flow)
            )
        transport = backend._rest_transport()
        document = message.canonical_payload or {}
        reference = document.get("reference")
        try:
            existing = None
            if resend and reference:
                found = transport.request(
                    "GET",
                    f"api/v1/{resource}",
                    params={"reference": reference},
                    correlation_id=message.correlation_id,
                ).json()
                items = found.get("items") or []
                existing = items[0] if items else None
            if existing:
                result = existing
            else:
                response = transport.request(
                    "POST",
                    f"api/v1/{resource}",
                    json=document,
                    correlation_id=message.correlation_id,
                    idempotency_key=message.idempotency_key,
                )
                result = self._parse_json(response.content, self.env._("partner's answer"))
        except LogisticsError as error:
            # Kept on the error: the attempt's savepoint is rolled back, the exchange is not.
            error.exchange = transport.last_exchange
            raise
        message._store_exchange(transport.last_exchange, backend._secret_values())
        if not isinstance(result, dict) or not result.get("id"):
            raise BusinessError(
                self.env._(
                    "The partner's answer has no document id: %(answer)s",
                    answer=message._masked(str(result))[:300],
                )
            )
        message.write({"external_id": str(result["id"])})
        return result

    @api.model
    def _decode(self, message):
        envelope = self._parse_json(message._raw_payload(), self.env._("webhook body"))
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if not isinstance(data, dict):
            raise DocumentValidationError(
                self.env._("The webhook body has no 'data' object with a canonical document.")
            )
        return [data]

    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        response = transport.request("GET", "api/v1/ping")
        return self.env._(
            "The partner answered %(status)s to an authenticated ping in %(ms)s ms.",
            status=response.status,
            ms=int(response.elapsed * 1000),
        )
