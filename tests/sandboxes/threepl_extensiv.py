"""An Extensiv 3PL Warehouse Manager-like 3PL ("SecureWMS") served on loopback: the polling
contract (../shared/reference/3pl_apis.md section 2).

- ``POST /AuthServer/api/Token`` with ``Authorization: Basic base64(client_id:client_secret)``
  and a JSON body ``{"grant_type": "client_credentials", "tpl": "{...}", "user_login_id": ...}``
  gives a bearer token that expires (``token_lifetime`` seconds).
- ``POST /orders`` (``referenceNum`` unique per customer: 400 otherwise), ``GET /orders/<id>``,
  ``POST /orders/<id>/canceler``, ``GET /orders?pgsiz=&pgnum=&rql=&sort=`` answering HAL
  (``_embedded`` keyed by the rel URI, ``totalResults``, ``_links.next``), with the RQL subset
  ``readOnly.lastModifiedDate=ge=<ts>``, ``referenceNum==<ref>`` joined by ``;``.
- Simulation (Python, and ``POST /_sim/orders/<ref>/<ship|cancel>``): ship with packages, lots
  and tracking numbers; ``moment=`` sets ``lastModifiedDate`` (ties on the same timestamp);
  ``POST /_sim/faults`` (``status``) and ``POST /_sim/expire_tokens``.
"""

import base64
import copy
import hmac
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote

from .http_partner import _Handler, _Reply
from .loopback import HOST, LoopbackServer

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
HAL = "application/hal+json; charset=utf-8"


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
            self.tokens = {}
            self.requests = []
            self.token_requests = 0
            self._faults = []
            self._next_id = 5000

    def expire_tokens(self):
        with self._lock:
            self.tokens = dict.fromkeys(self.tokens, 0)

    def inject(self, status=503, count=1):
        with self._lock:
            self._faults.append([status, count])

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
        tracking_number=None,
        packages=1,
        moment=None,
    ):
        """Close the order as shipped: ``quantities`` {sku: units} (default all), ``lots``
        {sku: lot}; the tracking numbers go on the packages and the routing info."""
        with self._lock:
            order = self.order(reference)
            items = order["orderItems"]
            tracking = tracking_number or f"1ZEXT{order['readOnly']['orderId']}"
            contents = []
            for item in items:
                sku = item["itemIdentifier"]["sku"]
                units = item["qty"] if quantities is None else quantities.get(sku, 0)
                if units:
                    contents.append(
                        {
                            "orderItemId": item["readOnly"]["orderItemId"],
                            "qty": units,
                            "lotNumber": (lots or {}).get(sku),
                            "serialNumber": None,
                        }
                    )
            order["readOnly"]["packages"] = [
                {
                    "packageId": index + 1,
                    "trackingNumber": tracking if index == 0 else f"{tracking}-{index + 1}",
                    "packageContents": contents[index::packages],
                }
                for index in range(packages)
            ]
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

    # -- HTTP ------------------------------------------------------------------------------------
    def _dispatch(self, request):
        path = request.path
        if path.startswith("/_sim/"):
            return self._simulate(request)
        with self._lock:
            self.requests.append({"method": request.method, "path": path, "query": request.query})
            if self._faults:
                fault = self._faults[0]
                fault[1] -= 1
                if not fault[1]:
                    self._faults.pop(0)
                return _Reply(fault[0], {"ErrorCode": "Unavailable", "Message": "fault"})
        if path == "/AuthServer/api/Token" and request.method == "POST":
            return self._token(request)
        if not self._authorized(request):
            return _Reply(401, {"ErrorCode": "Unauthorized", "Message": "invalid or expired token"})
        parts = path.strip("/").split("/")
        if parts[0] != "orders":
            return _Reply(404, {"Message": f"no resource {path}"})
        with self._lock:
            if len(parts) == 1 and request.method == "POST":
                return self._create(request.json)
            if len(parts) == 1 and request.method == "GET":
                return self._list(request.query)
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

    def _create(self, body):
        if not isinstance(body, dict) or not body.get("referenceNum"):
            return _Reply(400, {"Message": "referenceNum is required"})
        customer = (body.get("customerIdentifier") or {}).get("id")
        for order in self.orders.values():
            if (
                order["referenceNum"] == body["referenceNum"]
                and order["customerIdentifier"]["id"] == customer
            ):
                return _Reply(
                    400, {"ErrorCode": "Duplicate", "Message": "ReferenceNum must be unique"}
                )
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
        return _Reply(201, copy.deepcopy(order), content_type=HAL)

    def _list(self, query):
        try:
            page = max(int(query.get("pgnum") or 1), 1)
            size = min(max(int(query.get("pgsiz") or 100), 1), 500)
        except ValueError:
            return _Reply(400, {"Message": "pgnum and pgsiz must be numbers"})
        matches = list(self.orders.values())
        for clause in filter(None, (query.get("rql") or "").split(";")):
            if clause.startswith("readOnly.lastModifiedDate=ge="):
                since = _parse(clause.split("=ge=", 1)[1])
                matches = [o for o in matches if _parse(o["readOnly"]["lastModifiedDate"]) >= since]
            elif clause.startswith("referenceNum=="):
                wanted = unquote(clause.split("==", 1)[1]).strip('"')
                matches = [o for o in matches if o["referenceNum"] == wanted]
            else:
                return _Reply(400, {"Message": f"unsupported RQL {clause!r}"})
        matches.sort(key=lambda o: (o["readOnly"]["lastModifiedDate"], o["readOnly"]["orderId"]))
        chunk = matches[(page - 1) * size : page * size]
        links = {"self": {"href": f"/orders?pgnum={page}&pgsiz={size}"}}
        if page * size < len(matches):
            links["next"] = {"href": f"/orders?pgnum={page + 1}&pgsiz={size}"}
        body = {
            "totalResults": len(matches),
            "_links": links,
            "_embedded": {ORDER_REL: [copy.deepcopy(o) for o in chunk]},
        }
        return _Reply(200, body, content_type=HAL)

    def _simulate(self, request):
        parts = [unquote(p) for p in request.path.strip("/").split("/")[1:]]
        options = request.json if isinstance(request.json, dict) else {}
        try:
            if parts[:1] == ["orders"] and len(parts) == 3 and parts[2] in ("ship", "cancel"):
                getattr(self, parts[2])(parts[1], **options)
                return _Reply(200, {"status": "ok"})
            if parts == ["faults"]:
                self.inject(**options)
                return _Reply(201, {"status": "queued"})
            if parts == ["expire_tokens"]:
                self.expire_tokens()
                return _Reply(200, {"status": "expired"})
        except (KeyError, TypeError, ValueError) as error:
            return _Reply(400, {"error": str(error)})
        return _Reply(404, {"error": "no such simulation"})


def tie(moment=None, seconds=0):
    """A fixed lastModifiedDate for tests (ties: give several orders the same one)."""
    return (moment or datetime.now(timezone.utc).replace(microsecond=0)) + timedelta(
        seconds=seconds
    )
