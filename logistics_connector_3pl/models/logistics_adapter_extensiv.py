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
    """A 3PL on Extensiv 3PL Warehouse Manager: orders, and receivers for advance shipping
    notices and customer returns, are created over REST (client-credentials token that
    expires, HAL answers) and what the warehouse did is polled (no webhooks): orders and
    receivers changed since their watermarks (``readOnly.lastModifiedDate``), paged with
    pgnum/pgsiz; inventory is read from the facilities' stock details. A watermark moves
    only with what was stored, in the same transaction, and
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
        """The transfers this adapter sends when they become ready: orders, advance shipping
        notices and customer returns (both booked as receivers in Warehouse Manager)."""
        return flow in ("order_release", "receipt", "return")

    @api.model
    def _send(self, message, resend=False):
        if message.flow not in ("order_release", "receipt", "return"):
            raise ConfigurationError(
                self.env._("The Extensiv adapter cannot send %(flow)s.", flow=message.flow)
            )
        backend = message.backend_id
        document = message.canonical_payload or {}
        reference = document["reference"]
        transport = backend._rest_transport()
        action = document.get("action") or "create"
        with self._exchange(message, transport):
            if message.flow != "order_release":
                result = self._create_receiver(message, backend, transport, document, resend)
            else:
                found = None
                if resend or action != "create":
                    found = self._find(backend, transport, reference)
                if action == "cancel":
                    result = self._cancel(message, backend, transport, found, reference)
                elif action == "update":
                    raise BusinessError(
                        self.env._(
                            "Extensiv orders are not changed by the connector: ask the warehouse "
                            "to change %(reference)s, or cancel the transfer and send a new one.",
                            reference=reference,
                        )
                    )
                else:
                    result = found or self._create(message, backend, transport, document)
        read_only = result.get("readOnly") or {}
        partner_id = read_only.get("orderId") or read_only.get("receiverId")
        if partner_id:
            message.write({"external_id": str(partner_id)})
        return {"id": partner_id, "reference": reference}

    @api.model
    def _find(self, backend, transport, reference, path="orders"):
        """The order (or receiver, ``path`` inventory/receivers) with this reference, or None."""
        page = self._request(
            backend, transport, "GET", path, params={"rql": f'referenceNum=="{reference}"'}
        ).json()
        found, _total = extensiv.embedded_of(page, extensiv.ORDER_REL, extensiv.RECEIVER_REL)
        return found[0] if found else None

    @api.model
    def _facility(self, backend, document):
        facility = str(document.get("warehouse_code") or "")  # mapped by the builder
        if not facility.isdigit() or not backend.extensiv_customer_id:
            raise ConfigurationError(
                self.env._(
                    "%(partner)s needs its Extensiv Customer ID and a Warehouse mapping to the "
                    "facility id (a number), then retry.",
                    partner=backend.name,
                )
            )
        return int(facility)

    @api.model
    def _post_unique(self, backend, transport, path, payload, what):
        """Create an order or receiver, unique by its referenceNum: a 400 saying so means an
        earlier attempt landed (its answer was lost), and that one is bound."""
        response = self._request(
            backend, transport, "POST", path, json=payload, accept_statuses=(400,)
        )
        if response.status == 400:
            if "unique" in response.text.lower():
                found = self._find(backend, transport, payload["referenceNum"], path)
                if found:
                    return found
            raise BusinessError(
                self.env._(
                    "Extensiv refused %(what)s: %(answer)s",
                    what=what,
                    answer=response.text[:300],
                ),
                status=400,
            )
        return response.json()

    @api.model
    def _create(self, message, backend, transport, document):
        facility = self._facility(backend, document)
        service = (document.get("carrier") or {}).get("service") or backend.default_service_level
        payload = extensiv.order_payload(document, backend.extensiv_customer_id, facility, service)
        return self._post_unique(
            backend,
            transport,
            "orders",
            payload,
            self.env._("order %(reference)s", reference=document["reference"]),
        )

    @api.model
    def _create_receiver(self, message, backend, transport, document, resend):
        """An advance shipping notice or a customer return, as a receiver the warehouse will
        receive against."""
        path = "inventory/receivers"
        if resend:
            found = self._find(backend, transport, document["reference"], path)
            if found:
                return found
        payload = extensiv.receiver_payload(
            document, backend.extensiv_customer_id, self._facility(backend, document), message.flow
        )
        what = (
            self.env._("return %(reference)s", reference=document["reference"])
            if message.flow == "return"
            else self.env._("receipt notice %(reference)s", reference=document["reference"])
        )
        return self._post_unique(backend, transport, path, payload, what)

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
        """Read the orders and the receivers changed since their watermarks (every page) and
        store each shipped or cancelled order, and each closed receiver (receipt or return),
        as an inbound message; the watermarks move in the same transaction. Returns the
        messages created."""
        transport = backend._rest_transport()
        messages = self.env["logistics.message"]
        for path, field_name, read in (
            ("orders", "poll_watermark", extensiv.orders_of),
            ("inventory/receivers", "poll_receiver_watermark", extensiv.receivers_of),
        ):
            resources = self._changed_since(backend, transport, path, backend[field_name], read)
            newest = backend[field_name]
            for resource in resources:
                modified = resource["readOnly"]["lastModifiedDate"]
                newest = max(newest or modified, modified)
                flow = self._poll_flow(backend, path, resource)
                if not flow:
                    continue
                raw = json.dumps(resource, sort_keys=True).encode()
                digest = hashlib.sha256(raw).hexdigest()[:16]
                read_only = resource["readOnly"]
                kind, key = (
                    ("order", read_only["orderId"])
                    if path == "orders"
                    else ("receiver", read_only["receiverId"])
                )
                message, created = messages._create_inbound(
                    backend, flow, raw, event_id=f"{kind}:{key}@{modified}:{digest}"
                )
                if created:
                    messages |= message
            if newest and newest != backend[field_name]:
                backend.sudo()[field_name] = newest
        return messages

    @api.model
    def _changed_since(self, backend, transport, path, watermark, read):
        since = self._poll_since(backend, watermark)
        size = min(max(backend.poll_page_size or 100, 1), 500)
        resources, page = [], 1
        while True:
            answer = self._request(
                backend,
                transport,
                "GET",
                path,
                params={
                    "pgsiz": size,
                    "pgnum": page,
                    "rql": f"readOnly.lastModifiedDate=ge={since}",
                    "sort": "readOnly.lastModifiedDate",
                    "detail": "All",
                    "itemdetail": "All",
                },
            ).json()
            batch, total = read(answer)
            resources += batch
            if not batch or page * size >= total:
                return resources
            page += 1

    @api.model
    def _poll_flow(self, backend, path, resource):
        """The inbound flow a changed order or receiver feeds, or None (nothing to apply yet).
        A receiver is a customer return when Odoo sent it as one, else a receipt."""
        read_only = resource.get("readOnly") or {}
        if path == "orders":
            if extensiv.is_shipped(resource):
                return "shipment"
            return "ack" if extensiv.is_canceled(resource) else None
        sent = (
            self.env["logistics.message"]
            .sudo()
            .search(
                [
                    ("backend_id", "=", backend.id),
                    ("direction", "=", "outbound"),
                    ("flow", "in", ("receipt", "return")),
                    ("external_id", "=", str(read_only.get("receiverId"))),
                ],
                limit=1,
            )
        )
        flow = sent.flow or "receipt"
        if read_only.get("status") == extensiv.STATUS_CANCELED:
            # News for a person either way: a return (its own flow) or a receipt notice
            # (acknowledged as cancelled).
            return "return" if flow == "return" else "ack"
        return flow if read_only.get("isClosed") else None

    # ---- inventory (polled) ------------------------------------------------------------------
    @api.model
    def _pull_inventory(self, backend):
        """Read the stock details of each mapped facility (every page) and store them raw as
        one inbound message per facility: its job reconciles them with Odoo's stock (the base's
        inventory applier, with the partner's policy). Returns the messages."""
        transport = backend._rest_transport()
        size = min(max(backend.poll_page_size or 100, 1), 500)
        taken_at = fields.Datetime.now().replace(microsecond=0).isoformat() + "Z"
        facilities = (
            self.env["logistics.mapping"]
            .sudo()
            .search([("backend_id", "=", backend.id), ("mapping_type", "=", "warehouse")])
            .mapped("partner_value")
        )
        messages = self.env["logistics.message"]
        for facility in facilities:
            rows, page = [], 1
            while True:
                answer = self._request(
                    backend,
                    transport,
                    "GET",
                    "inventory/stockdetails",
                    params={
                        "customerid": backend.extensiv_customer_id,
                        "facilityid": facility,
                        "pgsiz": size,
                        "pgnum": page,
                    },
                ).json()
                batch, total = extensiv.stock_rows_of(answer)
                rows += batch
                if not batch or page * size >= total:
                    break
                page += 1
            raw = json.dumps({"facility": facility, "taken_at": taken_at, "rows": rows}).encode()
            message, _created = messages._create_inbound(
                backend, "inventory_snapshot", raw, event_id=f"stock:{facility}:{taken_at}"
            )
            messages |= message
        return messages

    @api.model
    def _poll_since(self, backend, watermark):
        if not watermark:
            start = fields.Datetime.now() - timedelta(days=7)
            return start.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
        moment = datetime.fromisoformat(watermark.replace("Z", "+00:00"))
        moment -= timedelta(seconds=max(backend.poll_overlap_seconds, 0))
        return (
            moment.astimezone(timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )

    @api.model
    def _decode(self, message):
        data = self._parse_json(message._raw_payload(), self.env._("Extensiv answer"))
        if message.flow == "inventory_snapshot":
            return [
                extensiv.snapshot_of(
                    data["rows"],
                    data["facility"],
                    data["taken_at"],
                    reference=f"Extensiv {data['facility']} {data['taken_at']}",
                )
            ]
        if message.flow == "receipt":
            return [extensiv.receipt_of(data)]
        if message.flow == "return":
            return [extensiv.return_of(data)]
        if message.flow == "ack":
            if "receiverId" in (data.get("readOnly") or {}):
                return [extensiv.receiver_cancellation_of(data)]
            return [extensiv.cancellation_of(data)]
        return [extensiv.shipment_of(data)]

    @api.model
    def _test_connection(self, backend):
        transport = backend._rest_transport()
        answer = self._request(backend, transport, "GET", "orders", params={"pgsiz": 1}).json()
        _orders, total = extensiv.orders_of(answer)
        return self.env._(
            "Extensiv issued a token and lists %(total)s order(s) for these credentials.",
            total=total,
        )
