import base64
import json
from urllib.parse import quote

import requests

from odoo import api, models
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
    TransientError,
)
from odoo.addons.logistics_connector_base.lib.webhook_signature import WebhookVerificationError

from ..lib import easypost

# Where EasyPost's answer says what went wrong.
ERROR_HINTS = {
    "ADDRESS.VERIFY.FAILURE": "The carrier could not verify the address: correct the contact's "
    "address (street, city, ZIP code), then retry.",
    "SHIPMENT.INVALID_PARAMS": "The carrier refused the shipment's data: complete what it names, "
    "then retry.",
}


class LogisticsAdapterEasypost(models.AbstractModel):
    """A carrier speaking EasyPost's REST API (v2): rates and labels through shipments, refunds,
    trackers, and webhook events signed with X-Hmac-Signature. Basic auth: the API key as the
    endpoint's user name (Test and Production keys on the two endpoints)."""

    _name = "logistics.adapter.easypost"
    _inherit = "logistics.adapter"
    _description = "EasyPost (REST)"

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _send(self, message, resend=False):
        handler = getattr(self, f"_send_{message.flow}", None)
        if handler is None:
            raise ConfigurationError(
                self.env._("The EasyPost adapter cannot send %(flow)s.", flow=message.flow)
            )
        transport = message.backend_id._rest_transport()
        with self._exchange(message, transport):
            answer = handler(message, transport, message.canonical_payload or {}, resend)
        if answer.get("shipment_id"):
            message.write({"external_id": answer["shipment_id"]})
        return answer

    @api.model
    def _send_rate(self, message, transport, document, resend):
        shipment = self._call(
            message, transport, "POST", "v2/shipments", json=easypost.shipment_request(document)
        )
        return {
            "shipment_id": shipment.get("id"),
            "rates": [easypost.rate_summary(rate) for rate in shipment.get("rates") or []],
        }

    @api.model
    def _send_label(self, message, transport, document, resend):
        """Buy the label of one parcel. The document's reference is the shipment's reference at
        the carrier: a retry (resend) first looks it up and finishes what an earlier attempt
        started, so a label is never bought twice."""
        shipment = None
        if resend:
            shipment = self._find_shipment(message, transport, document["reference"])
        if shipment is None:
            shipment = self._call(
                message,
                transport,
                "POST",
                "v2/shipments",
                json=easypost.shipment_request(document),
            )
        if not shipment.get("postage_label"):
            carrier = dict(document.get("carrier") or {})
            carrier.setdefault("code", (document.get("extensions") or {}).get("carrier_code"))
            rate = easypost.choose_rate(
                shipment.get("rates"), carrier.get("code"), carrier.get("service")
            )
            if rate is None:
                offered = ", ".join(
                    sorted({f"{r.get('carrier')} {r.get('service')}" for r in shipment["rates"]})
                )
                raise BusinessError(
                    self.env._(
                        "The carrier offers no %(service)s service for this parcel (offered: "
                        "%(offered)s): choose one of them on the shipping method.",
                        service=" ".join(
                            filter(None, [carrier.get("code"), carrier.get("service")])
                        )
                        or self.env._("matching"),
                        offered=offered or self.env._("none"),
                    )
                )
            shipment = self._call(
                message,
                transport,
                "POST",
                f"v2/shipments/{shipment['id']}/buy",
                json={"rate": {"id": rate["id"]}},
            )
        answer = easypost.label_answer(shipment)
        answer["label_base64"] = self._download_label(message, answer["label_url"])
        answer["label_format"] = (document.get("extensions") or {}).get("label_format") or "PDF"
        return answer

    @api.model
    def _find_shipment(self, message, transport, reference):
        response = transport.request(
            "GET",
            f"v2/shipments/{quote(reference, safe='')}",
            correlation_id=message.correlation_id,
            accept_statuses=(404,),
        )
        return None if response.status == 404 else self._json(response)

    @api.model
    def _send_label_cancel(self, message, transport, document, resend):
        shipment_id = (document.get("extensions") or {}).get("shipment_id")
        if not shipment_id:
            raise DocumentValidationError(
                self.env._("%(name)s names no shipment to refund.", name=message.name)
            )
        shipment = self._call(
            message, transport, "POST", f"v2/shipments/{quote(shipment_id, safe='')}/refund"
        )
        status = shipment.get("refund_status")
        if status == "rejected":
            raise BusinessError(
                self.env._(
                    "The carrier refused to refund the label %(tracking)s: the parcel is "
                    "already on its way. Ask the carrier, or keep the label.",
                    tracking=shipment.get("tracking_code"),
                )
            )
        return {"shipment_id": shipment.get("id"), "refund_status": status}

    @api.model
    def _call(self, message, transport, method, path, json=None):
        try:
            response = transport.request(
                method,
                path,
                json=json,
                correlation_id=message.correlation_id,
                idempotency_key=message.idempotency_key if method == "POST" else None,
            )
        except BusinessError as error:
            raise self._plain_error(error) from None
        return self._json(response)

    @api.model
    def _json(self, response):
        try:
            value = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            # A carrier answering garbage is having a bad moment: try again later.
            raise TransientError(
                self.env._(
                    "The carrier's answer is not JSON (HTTP %(status)s).", status=response.status
                ),
                details={"request_sent": True},
            ) from None
        if not isinstance(value, dict):
            raise TransientError(self.env._("The carrier's answer is not a JSON object."))
        return value

    @api.model
    def _plain_error(self, error):
        """EasyPost's error object in plain words, with what to do about it."""
        response = getattr(error, "response", None)
        try:
            body = json.loads(response.content) if response is not None else {}
        except (ValueError, UnicodeDecodeError):
            body = {}
        detail = body.get("error") if isinstance(body, dict) else None
        if not isinstance(detail, dict):
            return error
        fields = "; ".join(
            f"{item.get('field')}: {item.get('message')}"
            for item in detail.get("errors") or []
            if isinstance(item, dict)
        )
        text = detail.get("message") or error.message
        if fields:
            text = f"{text} ({fields})"
        hint = ERROR_HINTS.get(detail.get("code"))
        if hint:
            text = f"{text} {self.env._(hint)}"
        plain = BusinessError(text, status=error.status, details={"code": detail.get("code")})
        plain.exchange = getattr(error, "exchange", None)
        return plain

    @api.model
    def _download_label(self, message, url):
        """The label file. EasyPost serves it from a storage host of its own: fetched without
        the API key, from an address the partner's destination rules allow."""
        if not url:
            raise TransientError(self.env._("The carrier has not published the label yet."))
        backend = message.backend_id
        backend._check_destination(url, self.env._("label URL"))
        try:
            response = requests.get(url, timeout=backend._timeouts())
        except requests.RequestException as error:
            raise TransientError(
                self.env._("The label could not be downloaded: %(error)s", error=error),
                details={"request_sent": True},
            ) from None
        if response.status_code != 200 or not response.content:
            raise TransientError(
                self.env._(
                    "The label could not be downloaded (HTTP %(status)s).",
                    status=response.status_code,
                )
            )
        return base64.b64encode(response.content).decode()

    # ---- tracking by polling -----------------------------------------------------------------
    @api.model
    def _fetch_tracker(self, backend, tracker_id):
        """The carrier's tracker as raw bytes, stored as an inbound message like a webhook."""
        transport = backend._rest_transport()
        response = transport.request("GET", f"v2/trackers/{quote(tracker_id, safe='')}")
        tracker = self._json(response)
        event = {"object": "Event", "description": "tracker.polled", "result": tracker}
        # No event id: an unchanged tracker is the same body, stored once (content hash).
        return json.dumps(event, sort_keys=True).encode(), None

    # ---- inbound -----------------------------------------------------------------------------
    @api.model
    def _verify_webhook(self, backend, headers, body):
        secrets = backend._webhook_secrets()
        if not secrets:
            raise ConfigurationError(
                self.env._(
                    "%(name)s has no webhook signing secret: use Rotate signing secret on its "
                    "Webhooks tab and register the new secret with the carrier's webhook.",
                    name=backend.name,
                )
            )
        given = next(
            (value for key, value in headers.items() if key.lower() == "x-hmac-signature"), None
        )
        if not given:
            raise WebhookVerificationError("missing X-Hmac-Signature header", 400)
        if not easypost.signature_matches(secrets, given, body):
            raise WebhookVerificationError("the X-Hmac-Signature does not match the body", 401)

    @api.model
    def _webhook_deliveries(self, backend, headers, body):
        self._verify_webhook(backend, headers, body)
        event = self._parse_json(body, self.env._("webhook body"))
        if not isinstance(event, dict) or event.get("object") != "Event" or not event.get("id"):
            raise DocumentValidationError(
                self.env._("The webhook body is not an EasyPost Event (object, id).")
            )
        return [{"flow": self._webhook_flow(event), "raw": body, "event_id": event["id"]}]

    @api.model
    def _webhook_flow(self, envelope):
        description = str(envelope.get("description") or "")
        return "tracking_event" if description.startswith("tracker.") else "webhook"

    @api.model
    def _decode(self, message):
        event = self._parse_json(message._raw_payload(), self.env._("carrier event"))
        result = event.get("result") if isinstance(event, dict) else None
        if not str(event.get("description") or "").startswith("tracker."):
            return []  # refund and batch events: kept, nothing to apply
        if not isinstance(result, dict) or not result.get("tracking_code"):
            raise DocumentValidationError(self.env._("The tracker event carries no tracking code."))
        return easypost.tracking_events(result)

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        response = transport.request("GET", "v2/webhooks")
        return self.env._(
            "The carrier accepted the API key (HTTP %(status)s in %(ms)s ms).",
            status=response.status,
            ms=int(response.elapsed * 1000),
        )
