import json
from contextlib import contextmanager

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
    and appliers do.

    The contract (README "Writing an adapter"): a partner addon adds the model
    `logistics.adapter.<code>` (inheriting this one) *and* its code in the backend's
    `adapter` selection - a code without its model is refused when a partner is saved. It
    implements what its protocol supports: `_send` (outbound), `_webhook_deliveries` and
    `_decode` (inbound), `_test_connection`. Integrators `_inherit` it to override one
    method."""

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
        secrets = backend._webhook_secrets()
        if not secrets:
            # Refusing with 401 would blame the sender for our missing setting.
            raise ConfigurationError(
                self.env._(
                    "%(name)s has no webhook signing secret: use Rotate signing secret on its "
                    "Webhooks tab and give the new secret to the partner.",
                    name=backend.name,
                )
            )
        return webhook_signature.verify(secrets, headers, body)

    @api.model
    def _webhook_deliveries(self, backend, headers, body):
        """Turn one authenticated webhook body into the inbound exchanges to store: a list of
        ``{"flow": ..., "raw": bytes, "event_id": str or None}``, one per document the body
        carries, each stored raw and processed by a job of its own. The adapter decides the
        format (JSON, XML, form fields, X12) and the flow each part feeds.

        Raise DocumentValidationError for a body that cannot be read (answered 400, never
        stored), WebhookVerificationError for a forged one, ConfigurationError when our own
        setup is at fault (answered 503 so the partner keeps the event). Default: the body is
        one JSON event, verified by `_verify_webhook`, stored whole on the "webhook" flow."""
        event_id = self._verify_webhook(backend, headers, body)
        try:
            envelope = json.loads(body)
        except RecursionError:
            raise DocumentValidationError("body is not valid JSON (nested too deeply)") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise DocumentValidationError(f"body is not valid JSON ({error})") from None
        return [{"flow": self._webhook_flow(envelope), "raw": body, "event_id": event_id}]

    @api.model
    def _webhook_flow(self, envelope):
        """The flow a JSON webhook event feeds (parsed once, here). Default: "webhook"."""
        return "webhook"

    @api.model
    def _file_flow(self, backend, name, data, default_flow):
        """The flow an inbound file feeds (e.g. by its name, or the X12 set it carries).
        Default: the flow that polled the folder."""
        return default_flow

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        """Return a sentence saying what was checked; raise LogisticsError in plain words."""
        raise ConfigurationError(
            self.env._("The adapter %(name)s has no connection test.", name=self._description)
        )

    # ---- helpers shared by adapters ----------------------------------------------------------
    @contextmanager
    def _exchange(self, message, transport):
        """Around the calls an adapter makes for ``message``: what went over the wire is
        archived on the message (secrets masked) on success, and kept on the error on failure
        (the attempt's savepoint is rolled back, the archive of the exchange must not be)::

            with self._exchange(message, transport):
                response = transport.request("POST", "orders", json=document)
        """
        try:
            yield transport
        except LogisticsError as error:
            if getattr(error, "exchange", None) is None:
                error.exchange = transport.last_exchange
            raise
        message._store_exchange(transport.last_exchange, message.backend_id._secret_values())

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
        with self._exchange(message, transport):
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
    def _webhook_flow(self, envelope):
        """A Standard Webhooks event whose ``data`` is a canonical document (or a list of
        them) feeds the flow its schema names."""
        flows = {self._flow_of(document) for document in self._documents_of(envelope)}
        return flows.pop() if len(flows) == 1 else "webhook"

    @api.model
    def _flow_of(self, document):
        name = str(document.get("schema") or "").split("/")[0]
        flows = dict(self.env["logistics.message"]._fields["flow"].selection)
        return name if name in flows else "webhook"

    @api.model
    def _documents_of(self, envelope):
        data = envelope.get("data") if isinstance(envelope, dict) else None
        documents = data if isinstance(data, list) else [data]
        if not documents or not all(isinstance(document, dict) for document in documents):
            raise DocumentValidationError(
                self.env._(
                    "The webhook body has no 'data' object (or list of objects) with a "
                    "canonical document."
                )
            )
        return documents

    @api.model
    def _decode(self, message):
        return self._documents_of(
            self._parse_json(message._raw_payload(), self.env._("webhook body"))
        )

    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        response = transport.request("GET", "api/v1/ping")
        return self.env._(
            "The partner answered %(status)s to an authenticated ping in %(ms)s ms.",
            status=response.status,
            ms=int(response.elapsed * 1000),
        )
