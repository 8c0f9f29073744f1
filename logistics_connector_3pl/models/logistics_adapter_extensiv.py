import base64
import hashlib
import json
import threading
import time
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
)

from ..lib import extensiv

# Access tokens per partner and credentials, shared by the workers of a process; renewed a
# minute before they expire, and at once when the partner answers 401.
_tokens = {}
_tokens_lock = threading.Lock()
TOKEN_MARGIN = 60
HAL = "application/hal+json"


class LogisticsAdapterExtensiv(models.AbstractModel):
    """A 3PL on Extensiv 3PL Warehouse Manager: orders are created over REST (client-
    credentials token that expires, HAL answers) and what the warehouse did is polled (no
    webhooks): orders changed since a watermark (``readOnly.lastModifiedDate``), paged with
    pgnum/pgsiz. The watermark moves only with what was stored, in the same transaction, and
    each poll reads a little before it: nothing is missed (late commits, ties on the same
    timestamp) and nothing is applied twice (a change is stored under its order id, date and
    content)."""

    _name = "logistics.adapter.extensiv"
    _inherit = "logistics.adapter"
    _description = "Extensiv 3PL Warehouse Manager (polling)"

    # ---- authentication ----------------------------------------------------------------------
    @api.model
    def _token(self, backend, transport, stale=None):
        endpoint = backend._get_endpoint()
        missing = [
            name
            for name in ("client_id", "client_secret", "extensiv_tpl", "extensiv_user_login_id")
            if not endpoint.get(name)
        ]
        if missing:
            raise ConfigurationError(
                self.env._(
                    "%(partner)s needs %(missing)s on its endpoint (issued by Extensiv).",
                    partner=backend.name,
                    missing=", ".join(missing),
                )
            )
        secret = hashlib.sha256(endpoint["client_secret"].encode()).hexdigest()
        key = (self.env.cr.dbname, backend.id, endpoint["client_id"], secret)
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and cached[0] != stale and cached[1] > time.monotonic():
                return cached[0]
            pair = f"{endpoint['client_id']}:{endpoint['client_secret']}".encode()
            url = endpoint.get("token_url") or "AuthServer/api/Token"
            response = transport.request(
                "POST",
                url,
                json={
                    "grant_type": "client_credentials",
                    "tpl": endpoint["extensiv_tpl"],
                    "user_login_id": endpoint["extensiv_user_login_id"],
                },
                headers={"Authorization": "Basic " + base64.b64encode(pair).decode()},
            )
            answer = response.json() or {}
            if not answer.get("access_token"):
                raise ConfigurationError(
                    self.env._("Extensiv gave no access token: check the token URL.")
                )
            lifetime = float(answer.get("expires_in") or 600)
            _tokens[key] = (
                answer["access_token"],
                time.monotonic() + lifetime - min(TOKEN_MARGIN, lifetime / 10),
            )
            return answer["access_token"]

    @api.model
    def _request(self, backend, transport, method, path, **kwargs):
        """One authenticated call; a 401 (token expired or revoked) gets one new token."""
        statuses = (401, *kwargs.pop("accept_statuses", ()))
        token = self._token(backend, transport)
        for _attempt in range(2):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": HAL, "Accept": HAL}
            response = transport.request(
                method, path, headers=headers, accept_statuses=statuses, **kwargs
            )
            if response.status != 401:
                return response
            token = self._token(backend, transport, stale=token)
        raise ConfigurationError(
            self.env._("Extensiv refused a fresh token (HTTP 401): check the credentials.")
        )

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _sends_flow(self, flow):
        """The transfers this adapter sends when they become ready."""
        return flow in ("order_release",)

    @api.model
    def _send(self, message, resend=False):
        if message.flow != "order_release":
            raise ConfigurationError(
                self.env._("The Extensiv adapter cannot send %(flow)s.", flow=message.flow)
            )
        backend = message.backend_id
        document = message.canonical_payload or {}
        reference = document["reference"]
        transport = backend._rest_transport()
        action = document.get("action") or "create"
        with self._exchange(message, transport):
            found = None
            if resend or action != "create":
                found = self._find(backend, transport, reference)
            if action == "cancel":
                result = self._cancel(message, backend, transport, found, reference)
            elif action == "update":
                raise BusinessError(
                    self.env._(
                        "Extensiv orders are not changed by the connector: ask the warehouse to "
                        "change %(reference)s, or cancel the transfer and send a new one.",
                        reference=reference,
                    )
                )
            else:
                result = found or self._create(message, backend, transport, document)
        order_id = (result.get("readOnly") or {}).get("orderId")
        if order_id:
            message.write({"external_id": str(order_id)})
        return {"id": order_id, "reference": reference}

    @api.model
    def _find(self, backend, transport, reference):
        page = self._request(
            backend, transport, "GET", "orders", params={"rql": f'referenceNum=="{reference}"'}
        ).json()
        orders, _total = extensiv.orders_of(page)
        return orders[0] if orders else None

    @api.model
    def _create(self, message, backend, transport, document):
        facility = str(document["warehouse_code"])  # mapped by the builder
        if not facility.isdigit() or not backend.extensiv_customer_id:
            raise ConfigurationError(
                self.env._(
                    "%(partner)s needs its Extensiv Customer ID and a Warehouse mapping to the "
                    "facility id (a number), then retry.",
                    partner=backend.name,
                )
            )
        service = (document.get("carrier") or {}).get("service") or backend.default_service_level
        payload = extensiv.order_payload(
            document, backend.extensiv_customer_id, int(facility), service
        )
        response = self._request(
            backend, transport, "POST", "orders", json=payload, accept_statuses=(400,)
        )
        if response.status == 400:
            if "unique" in response.text.lower():
                # An earlier attempt landed (its answer was lost): bind that order.
                found = self._find(backend, transport, document["reference"])
                if found:
                    return found
            raise BusinessError(
                self.env._(
                    "Extensiv refused order %(reference)s: %(answer)s",
                    reference=document["reference"],
                    answer=response.text[:300],
                ),
                status=400,
            )
        return response.json()

    @api.model
    def _cancel(self, message, backend, transport, order, reference):
        if not order or extensiv.is_canceled(order):
            return order or {}
        order_id = order["readOnly"]["orderId"]
        response = self._request(
            backend, transport, "POST", f"orders/{order_id}/canceler", accept_statuses=(400,)
        )
        if response.status == 400:
            raise BusinessError(
                self.env._(
                    "Extensiv can no longer cancel %(reference)s (%(answer)s): it will ship. "
                    "Stop the parcel with the carrier or create a return once it arrives.",
                    reference=reference,
                    answer=response.text[:200],
                )
            )
        return response.json()

    # ---- polling -----------------------------------------------------------------------------
    @api.model
    def _poll(self, backend):
        """Read the orders changed since the watermark (every page) and store each shipped or
        cancelled one as an inbound message; the watermark moves in the same transaction.
        Returns the messages created."""
        transport = backend._rest_transport()
        since = self._poll_since(backend)
        size = min(max(backend.poll_page_size or 100, 1), 500)
        orders, page = [], 1
        while True:
            answer = self._request(
                backend,
                transport,
                "GET",
                "orders",
                params={
                    "pgsiz": size,
                    "pgnum": page,
                    "rql": f"readOnly.lastModifiedDate=ge={since}",
                    "sort": "readOnly.lastModifiedDate",
                    "detail": "All",
                    "itemdetail": "All",
                },
            ).json()
            batch, total = extensiv.orders_of(answer)
            orders += batch
            if not batch or page * size >= total:
                break
            page += 1
        messages = self.env["logistics.message"]
        newest = backend.poll_watermark
        for order in orders:
            modified = order["readOnly"]["lastModifiedDate"]
            newest = max(newest or modified, modified)
            flow = (
                "shipment"
                if extensiv.is_shipped(order)
                else "ack"
                if extensiv.is_canceled(order)
                else None
            )
            if not flow:
                continue
            raw = json.dumps(order, sort_keys=True).encode()
            digest = hashlib.sha256(raw).hexdigest()[:16]
            message, created = messages._create_inbound(
                backend,
                flow,
                raw,
                event_id=f"order:{order['readOnly']['orderId']}@{modified}:{digest}",
            )
            if created:
                messages |= message
        if newest and newest != backend.poll_watermark:
            backend.sudo().poll_watermark = newest
        return messages

    @api.model
    def _poll_since(self, backend):
        if not backend.poll_watermark:
            start = fields.Datetime.now() - timedelta(days=7)
            return start.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
        moment = datetime.fromisoformat(backend.poll_watermark.replace("Z", "+00:00"))
        moment -= timedelta(seconds=max(backend.poll_overlap_seconds, 0))
        return (
            moment.astimezone(timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )

    @api.model
    def _decode(self, message):
        order = self._parse_json(message._raw_payload(), self.env._("Extensiv order"))
        if message.flow == "ack":
            return [extensiv.cancellation_of(order)]
        return [extensiv.shipment_of(order)]

    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        answer = self._request(backend, transport, "GET", "orders", params={"pgsiz": 1}).json()
        _orders, total = extensiv.orders_of(answer)
        return self.env._(
            "Extensiv issued a token and lists %(total)s order(s) for these credentials.",
            total=total,
        )
