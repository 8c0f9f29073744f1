"""An Extensiv 3PL Warehouse Manager-like 3PL ("SecureWMS") served on loopback: the polling
contract (../shared/reference/3pl_apis.md section 2).

- ``POST /AuthServer/api/Token`` with ``Authorization: Basic base64(client_id:client_secret)``
  and a JSON body ``{"grant_type": "client_credentials", "tpl": "{...}", "user_login_id": ...}``
  gives a bearer token that expires (``token_lifetime`` seconds).
- ``POST /orders`` (``referenceNum`` unique per customer: 400 otherwise), ``GET /orders/<id>``,
  ``POST /orders/<id>/canceler``, ``GET /orders?pgsiz=&pgnum=&rql=&sort=`` answering HAL
  (``_embedded`` keyed by the rel URI, ``totalResults``, ``_links.next``), with the RQL subset
  ``readOnly.lastModifiedDate=ge=<ts>``, ``referenceNum==<ref>`` joined by ``;``.
- Receivers (advance shipping notices, and customer returns, which Warehouse Manager books as
  receivers too; the connector marks a return with ``notes`` "Customer return", which the
  autopilot restocks instead of receiving): ``POST /inventory/receivers`` (``referenceNum``
  unique per customer),
  ``GET /inventory/receivers[/<id>]`` with the same paging and RQL. A closed receiver's
  ``receiveItems`` are what was counted; damaged units carry the qualifier ``DMG``, returned
  units the qualifier of their disposition (none: restocked, ``DMG``, ``QC``, ``SCRAP``,
  ``RTV``).
- ``GET /inventory/stockdetails?customerid=&facilityid=&pgnum=&pgsiz=``: one row per received
  item, SKU, lot and qualifier (``onHand``, ``available``), under ``_embedded.item`` as in the
  tap-3plcentral samples.
- Simulation (Python, and over HTTP under ``/_sim``, shaped like the ShipBob-like sandbox's so
  one command drives both): ``orders/<ref>/<ship|cancel>``, ``receiving/<ref>/receive``
  ``{"lines": {sku: {"received", "damaged", "lot"}}}``, ``returns/<ref>/<complete|cancel>``
  ``{"dispositions": {sku: [[disposition, units, lot], ...]}}``, ``inventory``
  ``{"sku", "on_hand", "lot", "facility"}``, ``faults`` ``{"kind": "status"|"rate_limit"|
  "latency"|"timeout"|"malformed"|"drop", "status", "count", "seconds"}``,
  ``expire_tokens``, ``autopilot`` ``{"enabled", "delay"}``, ``reset``, ``GET state``.
  ``moment=`` sets ``lastModifiedDate`` (ties on the same timestamp).
"""

import base64
import copy
import hmac
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from .http_partner import _Handler, _Reply
from .loopback import HOST, LoopbackServer

_logger = logging.getLogger(__name__)

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
RECEIVER_REL = "http://api.3plCentral.com/rels/inventory/receiver"
HAL = "application/hal+json; charset=utf-8"
DEFAULT_FACILITY = 3
# return/1 dispositions (and ShipBob's action names) -> the qualifier a returned unit gets.
DISPOSITION_QUALIFIERS = {
    "restock": "",
    "damaged": "DMG",
    "quarantine": "QC",
    "dispose": "SCRAP",
    "return_to_vendor": "RTV",
    "returntosender": "RTV",
}
FAULT_KINDS = ("status", "rate_limit", "latency", "timeout", "malformed", "drop")


def _iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Server(LoopbackServer):
    def __init__(self, port, sandbox):
        self.sandbox = sandbox
        super().__init__(_Handler, port)


class ExtensivSandbox:
    def __init__(
        self,
        port=0,
        *,
        client_id="extensiv-client",
        client_secret="extensiv-secret",
        tpl="{5E1B2D7C-0000-4E5D-9F2A-3PL000000001}",
        user_login_id="1",
        token_lifetime=1800,
    ):
        self.client_id, self.client_secret = client_id, client_secret
        self.tpl, self.user_login_id = tpl, str(user_login_id)
        self.token_lifetime = token_lifetime
        self._port = port
        self._server = None
        self._lock = threading.RLock()
        self.reset()

    def start(self):
        self._server = _Server(self._port, self).start(name=f"extensiv-sandbox-{self._port}")
        self._port = self._server.port
        return self

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        return f"http://{HOST}:{self._port}"

    def reset(self):
        with self._lock:
            self.orders = {}
            self.receivers = {}
            self.stock = {}  # (facility, sku, lot, qualifier) -> on hand
            self.tokens = {}
            self.requests = []
            self.token_requests = 0
            self._faults = []
            self._next_id = 5000
            self._next_receiver = 800
            self.autopilot_delay = None

    def expire_tokens(self):
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, 0)

    def inject(self, status=503, count=1, kind="status", seconds=30, pgnum=None):
        """The next ``count`` API calls fail: ``status`` (that HTTP status), ``rate_limit``
        (429 with Retry-After), ``latency`` (``seconds`` late, then served), ``timeout``
        (``seconds`` without an answer, then closed), ``malformed`` (a cut JSON body, not
        served) or ``drop`` (the connection is closed unanswered). With ``pgnum``, only calls
        for that page of a list fail (a fault in the middle of paging)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if not isinstance(count, int) or count < 1:
            raise ValueError("count must be a positive integer")
        with self._lock:
            self._faults.append(
                {
                    "kind": kind,
                    "status": status,
                    "remaining": count,
                    "seconds": seconds,
                    "pgnum": None if pgnum is None else str(pgnum),
                }
            )

    def set_autopilot(self, delay):
        """Demo: each new order is shipped, each new receipt notice received in full and each
        new return restocked, ``delay`` seconds after it arrives (None: off)."""
        self.autopilot_delay = delay

    def _autopilot(self, action, reference):
        delay = self.autopilot_delay
        if delay is None:
            return

        def run():
            time.sleep(delay)
            try:
                action(reference)
            except (KeyError, ValueError) as error:
                _logger.info("Extensiv sandbox autopilot stops for %s: %s", reference, error)

        threading.Thread(target=run, name=f"extensiv-autopilot-{reference}", daemon=True).start()

    # -- stock -------------------------------------------------------------------------------
    def set_stock(self, sku, on_hand, lot=None, facility=DEFAULT_FACILITY, qualifier=""):
        with self._lock:
            self.stock[int(facility), sku, lot or "", qualifier] = on_hand

    def _move_stock(self, facility, sku, lot, delta, qualifier=""):
        key = (int(facility), sku, lot or "", qualifier)
        self.stock[key] = max(self.stock.get(key, 0) + delta, 0)

    def stock_details(self, facility):
        """Stock rows of one facility, as GET /inventory/stockdetails shows them."""
        with self._lock:
            rows = []
            for number, ((fac, sku, lot, qualifier), on_hand) in enumerate(
                sorted(self.stock.items())
            ):
                if fac != int(facility) or not on_hand:
                    continue
                rows.append(
                    {
                        "receiveItemId": 90000 + number,
                        "itemIdentifier": {"sku": sku},
                        "qualifier": qualifier,
                        "received": on_hand,
                        "onHand": on_hand,
                        "available": 0 if qualifier else on_hand,
                        "isOnHold": bool(qualifier),
                        "quarantined": qualifier == "QC",
                        "lotNumber": lot or None,
                        "locationIdentifier": {
                            "nameKey": {"facilityIdentifier": {"id": fac}, "name": "A-01-01"}
                        },
                    }
                )
            return rows

    # -- simulation --------------------------------------------------------------------------
    def order(self, reference):
        with self._lock:
            for order in self.orders.values():
                if order["referenceNum"] == reference or str(order["readOnly"]["orderId"]) == str(
                    reference
                ):
                    return order
        raise KeyError(f"no order {reference!r}")

    def _touch(self, order, moment=None):
        order["readOnly"]["lastModifiedDate"] = _iso(moment or datetime.now(timezone.utc))

    def ship(
        self,
        reference,
        quantities=None,
        *,
        lots=None,
        serials=None,
        tracking_number=None,
        packages=1,
        moment=None,
    ):
        """Close the order as shipped: ``quantities`` {sku: units} (default all), ``lots``
        {sku: lot} or {sku: [(lot, units), ...]}, ``serials`` {sku: [serial, ...]} (one
        content of one unit per serial, as the WMS records them); the tracking numbers go on
        the packages and the routing info."""
        with self._lock:
            order = self.order(reference)
            items = order["orderItems"]
            tracking = tracking_number or f"1ZEXT{order['readOnly']['orderId']}"
            contents = []
            for item in items:
                sku = item["itemIdentifier"]["sku"]
                units = item["qty"] if quantities is None else quantities.get(sku, 0)
                if not units:
                    continue
                lot = (lots or {}).get(sku)
                if sku in (serials or {}):
                    parts = [(lot, 1, serial) for serial in serials[sku]]
                elif isinstance(lot, list):
                    parts = [(name, qty, None) for name, qty in lot]
                else:
                    parts = [(lot, units, None)]
                contents.extend(
                    {
                        "orderItemId": item["readOnly"]["orderItemId"],
                        "qty": qty,
                        "lotNumber": name,
                        "serialNumber": serial,
                    }
                    for name, qty, serial in parts
                )
            order["readOnly"]["packages"] = [
                {
                    "packageId": index + 1,
                    "trackingNumber": tracking if index == 0 else f"{tracking}-{index + 1}",
                    "packageContents": contents[index::packages],
                }
                for index in range(packages)
            ]
            facility = (order.get("facilityIdentifier") or {}).get("id") or DEFAULT_FACILITY
            for content in contents:
                sku = next(
                    i["itemIdentifier"]["sku"]
                    for i in items
                    if i["readOnly"]["orderItemId"] == content["orderItemId"]
                )
                self._move_stock(facility, sku, content["lotNumber"], -content["qty"])
            order["routingInfo"]["trackingNumber"] = tracking
            order["readOnly"]["isClosed"] = True
            order["readOnly"]["status"] = 1
            order["readOnly"]["processDate"] = _iso(moment or datetime.now(timezone.utc))
            self._touch(order, moment)
            return copy.deepcopy(order)

    def cancel(self, reference, moment=None):
        with self._lock:
            order = self.order(reference)
            order["readOnly"]["status"] = 2
            order["readOnly"]["isClosed"] = True
            self._touch(order, moment)

    def receiver(self, reference):
        with self._lock:
            for receiver in self.receivers.values():
                if receiver["referenceNum"] == reference or str(
                    receiver["readOnly"]["receiverId"]
                ) == str(reference):
                    return receiver
        raise KeyError(f"no receiver {reference!r}")

    def _close(self, receiver, items, moment=None):
        facility = receiver["facilityIdentifier"]["id"]
        for number, item in enumerate(items, 1):
            item["readOnly"] = {"receiveItemId": receiver["readOnly"]["receiverId"] * 100 + number}
            self._move_stock(
                facility,
                item["itemIdentifier"]["sku"],
                item["lotNumber"],
                item["qty"],
                item["qualifier"],
            )
        receiver["receiveItems"] = items
        receiver["readOnly"]["status"] = 1
        receiver["readOnly"]["isClosed"] = True
        receiver["readOnly"]["arrivalDate"] = _iso(moment or datetime.now(timezone.utc))
        self._touch(receiver, moment)
        return copy.deepcopy(receiver)

    def receive(self, reference, lines=None, moment=None):
        """Count an advance shipping notice: ``lines`` {sku: {"received": n, "damaged": m,
        "lot": "L1"}} (default: everything announced, in good condition). Damaged units are
        received under the qualifier DMG."""
        with self._lock:
            receiver = self.receiver(reference)
            if receiver["readOnly"]["isClosed"]:
                raise ValueError(f"receiver {reference} is closed")
            items = []
            for item in receiver["receiveItems"]:
                sku = item["itemIdentifier"]["sku"]
                count = (lines or {}).get(sku, {})
                good = count.get("received", item["qty"] if lines is None else 0)
                lot = count.get("lot", item.get("lotNumber"))
                for units, qualifier in ((good, ""), (count.get("damaged", 0), "DMG")):
                    if units:
                        items.append(
                            {
                                "itemIdentifier": {"sku": sku},
                                "qty": units,
                                "lotNumber": lot,
                                "qualifier": qualifier,
                            }
                        )
            return self._close(receiver, items, moment)

    def complete_return(self, reference, dispositions=None, moment=None):
        """Receive a customer return: ``dispositions`` {sku: [(disposition, units, lot),
        ...]} with restock, damaged, quarantine, dispose, return_to_vendor (ShipBob's Restock,
        Dispose... too); default everything restocked."""
        with self._lock:
            receiver = self.receiver(reference)
            if receiver["readOnly"]["isClosed"]:
                raise ValueError(f"return {reference} is closed")
            items = []
            for item in receiver["receiveItems"]:
                sku = item["itemIdentifier"]["sku"]
                for disposition, units, *rest in (dispositions or {}).get(sku) or [
                    ("restock", item["qty"])
                ]:
                    qualifier = DISPOSITION_QUALIFIERS.get(str(disposition).lower())
                    if qualifier is None:
                        raise ValueError(f"unknown disposition {disposition!r}")
                    items.append(
                        {
                            "itemIdentifier": {"sku": sku},
                            "qty": units,
                            "lotNumber": rest[0] if rest else None,
                            "qualifier": qualifier,
                        }
                    )
            return self._close(receiver, items, moment)

    def cancel_receiver(self, reference, moment=None):
        with self._lock:
            receiver = self.receiver(reference)
            receiver["readOnly"]["status"] = 2
            receiver["readOnly"]["isClosed"] = True
            self._touch(receiver, moment)

    # -- HTTP ------------------------------------------------------------------------------------
    def _dispatch(self, request):
        path = request.path
        if path.startswith("/_sim/"):
            return self._simulate(request)
        with self._lock:
            self.requests.append({"method": request.method, "path": path, "query": request.query})
            fault = self._faults[0] if self._faults else None
            if fault and fault["pgnum"] not in (None, request.query.get("pgnum")):
                fault = None  # another page: served
            if fault:
                fault["remaining"] -= 1
                if not fault["remaining"]:
                    self._faults.pop(0)
        if fault:
            reply = self._faulty(fault)
            if reply:
                return reply
        if path == "/AuthServer/api/Token" and request.method == "POST":
            return self._token(request)
        if not self._authorized(request):
            return _Reply(401, {"ErrorCode": "Unauthorized", "Message": "invalid or expired token"})
        parts = path.strip("/").split("/")
        if parts[:2] == ["inventory", "receivers"]:
            with self._lock:
                return self._receivers(request, parts[2:])
        if parts == ["inventory", "stockdetails"] and request.method == "GET":
            return self._stock_page(request.query)
        if parts[0] != "orders":
            return _Reply(404, {"Message": f"no resource {path}"})
        with self._lock:
            if len(parts) == 1 and request.method == "POST":
                return self._create(request.json)
            if len(parts) == 1 and request.method == "GET":
                return self._list(request.query, self.orders, ORDER_REL, "orders")
            order = self.orders.get(int(parts[1])) if parts[1].isdigit() else None
            if order is None:
                return _Reply(404, {"Message": f"order {parts[1]} not found"})
            if len(parts) == 2 and request.method == "GET":
                return _Reply(200, copy.deepcopy(order), content_type=HAL)
            if parts[2:] == ["canceler"] and request.method == "POST":
                if order["readOnly"]["isClosed"]:
                    return _Reply(400, {"Message": "Order is closed and cannot be canceled"})
                self.cancel(order["referenceNum"])
                return _Reply(200, copy.deepcopy(order), content_type=HAL)
        return _Reply(405, {"Message": "method not allowed"})

    def _token(self, request):
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        try:
            given = base64.b64decode(credentials.strip()).decode()
        except ValueError:
            given = ""
        expected = f"{self.client_id}:{self.client_secret}"
        body = request.json if isinstance(request.json, dict) else {}
        if scheme.lower() != "basic" or not hmac.compare_digest(given, expected):
            return _Reply(401, {"error": "invalid_client"})
        if body.get("grant_type") != "client_credentials" or body.get("tpl") != self.tpl:
            return _Reply(400, {"error": "invalid_grant"})
        if str(body.get("user_login_id")) != self.user_login_id:
            return _Reply(400, {"error": "invalid_grant", "error_description": "unknown user"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = time.monotonic() + self.token_lifetime
            self.token_requests += 1
        return _Reply(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime},
        )

    def _authorized(self, request):
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        with self._lock:
            expiry = self.tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and expiry > time.monotonic()

    def _faulty(self, fault):
        kind = fault["kind"]
        if kind == "status":
            return _Reply(fault["status"], {"ErrorCode": "Unavailable", "Message": "fault"})
        if kind == "rate_limit":
            return _Reply(
                429,
                {"ErrorCode": "TooManyRequests", "Message": "fault"},
                headers={"Retry-After": "2"},
            )
        if kind == "drop":
            return _Reply(0, drop=True)
        if kind == "malformed":
            return _Reply(200, raw=b'{"readOnly": {"orderId": 50', content_type=HAL)
        time.sleep(fault["seconds"])
        if kind == "timeout":
            return _Reply(0, drop=True)
        return None  # latency: late, then served

    def _duplicate(self, collection, body):
        customer = (body.get("customerIdentifier") or {}).get("id")
        return any(
            r["referenceNum"] == body["referenceNum"] and r["customerIdentifier"]["id"] == customer
            for r in collection.values()
        )

    def _receivers(self, request, rest):
        if not rest and request.method == "POST":
            return self._create_receiver(request.json)
        if not rest and request.method == "GET":
            return self._list(request.query, self.receivers, RECEIVER_REL, "inventory/receivers")
        receiver = self.receivers.get(int(rest[0])) if rest[0].isdigit() else None
        if receiver is None or len(rest) != 1 or request.method != "GET":
            return _Reply(404, {"Message": f"receiver {rest[0]} not found"})
        return _Reply(200, copy.deepcopy(receiver), content_type=HAL)

    def _create_receiver(self, body):
        if not isinstance(body, dict) or not body.get("referenceNum"):
            return _Reply(400, {"Message": "referenceNum is required"})
        if self._duplicate(self.receivers, body):
            return _Reply(400, {"ErrorCode": "Duplicate", "Message": "ReferenceNum must be unique"})
        items = body.get("receiveItems") or []
        if not items or any(
            not (i.get("itemIdentifier") or {}).get("sku") or not i.get("qty") for i in items
        ):
            return _Reply(400, {"Message": "receiveItems need itemIdentifier.sku and qty"})
        self._next_receiver += 1
        receiver = copy.deepcopy(body)
        receiver["customerIdentifier"] = {"id": (body.get("customerIdentifier") or {}).get("id")}
        receiver["facilityIdentifier"] = {
            "id": (body.get("facilityIdentifier") or {}).get("id") or DEFAULT_FACILITY
        }
        for item in receiver["receiveItems"]:
            item.setdefault("qualifier", "")
        now = datetime.now(timezone.utc)
        receiver["readOnly"] = {
            "receiverId": self._next_receiver,
            "status": 0,
            "isClosed": False,
            "creationDate": _iso(now),
            "lastModifiedDate": _iso(now),
        }
        receiver["_links"] = {"self": {"href": f"/inventory/receivers/{self._next_receiver}"}}
        self.receivers[self._next_receiver] = receiver
        is_return = receiver.get("notes") == "Customer return"
        self._autopilot(
            self.complete_return if is_return else self.receive, receiver["referenceNum"]
        )
        return _Reply(201, copy.deepcopy(receiver), content_type=HAL)

    def _stock_page(self, query):
        try:
            facility = int(query.get("facilityid") or DEFAULT_FACILITY)
            page = max(int(query.get("pgnum") or 1), 1)
            size = min(max(int(query.get("pgsiz") or 100), 1), 500)
        except ValueError:
            return _Reply(400, {"Message": "facilityid, pgnum and pgsiz must be numbers"})
        rows = self.stock_details(facility)
        chunk = rows[(page - 1) * size : page * size]
        return _Reply(
            200,
            {"totalResults": len(rows), "_embedded": {"item": chunk}},
            content_type=HAL,
        )

    def _create(self, body):
        if not isinstance(body, dict) or not body.get("referenceNum"):
            return _Reply(400, {"Message": "referenceNum is required"})
        customer = (body.get("customerIdentifier") or {}).get("id")
        if self._duplicate(self.orders, body):
            return _Reply(400, {"ErrorCode": "Duplicate", "Message": "ReferenceNum must be unique"})
        items = body.get("orderItems") or []
        if not items or any(
            not (i.get("itemIdentifier") or {}).get("sku") or not i.get("qty") for i in items
        ):
            return _Reply(400, {"Message": "orderItems need itemIdentifier.sku and qty"})
        self._next_id += 1
        order = copy.deepcopy(body)
        order["customerIdentifier"] = {"id": customer}
        order.setdefault("routingInfo", {})
        for number, item in enumerate(order["orderItems"], 1):
            item["readOnly"] = {"orderItemId": self._next_id * 100 + number}
        now = datetime.now(timezone.utc)
        order["readOnly"] = {
            "orderId": self._next_id,
            "status": 0,
            "isClosed": False,
            "creationDate": _iso(now),
            "lastModifiedDate": _iso(now),
            "packages": [],
        }
        order["_links"] = {"self": {"href": f"/orders/{self._next_id}"}}
        self.orders[self._next_id] = order
        self._autopilot(self.ship, order["referenceNum"])
        return _Reply(201, copy.deepcopy(order), content_type=HAL)

    def _list(self, query, collection, rel, path):
        try:
            page = max(int(query.get("pgnum") or 1), 1)
            size = min(max(int(query.get("pgsiz") or 100), 1), 500)
        except ValueError:
            return _Reply(400, {"Message": "pgnum and pgsiz must be numbers"})
        matches = list(collection.values())
        for clause in filter(None, (query.get("rql") or "").split(";")):
            if clause.startswith("readOnly.lastModifiedDate=ge="):
                since = _parse(clause.split("=ge=", 1)[1])
                matches = [o for o in matches if _parse(o["readOnly"]["lastModifiedDate"]) >= since]
            elif clause.startswith("referenceNum=="):
                wanted = unquote(clause.split("==", 1)[1]).strip('"')
                matches = [o for o in matches if o["referenceNum"] == wanted]
            else:
                return _Reply(400, {"Message": f"unsupported RQL {clause!r}"})
        matches.sort(
            key=lambda o: (
                o["readOnly"]["lastModifiedDate"],
                o["readOnly"].get("orderId") or o["readOnly"].get("receiverId"),
            )
        )
        chunk = matches[(page - 1) * size : page * size]
        links = {"self": {"href": f"/{path}?pgnum={page}&pgsiz={size}"}}
        if page * size < len(matches):
            links["next"] = {"href": f"/{path}?pgnum={page + 1}&pgsiz={size}"}
        body = {
            "totalResults": len(matches),
            "_links": links,
            "_embedded": {rel: [copy.deepcopy(o) for o in chunk]},
        }
        return _Reply(200, body, content_type=HAL)

    def _simulate(self, request):
        parts = [unquote(p) for p in request.path.strip("/").split("/")[1:]]
        options = request.json if isinstance(request.json, dict) else {}
        method = request.method
        head = parts[0] if parts else ""
        try:
            if head == "orders" and len(parts) == 3 and parts[2] in ("ship", "cancel"):
                getattr(self, parts[2])(parts[1], **options)
                return _Reply(200, {"status": "ok"})
            if head in ("receiving", "receivers") and parts[2:] == ["receive"]:
                self.receive(parts[1], **options)
                return _Reply(200, {"status": "ok"})
            if head == "returns" and len(parts) == 3 and parts[2] in ("complete", "cancel"):
                if parts[2] == "cancel":
                    self.cancel_receiver(parts[1])
                else:
                    self.complete_return(parts[1], **options)
                return _Reply(200, {"status": "ok"})
            if head == "inventory" and method == "POST":
                self.set_stock(**options)
                return _Reply(200, {"status": "ok"})
            if parts == ["faults"] and method == "POST":
                self.inject(**options)
                return _Reply(201, {"status": "queued"})
            if parts == ["expire_tokens"]:
                self.expire_tokens()
                return _Reply(200, {"status": "expired"})
            if parts == ["autopilot"] and method == "POST":
                enabled = options.get("enabled", True)
                self.set_autopilot(options.get("delay", 3) if enabled else None)
                return _Reply(200, {"status": "ok"})
            if parts == ["reset"] and method == "POST":
                self.reset()
                return _Reply(200, {"status": "reset"})
            if parts == ["state"] and method == "GET":
                with self._lock:
                    state = {
                        "orders": copy.deepcopy(list(self.orders.values())),
                        "receivers": copy.deepcopy(list(self.receivers.values())),
                        "stock": [
                            {"facility": f, "sku": k, "lot": lot, "qualifier": q, "on_hand": n}
                            for (f, k, lot, q), n in sorted(self.stock.items())
                        ],
                    }
                return _Reply(200, state)
        except (KeyError, TypeError, ValueError) as error:
            return _Reply(400, {"error": str(error)})
        return _Reply(404, {"error": f"no simulation {method} {'/'.join(parts)}"})


def tie(moment=None, seconds=0):
    """A fixed lastModifiedDate for tests (ties: give several orders the same one)."""
    return (moment or datetime.now(timezone.utc).replace(microsecond=0)) + timedelta(
        seconds=seconds
    )


# Demo constants: loopback only, never reuse them anywhere else.
DEMO_PORT = 8705
DEMO_CLIENT_ID = "demo-extensiv-client"
DEMO_CLIENT_SECRET = "demo-extensiv-secret"
DEMO_TPL = "{D3M0D3M0-0000-4E5D-9F2A-3PL000000042}"
DEMO_USER_LOGIN_ID = "1"
DEMO_FACILITY = 3


def start_demo(port=DEMO_PORT, delay=10):
    """Start the demo Warehouse Manager the demo database's "Demo Extensiv (sandbox)" partner
    polls: it ships each new order, receives each receipt notice in full and restocks each
    return ``delay`` seconds after it arrives. Returns the running sandbox."""
    sandbox = ExtensivSandbox(
        port,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        tpl=DEMO_TPL,
        user_login_id=DEMO_USER_LOGIN_ID,
    )
    sandbox.set_autopilot(delay)
    for sku, quantity in (("FURN_7777", 30), ("FURN_8888", 20)):
        sandbox.set_stock(sku, quantity, facility=DEMO_FACILITY)
    return sandbox.start()
