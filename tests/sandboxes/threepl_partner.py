"""A ShipBob-like 3PL warehouse served on loopback, for tests, benchmarks and the demo.

It follows the subset of ShipBob's public API contract the 3PL adapter uses
(../shared/reference/3pl_apis.md), closely enough that the adapter cannot tell it from the
real service for those flows: dated versions in the path, bearer auth, ``shipbob_channel_id``
on creations, orders with a unique ``reference_id`` (422 "Duplicate reference ID"), look-up by
reference, cancellation, receiving orders (WRO), returns, inventory paged by the ``next-page``
header, 150 requests/minute in a sliding window answered 429 with ``x-retry-after`` and
``x-remaining-calls``, and Standard Webhooks-signed events. State is kept per run, in memory.

Partner API, under ``/<version>`` (2025-07, 2026-01, 2026-07):
    GET  /channel                       GET /fulfillment-center
    GET  /product?sku=                  POST /product
    POST /order                         GET /order?ReferenceIds=a,b&Page=&Limit=
    GET  /order/<id>                    PUT /order/<id> (products, before picking)
    POST /order/<id>/cancel             GET /order/<id>/shipment
    POST /receiving                     GET /receiving?PurchaseOrderNumbers=&Statuses=&ExternalSync=
    GET  /receiving/<id>                POST /receiving:setExternalSync {"ids", "is_external_sync"}
    POST /return                        GET /return?ReferenceIds=             GET /return/<id>
    GET  /inventory?Page=&Limit=
    POST /webhook {"topics", "url", "secret"}   GET /webhook   DELETE /webhook/<id>

Webhook topics: ShipBob's public ones (order.shipped, order.delivered, order.shipment.delivered,
order.shipment.tracking.updated, order.shipment.on_hold, order.shipment.exception,
order.shipment.cancelled, return.created/updated/completed), sent to Odoo's URL and to the
URLs subscribed with POST /webhook; and, said plainly, three the real ShipBob does not send:
order.acknowledged/picked/packed (warehouse progress), receiving.completed and
inventory.adjusted (see SANDBOX_TOPIC_FLOWS in logistics_connector_3pl/lib/shipbob.py).

Simulation API (no auth, loopback only; each also a Python method of ThreePLSandbox):
    POST /_sim/orders/<reference>/<acknowledge|pick|pack|hold|exception|ship|track|deliver|cancel>
    POST /_sim/receiving/<id or purchase order number>/receive  {"lines": {sku: {...}}}
    POST /_sim/returns/<reference>/<arrive|complete|cancel>     {"dispositions": {...}}
    POST /_sim/inventory   {"sku", "on_hand" or "delta", "lot", "fulfillment_center", "reason"}
    POST /_sim/faults  GET /_sim/faults  DELETE /_sim/faults
    POST /_sim/webhook-faults {"kind": "duplicate|reorder|drop", "count"}
    POST /_sim/webhook-url {"url"}   POST /_sim/autopilot {"enabled", "delay"}
    POST /_sim/reset   GET /_sim/state   POST /_sim/redeliver
"""

import base64
import copy
import hmac
import json
import logging
import math
import queue
import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timezone
from urllib.parse import unquote

import requests
from standardwebhooks.webhooks import Webhook

from .http_partner import _Handler, _Reply
from .loopback import LoopbackSandbox, LoopbackServer

_logger = logging.getLogger(__name__)

API_VERSIONS = ("2025-07", "2026-01", "2026-07")
DEFAULT_VERSION = "2026-07"
DEFAULT_TOKEN = "shipbob-sandbox-pat"
DEFAULT_CHANNEL_ID = 4242
FULFILLMENT_CENTERS = (
    {"id": 10, "name": "Sandbox FC Cicero (IL)", "timezone": "Central Standard Time"},
    {"id": 11, "name": "Sandbox FC Moreno Valley (CA)", "timezone": "Pacific Standard Time"},
)
RATE_LIMIT = 150
RATE_WINDOW = 60.0
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 50
# Longer than any client timeout in the suite: the client gives up first.
DEFAULT_LATENCY = 30
FAULT_KINDS = {
    "status": {"status", "body"},
    "rate_limit": {"retry_after"},
    "latency": {"seconds"},
    "timeout": set(),
    "malformed": {"body"},
    "drop": set(),
    "accept_then_fail": {"status"},
}
WEBHOOK_FAULTS = ("duplicate", "reorder", "drop")
# Order progress the simulation moves through; shipped and later are ShipBob statuses.
PROGRESS = ("acknowledged", "picked", "packed")
# Once picked, ShipBob no longer changes an order's lines; once packed, it cannot cancel it.
FROZEN_FOR_CHANGES = ("picked", "packed")
FROZEN_FOR_CANCEL = ("packed",)
RETURN_ACTIONS = ("Restock", "Quarantine", "Dispose", "Damaged", "ReturnToSender")
# What POST /webhook accepts (2026-07's list, the sandbox's own topics too) and its secret.
SUBSCRIBABLE_TOPICS = (
    "order.shipped", "order.delivered", "order.shipment.delivered", "order.shipment.exception",
    "order.shipment.on_hold", "order.shipment.cancelled", "order.shipment.tracking.updated",
    "order.shipment.address.updated", "order.shipment.line_item.added",
    "order.shipment.line_item.removed", "order.shipment.line_item.updated",
    "order.shipment.shipping_service.updated", "return.created", "return.updated",
    "return.completed", "billing.charge.created",
    "order.acknowledged", "order.picked", "order.packed", "receiving.completed",
    "inventory.adjusted",
)  # fmt: skip
SECRET_PATTERN = re.compile(r"whsec_[a-zA-Z0-9+/]{32}")


def _now():
    return datetime.now(timezone.utc)


def _iso(moment=None):
    return (moment or _now()).isoformat(timespec="seconds").replace("+00:00", "Z")


def _problem(status, field, text):
    """ShipBob's validation answer: an RFC 7807 problem with errors per field."""
    title = {400: "Bad Request", 404: "Not Found", 422: "Unprocessable Entity"}.get(status, "Error")
    return _Reply(status, {"title": title, "status": status, "errors": {field: [text]}})


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class _ThreePLServer(LoopbackServer):
    def __init__(self, port, sandbox):
        self.sandbox = sandbox  # the shared request handler dispatches to it
        super().__init__(_Handler, port)


class SandboxError(ValueError):
    """A simulation request that cannot be done (unknown order, nothing left to ship...)."""


class ThreePLSandbox(LoopbackSandbox):
    """A stateful ShipBob-like 3PL on 127.0.0.1.

    :param token: the Personal Access Token clients must send as a bearer token
    :param webhook_secret: ``whsec_...`` secret signing the events sent back
    :param webhook_url: where events go (besides URLs subscribed with POST /webhook)
    :param rate_limit: requests per ``rate_window`` seconds per token (ShipBob: 150/min)
    :param async_webhooks: deliver events from a background thread with retries (demo);
        by default they are delivered before the simulation call returns (tests)
    """

    def __init__(
        self,
        port=0,
        *,
        token=DEFAULT_TOKEN,
        webhook_secret=None,
        webhook_url=None,
        channel_id=DEFAULT_CHANNEL_ID,
        rate_limit=RATE_LIMIT,
        rate_window=RATE_WINDOW,
        async_webhooks=False,
    ):
        self.token = token
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.channel_id = channel_id
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.async_webhooks = async_webhooks
        self.unknown_skus = set()
        self._port = port
        self._lock = threading.RLock()
        self._server = None
        self._outbox = None
        self._sender = None
        self._autopilot = None
        self._wakeup = threading.Event()
        self.reset()

    # -- life cycle --------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._wakeup = threading.Event()
        self._server = _ThreePLServer(self._port, self).start(name=f"3pl-sandbox-{self._port}")
        self._port = self._server.port
        if self.async_webhooks:
            self._outbox = queue.Queue()
            self._sender = threading.Thread(
                target=self._send_loop, name="3pl-sandbox-webhooks", daemon=True
            )
            self._sender.start()
        return self

    def stop(self):
        server = self._server
        if server is None:
            return
        self._server = None
        self._wakeup.set()
        if self._outbox is not None:
            self._outbox.put(None)
            self._sender.join(timeout=5)
            self._outbox = self._sender = None
        server.stop()

    @property
    def api_url(self):
        """What a partner record's base URL is: the host and the dated API version."""
        return f"{self.base_url}/{DEFAULT_VERSION}"

    def reset(self):
        """Forget every order, WRO, return, product, stock, fault and request of the run."""
        with self._lock:
            self._wakeup.set()
            self._wakeup = threading.Event()
            self.orders = {}
            self.receiving = {}
            self.returns = {}
            self.products = {}
            self.stock = {}  # (sku, lot, fulfillment center id) -> on hand
            self.subscriptions = {}
            self.requests = []
            self.webhooks_sent = []
            self.undelivered = []
            self._held = []
            self._faults = []
            self._webhook_faults = []
            self._calls = {}
            self._ids = {"order": 100000, "shipment": 500000, "wro": 2000, "return": 3000}
            self._ids.update(product=900000, webhook=70)
            self.autopilot_delay = None

    # -- ids and look-ups --------------------------------------------------------------------
    def _next_id(self, kind):
        self._ids[kind] += 1
        return self._ids[kind]

    def order(self, reference):
        """The order with this reference_id (or id); SandboxError when there is none."""
        with self._lock:
            for order in self.orders.values():
                if order["reference_id"] == reference or str(order["id"]) == str(reference):
                    return order
        raise SandboxError(f"no order {reference!r}")

    def wro(self, key):
        with self._lock:
            for wro in self.receiving.values():
                if str(wro["id"]) == str(key) or wro["purchase_order_number"] == key:
                    return wro
        raise SandboxError(f"no receiving order {key!r}")

    def return_order(self, reference):
        with self._lock:
            for item in self.returns.values():
                if item["reference_id"] == reference or str(item["id"]) == str(reference):
                    return item
        raise SandboxError(f"no return {reference!r}")

    def product(self, sku, name=None, create=True):
        with self._lock:
            for product in self.products.values():
                if product["reference_id"] == sku:
                    return product
            if not create:
                return None
            product_id = self._next_id("product")
            product = {
                "id": product_id,
                "reference_id": sku,
                "sku": sku,
                "name": name or sku,
                "inventory_items": [{"id": product_id, "name": name or sku, "quantity": 1}],
            }
            self.products[product_id] = product
            return product

    # -- inventory -------------------------------------------------------------------------
    def set_stock(self, sku, on_hand, lot=None, fulfillment_center=10):
        with self._lock:
            self.product(sku)
            self.stock[sku, lot or "", fulfillment_center] = on_hand

    def on_hand(self, sku, lot=None, fulfillment_center=10):
        with self._lock:
            return self.stock.get((sku, lot or "", fulfillment_center), 0)

    def _move_stock(self, sku, lot, fulfillment_center, delta):
        key = (sku, lot or "", fulfillment_center)
        self.stock[key] = max(self.stock.get(key, 0) + delta, 0)

    def _committed(self, sku):
        committed = 0
        for order in self.orders.values():
            if order["status"] in ("Processing", "PartiallyFulfilled", "Exception", "OnHold"):
                for line in order["products"]:
                    if line["reference_id"] == sku:
                        committed += line["quantity"] - line["shipped"]
        return committed

    def inventory_items(self):
        """Every product's stock the way GET /inventory shows it."""
        with self._lock:
            items = []
            for product in sorted(self.products.values(), key=lambda p: p["id"]):
                sku = product["reference_id"]
                rows = [(k, q) for k, q in self.stock.items() if k[0] == sku]
                committed = self._committed(sku)
                by_fc, by_lot = {}, {}
                for (_sku, lot, fc), quantity in rows:
                    by_fc[fc] = by_fc.get(fc, 0) + quantity
                    if lot:
                        by_lot.setdefault(lot, {})[fc] = quantity
                on_hand = sum(by_fc.values())
                items.append(
                    {
                        "id": product["id"],
                        "name": product["name"],
                        "sku": sku,
                        "is_active": True,
                        "total_onhand_quantity": on_hand,
                        "total_committed_quantity": committed,
                        "total_fulfillable_quantity": max(on_hand - committed, 0),
                        "fulfillable_quantity_by_fulfillment_center": [
                            self._fc_quantities(fc, quantity)
                            for fc, quantity in sorted(by_fc.items())
                        ],
                        "fulfillable_quantity_by_lot": [
                            {
                                "lot_number": lot,
                                "expiration_date": None,
                                "onhand_quantity": sum(per_fc.values()),
                                "fulfillable_quantity": sum(per_fc.values()),
                                "committed_quantity": 0,
                                "fulfillable_quantity_by_fulfillment_center": [
                                    self._fc_quantities(fc, quantity)
                                    for fc, quantity in sorted(per_fc.items())
                                ],
                            }
                            for lot, per_fc in sorted(by_lot.items())
                        ],
                    }
                )
            return items

    def _fc_quantities(self, fc, quantity):
        name = next((c["name"] for c in FULFILLMENT_CENTERS if c["id"] == fc), str(fc))
        return {
            "id": fc,
            "name": name,
            "onhand_quantity": quantity,
            "fulfillable_quantity": quantity,
            "committed_quantity": 0,
        }

    # -- simulation: orders ----------------------------------------------------------------
    def acknowledge(self, reference):
        return self._progress(reference, "acknowledged")

    def pick(self, reference):
        return self._progress(reference, "picked")

    def pack(self, reference):
        return self._progress(reference, "packed")

    def _progress(self, reference, step):
        with self._lock:
            order = self.order(reference)
            if order["status"] not in ("Processing", "OnHold", "Exception"):
                raise SandboxError(f"order {reference} is {order['status']}: it cannot be {step}")
            order["status"] = "Processing"
            order["fulfillment_status"] = step
            order["status_details"] = []
            data = self._order_view(order)
        # Not ShipBob topics: ShipBob publishes no webhook for picking and packing (see
        # SANDBOX_TOPIC_FLOWS in the 3PL addon's lib/shipbob.py); the sandbox shows the steps.
        return self.emit(f"order.{step}", data)

    def hold(self, reference, reason="Missing tariff code"):
        return self._trouble(reference, "OnHold", "order.shipment.on_hold", reason)

    def exception(self, reference, reason="Out of stock"):
        return self._trouble(reference, "Exception", "order.shipment.exception", reason)

    def _shipment_view(self, order, status):
        """What an ``order.shipment.*`` event carries: the order's open shipment (ShipBob
        makes one with the order) with its order's id and reference."""
        if not order.get("open_shipment_id"):
            order["open_shipment_id"] = self._next_id("shipment")
        return {
            "id": order["open_shipment_id"],
            "order_id": order["id"],
            "reference_id": order["reference_id"],
            "status": status,
            "status_details": copy.deepcopy(order["status_details"]),
            "location": copy.deepcopy(order["location"]),
        }

    def _trouble(self, reference, status, topic, reason):
        with self._lock:
            order = self.order(reference)
            if order["status"] not in ("Processing", "OnHold", "Exception"):
                raise SandboxError(f"order {reference} is {order['status']}")
            order["status"] = status
            order["status_details"] = [{"name": status, "description": reason}]
            data = self._shipment_view(order, status)
        return self.emit(topic, data)

    def cancel(self, reference, reason="Cancelled by the warehouse"):
        """The warehouse cancels the order on its own (not asked by the merchant)."""
        with self._lock:
            order = self.order(reference)
            order["status"] = "Cancelled"
            order["status_details"] = [{"name": "Cancelled", "description": reason}]
            data = self._shipment_view(order, "Cancelled")
        return self.emit("order.shipment.cancelled", data)

    def ship(
        self,
        reference,
        quantities=None,
        *,
        lots=None,
        serials=None,
        packages=1,
        carrier="USPS",
        service="Priority",
        tracking_number=None,
        shipped_at=None,
        fulfillment_center=None,
    ):
        """Ship ``quantities`` ({sku: units}, default everything left) in one shipment.

        ``lots`` {sku: [(lot, units), ...]}, ``serials`` {sku: [serial, ...]}; ``packages``
        cartons, each with its own tracking number. Returns the webhook deliveries."""
        with self._lock:
            order = self.order(reference)
            if order["status"] in ("Cancelled", "Fulfilled"):
                raise SandboxError(f"order {reference} is {order['status']}")
            fc = fulfillment_center or order["location"]["id"]
            shipped_products = []
            for line in order["products"]:
                left = line["quantity"] - line["shipped"]
                units = left if quantities is None else quantities.get(line["reference_id"], 0)
                if units <= 0:
                    continue
                if units > left:
                    raise SandboxError(f"{line['reference_id']}: only {left} left to ship")
                items = []
                sku = line["reference_id"]
                if serials and sku in serials:
                    chosen = list(serials[sku])[:units]
                    items.append(self._item(line, units, serial_numbers=chosen))
                elif lots and sku in lots:
                    for lot, lot_units in lots[sku]:
                        items.append(self._item(line, lot_units, lot=lot))
                else:
                    items.append(self._item(line, units))
                for item in items:
                    self._move_stock(sku, item["lot"], fc, -item["quantity"])
                line["shipped"] += units
                shipped_products.append(
                    {
                        "id": line["id"],
                        "reference_id": sku,
                        "sku": sku,
                        "name": line["name"],
                        "external_line_id": line.get("external_line_id"),
                        "quantity": units,
                        "inventory_items": items,
                    }
                )
            if not shipped_products:
                raise SandboxError(f"order {reference}: nothing to ship")
            moment = shipped_at or _now()
            shipment_id = self._next_id("shipment")
            main_tracking = tracking_number or f"9400{shipment_id}{secrets.randbelow(10**6):06d}"
            cartons = []
            for number in range(max(int(packages), 1)):
                contents = [
                    {"sku": p["reference_id"], "quantity": item["quantity"], "lot": item["lot"]}
                    for index, p in enumerate(shipped_products)
                    for item in p["inventory_items"]
                    if index % max(int(packages), 1) == number
                ]
                cartons.append(
                    {
                        "barcode": f"00{shipment_id}{number + 1:04d}",
                        "tracking_number": main_tracking
                        if number == 0
                        else f"{main_tracking}-{number + 1}",
                        "contents": contents,
                    }
                )
            shipment = {
                "id": shipment_id,
                "order_id": order["id"],
                "reference_id": order["reference_id"],
                "status": "Completed",
                "created_date": _iso(moment),
                "actual_fulfillment_date": _iso(moment),
                "location": {"id": fc, "name": self._fc_quantities(fc, 0)["name"]},
                "tracking": {
                    "carrier": carrier,
                    "carrier_service": service,
                    "tracking_number": main_tracking,
                    "tracking_url": f"https://tracking.example/{main_tracking}",
                    "shipping_date": _iso(moment),
                },
                "products": shipped_products,
                "parent_cartons": cartons,
                "delivery_date": None,
            }
            order["shipments"].append(shipment)
            complete = all(line["shipped"] >= line["quantity"] for line in order["products"])
            order["status"] = "Fulfilled" if complete else "PartiallyFulfilled"
            order["fulfillment_status"] = "shipped"
            data = self._order_view(order)
        return self.emit("order.shipped", data)

    def _item(self, line, quantity, lot=None, serial_numbers=None):
        return {
            "id": line["id"],
            "name": line["name"],
            "quantity": quantity,
            "lot": lot,
            "expiration_date": None,
            "serial_numbers": serial_numbers or [],
        }

    def deliver(self, reference, delivered_at=None):
        """Every parcel of the order is delivered: ``order.shipment.delivered`` per shipment
        not delivered before, then ``order.delivered`` (the whole order)."""
        with self._lock:
            order = self.order(reference)
            if not order["shipments"]:
                raise SandboxError(f"order {reference} has not shipped")
            delivered = []
            for shipment in order["shipments"]:
                if not shipment["delivery_date"]:
                    shipment["delivery_date"] = _iso(delivered_at)
                    delivered.append(copy.deepcopy(shipment))
                shipment["status"] = "Completed"
            order["fulfillment_status"] = "delivered"
            data = self._order_view(order)
        results = []
        for shipment in delivered:
            results += self.emit("order.shipment.delivered", shipment)
        return results + self.emit("order.delivered", data)

    def track(self, reference, status="InTransit", at=None):
        """A carrier scan of the order's parcels (InTransit, OutForDelivery, Exception...)."""
        with self._lock:
            order = self.order(reference)
            if not order["shipments"]:
                raise SandboxError(f"order {reference} has not shipped")
            scanned = []
            for shipment in order["shipments"]:
                shipment["tracking"]["status"] = status
                shipment["tracking"]["last_update_at"] = _iso(at)
                scanned.append(copy.deepcopy(shipment))
        # One event per shipment, carrying that shipment (as ShipBob's order.shipment.* do).
        return [
            result
            for shipment in scanned
            for result in self.emit("order.shipment.tracking.updated", shipment)
        ]

    def _order_view(self, order):
        view = copy.deepcopy(order)
        view.pop("open_shipment_id", None)
        for line in view["products"]:
            line.pop("shipped", None)
        return view

    # -- simulation: receiving and returns ---------------------------------------------------
    def receive(self, key, lines=None, received_at=None):
        """Count a WRO: ``lines`` {sku: {"received": n, "damaged": m, "lot": "L1"}}; default
        everything announced arrived in good condition."""
        with self._lock:
            wro = self.wro(key)
            if wro["status"] in ("Completed", "Cancelled"):
                raise SandboxError(f"receiving order {key} is {wro['status']}")
            fc = wro["fulfillment_center"]["id"]
            for box in wro["boxes"]:
                for item in box["box_items"]:
                    sku = self.products[item["product_id"]]["reference_id"]
                    count = (lines or {}).get(sku, {})
                    received = count.get("received", item["quantity"] if lines is None else 0)
                    item["received_quantity"] = received
                    item["damaged_quantity"] = count.get("damaged", 0)
                    item["stowed_quantity"] = received
                    if count.get("lot"):
                        item["lot_number"] = count["lot"]
                    self._move_stock(sku, item.get("lot_number"), fc, received)
            wro["status"] = "Completed"
            wro["completed_date"] = _iso(received_at)
            data = copy.deepcopy(wro)
        # The sandbox's name for a completed WRO (ShipBob's WRO topic names are not in the
        # contract we follow): see SANDBOX_TOPIC_FLOWS in the 3PL addon's lib/shipbob.py.
        return self.emit("receiving.completed", data)

    def arrive_return(self, reference):
        return self._return_status(reference, "Arrived", "return.updated")

    def cancel_return(self, reference):
        return self._return_status(reference, "Cancelled", "return.updated")

    def _return_status(self, reference, status, topic):
        with self._lock:
            item = self.return_order(reference)
            item["status"] = status
            item["updated_date"] = _iso()
            data = copy.deepcopy(item)
        return self.emit(topic, data)

    def complete_return(self, reference, dispositions=None, completed_at=None):
        """Process a return: ``dispositions`` {sku: [(action, units, lot), ...]} with actions
        Restock, Quarantine, Dispose, Damaged; default: everything restocked."""
        with self._lock:
            item = self.return_order(reference)
            if item["status"] in ("Completed", "Cancelled"):
                raise SandboxError(f"return {reference} is {item['status']}")
            fc = item["fulfillment_center"]["id"]
            for line in item["inventory"]:
                sku = line["sku"]
                actions = (dispositions or {}).get(sku) or [("Restock", line["quantity"], None)]
                line["action_taken"] = []
                for action, units, *rest in actions:
                    if action not in RETURN_ACTIONS:
                        raise SandboxError(f"unknown return action {action!r}")
                    lot = rest[0] if rest else None
                    line["action_taken"].append(
                        {"action": action, "quantity_processed": units, "lot_number": lot}
                    )
                    if action == "Restock":
                        self._move_stock(sku, lot, fc, units)
            item["status"] = "Completed"
            item["completed_date"] = item["updated_date"] = _iso(completed_at)
            data = copy.deepcopy(item)
        return self.emit("return.completed", data)

    def adjust_inventory(
        self, sku, on_hand=None, delta=None, lot=None, fc=10, reason="Cycle count"
    ):
        """An incremental inventory event (damage, cycle count) with its webhook."""
        with self._lock:
            before = self.on_hand(sku, lot, fc)
            after = on_hand if on_hand is not None else max(before + (delta or 0), 0)
            self.set_stock(sku, after, lot, fc)
            # Not a ShipBob topic (ShipBob's inventory is pulled): the sandbox's damage and
            # cycle-count event, see SANDBOX_TOPIC_FLOWS in the 3PL addon's lib/shipbob.py.
            data = {
                "sku": sku,
                "lot_number": lot,
                "fulfillment_center": {"id": fc},
                "onhand_quantity": after,
                "delta": after - before,
                "reason": reason,
                "adjusted_at": _iso(),
            }
        return self.emit("inventory.adjusted", data)

    # -- autopilot (demo) -------------------------------------------------------------------
    def set_autopilot(self, delay):
        """Every new order is acknowledged, picked, packed and shipped by itself, ``delay``
        seconds apart (None: off)."""
        self.autopilot_delay = delay

    def _autopilot_run(self, reference, delay):
        steps = (self.acknowledge, self.pick, self.pack, self.ship)
        for step in steps:
            if self._wakeup.wait(delay):
                return
            try:
                step(reference)
            except SandboxError as error:
                _logger.info("3PL sandbox autopilot stops for %s: %s", reference, error)
                return

    # -- webhooks back to Odoo ---------------------------------------------------------------
    def inject_webhook_fault(self, kind, count=1):
        """duplicate: each of the next ``count`` events is delivered twice (same webhook-id);
        reorder: the next ``count`` events are held, then delivered newest first; drop: the
        next ``count`` events are not delivered (redeliver() sends them)."""
        if kind not in WEBHOOK_FAULTS:
            raise ValueError(f"unknown webhook fault {kind!r}; expected one of {WEBHOOK_FAULTS}")
        if not _positive_int(count):
            raise ValueError("count must be a positive integer")
        with self._lock:
            self._webhook_faults.append([kind, count])

    def emit(self, topic, data, timestamp=None):
        """Sign and deliver one event to every URL that wants ``topic``; returns the
        deliveries made now [(status or None, text)]."""
        moment = timestamp or _now()
        event = {
            "id": f"msg_{secrets.token_hex(12)}",
            "topic": topic,
            "moment": moment,
            "body": json.dumps({"type": topic, "timestamp": _iso(moment), "data": data}),
        }
        with self._lock:
            # Each subscription signs with its own secret; the URL given at start (demo, tests)
            # with the sandbox's.
            targets = [
                (s["url"], s["secret"]) for s in self.subscriptions.values() if topic in s["topics"]
            ]
            if self.webhook_url and self.webhook_url not in [url for url, _secret in targets]:
                targets.append((self.webhook_url, self.webhook_secret))
            event["targets"] = targets
            fault = self._webhook_faults[0] if self._webhook_faults else None
            if fault:
                fault[1] -= 1
                if not fault[1]:
                    self._webhook_faults.pop(0)
            kind = fault[0] if fault else None
            if kind == "drop":
                self.undelivered.append(event)
                return []
            if kind == "reorder":
                self._held.append(event)
                if fault[1]:
                    return []
                batch, self._held = list(reversed(self._held)), []
            else:
                batch = [event, event] if kind == "duplicate" else [event]
        return [result for item in batch for result in self._deliver(item)]

    def redeliver(self):
        """Send the events held back by a drop fault, in their original order."""
        with self._lock:
            batch, self.undelivered = self.undelivered, []
        return [result for item in batch for result in self._deliver(item)]

    def _deliver(self, event):
        if self._outbox is not None:
            self._outbox.put(event)
            return []
        return [self._post(event, url, secret) for url, secret in event["targets"]]

    def _post(self, event, url, secret=None):
        secret = secret or self.webhook_secret
        if not secret:
            raise ValueError("no webhook secret: construct the sandbox with webhook_secret=")
        signature = Webhook(secret).sign(event["id"], event["moment"], event["body"])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ShipBobSandbox/1.0",
            "webhook-id": event["id"],
            "webhook-timestamp": str(math.floor(event["moment"].timestamp())),
            "webhook-signature": signature,
            "x-webhook-topic": event["topic"],
            "shipbob-topic": event["topic"],
        }
        try:
            response = requests.post(url, data=event["body"].encode(), headers=headers, timeout=15)
            result = (response.status_code, response.text)
        except requests.RequestException as error:
            result = (None, str(error))
        with self._lock:
            self.webhooks_sent.append(
                {"id": event["id"], "topic": event["topic"], "url": url, "status": result[0]}
            )
        _logger.info("3PL sandbox webhook %s -> %s", event["topic"], result[0])
        return result

    def _send_loop(self):
        """Background delivery with ShipBob-like retries (shortened: 1 s, 5 s, 30 s)."""
        outbox = self._outbox
        while True:
            event = outbox.get()
            if event is None:
                return
            for url, secret in event["targets"]:
                for pause in (0, 1, 5, 30):
                    if pause and self._wakeup.wait(pause):
                        break
                    status, _text = self._post(event, url, secret)
                    if status and 200 <= status < 300:
                        break

    # -- fault injection ---------------------------------------------------------------------
    def inject(self, kind, count=1, path_prefix="/", method=None, **options):
        """Queue a fault for the next ``count`` API requests under ``path_prefix`` (after the
        version, e.g. "/order"): status (status=503, body), rate_limit (retry_after=2),
        latency (seconds=30, then served), timeout (no answer before the client gives up,
        not served), malformed (a cut JSON body, not served), drop (connection closed, not
        served), accept_then_fail (served, then status=504: the answer is lost)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if not _positive_int(count):
            raise ValueError("count must be a positive integer")
        unknown = set(options) - FAULT_KINDS[kind]
        if unknown:
            raise ValueError(f"fault {kind!r} does not take {', '.join(sorted(unknown))}")
        fault = {
            "kind": kind,
            "remaining": count,
            "path_prefix": path_prefix,
            "method": method.upper() if method else None,
            **options,
        }
        with self._lock:
            self._faults.append(fault)
        return dict(fault)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def pending_faults(self):
        with self._lock:
            return [dict(fault) for fault in self._faults]

    def _take_fault(self, method, path):
        for fault in self._faults:
            if path.startswith(fault["path_prefix"]) and fault["method"] in (None, method):
                fault["remaining"] -= 1
                if not fault["remaining"]:
                    self._faults.remove(fault)
                return fault
        return None

    # -- request handling ----------------------------------------------------------------------
    def _dispatch(self, request):
        if request.path == "/_sim" or request.path.startswith("/_sim/"):
            return self._simulate(request)
        parts = request.path.strip("/").split("/")
        if not parts or parts[0] not in API_VERSIONS:
            return _problem(
                404, "version", f"no API version in {request.path}; use /{DEFAULT_VERSION}/..."
            )
        path = "/" + "/".join(parts[1:])
        if not self._authenticated(request):
            return _Reply(
                401,
                {"title": "Unauthorized", "status": 401},
                headers={"WWW-Authenticate": 'Bearer realm="shipbob"'},
            )
        with self._lock:
            limited = self._rate_limited()
            if limited:
                return limited
            remaining = self._remaining_calls()
            fault = self._take_fault(request.method, path)
            self.requests.append(
                {
                    "method": request.method,
                    "path": path,
                    "query": request.query,
                    "json": request.json,
                    "headers": dict(request.headers),
                    "fault": fault["kind"] if fault else None,
                }
            )
        reply = self._faulty(fault, request, path) if fault else self._api(request, path, parts[0])
        reply.headers.setdefault("x-remaining-calls", str(remaining))
        return reply

    def _authenticated(self, request):
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        given = credentials.strip().encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(given, self.token.encode())

    def _rate_limited(self):
        now = time.monotonic()
        calls = self._calls.setdefault(self.token, deque())
        while calls and calls[0] <= now - self.rate_window:
            calls.popleft()
        if len(calls) >= self.rate_limit:
            wait = max(math.ceil(calls[0] + self.rate_window - now), 1)
            return _Reply(
                429,
                {"title": "Too Many Requests", "status": 429},
                headers={"x-retry-after": str(wait), "x-remaining-calls": "0"},
            )
        calls.append(now)
        return None

    def _remaining_calls(self):
        return max(self.rate_limit - len(self._calls.get(self.token, ())), 0)

    def _faulty(self, fault, request, path):
        kind = fault["kind"]
        if kind == "status":
            status = fault.get("status", 503)
            body = fault.get("body")
            if isinstance(body, str):
                return _Reply(status, raw=body.encode(), content_type="text/plain")
            return _Reply(status, body or {"title": "Service Unavailable", "status": status})
        if kind == "rate_limit":
            wait = str(math.ceil(fault.get("retry_after", 2)))
            return _Reply(
                429,
                {"title": "Too Many Requests", "status": 429},
                headers={"x-retry-after": wait, "x-remaining-calls": "0"},
            )
        if kind == "malformed":
            body = fault.get("body", '{"id": 1000, "status": "Proce')
            return _Reply(200, raw=body.encode())
        if kind == "drop":
            return _Reply(0, drop=True)
        if kind == "timeout":
            self._wakeup.wait(DEFAULT_LATENCY)
            return _Reply(0, drop=True)
        if kind == "latency":
            if self._wakeup.wait(fault.get("seconds", DEFAULT_LATENCY)):
                return _Reply(0, drop=True)
            return self._api(request, path, DEFAULT_VERSION)
        # accept_then_fail: the effect happens, the answer is lost (a gateway timing out).
        self._api(request, path, DEFAULT_VERSION)
        return _Reply(fault.get("status", 504), {"title": "Gateway Timeout", "status": 504})

    def _api(self, request, path, version):
        parts = path.strip("/").split("/")
        resource, rest = parts[0], parts[1:]
        method = request.method
        if method in ("POST", "PUT") and request.json_error and request.body:
            return _problem(400, "body", f"malformed JSON: {request.json_error}")
        body = request.json if isinstance(request.json, dict) else {}
        with self._lock:
            if resource == "channel" and not rest and method == "GET":
                return _Reply(200, [self._channel()])
            if resource == "fulfillment-center" and not rest and method == "GET":
                return _Reply(200, [dict(fc) for fc in FULFILLMENT_CENTERS])
            if resource == "product" and not rest:
                if method == "GET":
                    sku = request.query.get("sku")
                    found = [p for p in self.products.values() if sku in (None, p["reference_id"])]
                    return _Reply(200, copy.deepcopy(found))
                if method == "POST":
                    return self._create_product(body)
            if resource == "order":
                return self._orders(request, method, rest, body, version)
            if resource == "receiving":
                return self._receivings(request, method, rest, body)
            if resource == "receiving:setExternalSync" and not rest and method == "POST":
                return self._set_external_sync(body)
            if resource == "return":
                return self._returns(request, method, rest, body)
            if resource == "inventory" and not rest and method == "GET":
                return self._page(self.inventory_items(), request, version, "inventory")
            if resource == "webhook":
                return self._webhooks(method, rest, body)
        return _problem(404, "path", f"no route for {method} {path}")

    def _channel(self):
        return {
            "id": self.channel_id,
            "name": "Odoo Logistics Connector",
            "application_name": "SMA",
            "scopes": ["orders_read", "orders_write", "receiving_write", "returns_write"],
        }

    def _channel_problem(self, request):
        given = request.headers.get("shipbob_channel_id")
        if given is None:
            return _problem(400, "shipbob_channel_id", "The shipbob_channel_id header is required")
        if str(given) != str(self.channel_id):
            return _problem(422, "shipbob_channel_id", f"Unknown channel {given}")
        return None

    def _page(self, items, request, version, resource):
        try:
            page = max(int(request.query.get("Page") or 1), 1)
            limit = min(max(int(request.query.get("Limit") or DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
        except ValueError:
            return _problem(400, "Page", "Page and Limit must be numbers")
        chunk = items[(page - 1) * limit : page * limit]
        headers = {}
        if page * limit < len(items):
            query = "&".join(
                f"{key}={value}"
                for key, value in request.query.items()
                if key not in ("Page", "Limit")
            )
            headers["next-page"] = f"/{version}/{resource}?Page={page + 1}&Limit={limit}" + (
                f"&{query}" if query else ""
            )
        return _Reply(200, copy.deepcopy(chunk), headers=headers)

    def _create_product(self, body):
        sku = body.get("reference_id") or body.get("sku")
        if not isinstance(sku, str) or not sku:
            return _problem(400, "reference_id", "reference_id is required")
        if self.product(sku, create=False):
            return _problem(422, "reference_id", "Duplicate reference ID")
        return _Reply(201, copy.deepcopy(self.product(sku, body.get("name"))))

    # orders
    def _orders(self, request, method, rest, body, version):
        if not rest:
            if method == "POST":
                return self._create_order(request, body)
            if method == "GET":
                references = [r for r in (request.query.get("ReferenceIds") or "").split(",") if r]
                found = [
                    self._order_view(o)
                    for o in sorted(self.orders.values(), key=lambda o: o["id"])
                    if not references or o["reference_id"] in references
                ]
                return self._page(found, request, version, "order")
        order = self.orders.get(int(rest[0])) if rest[0].isdigit() else None
        if order is None:
            return _problem(404, "id", f"order {rest[0]} not found")
        if len(rest) == 1 and method == "GET":
            return _Reply(200, self._order_view(order))
        if len(rest) == 1 and method == "PUT":
            return self._update_order(order, body)
        if rest[1:] == ["cancel"] and method == "POST":
            return self._cancel_order(order)
        if rest[1:] == ["shipment"] and method == "GET":
            return _Reply(200, copy.deepcopy(order["shipments"]))
        return _problem(404, "path", f"no route for {method} /order/{'/'.join(rest)}")

    def _order_problem(self, body):
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or not recipient.get("name"):
            return "recipient", "recipient.name is required"
        address = recipient.get("address") or {}
        for key in ("address1", "city", "country"):
            if not address.get(key):
                return "recipient.address", f"recipient.address.{key} is required"
        if not re.fullmatch(r"[A-Z]{2}", str(address["country"])):
            return "recipient.address.country", "country must be an ISO 3166 alpha-2 code"
        if not body.get("shipping_method"):
            return "shipping_method", "shipping_method is required"
        return self._products_problem(body.get("products"))

    def _products_problem(self, products):
        if not isinstance(products, list) or not products:
            return "products", "products must be a non-empty list"
        for number, line in enumerate(products, 1):
            if not isinstance(line, dict) or not line.get("reference_id"):
                return "products", f"product {number} needs a reference_id"
            if line["reference_id"] in self.unknown_skus:
                return (
                    "products",
                    f"Product with reference_id {line['reference_id']} does not exist",
                )
            if not _positive_int(line.get("quantity")):
                return "products", f"product {number}: quantity must be a positive integer"
        return None

    def _create_order(self, request, body):
        problem = self._channel_problem(request)
        if problem:
            return problem
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not 1 <= len(reference) <= 300:
            return _problem(400, "reference_id", "reference_id is required (1-300 characters)")
        if any(o["reference_id"] == reference for o in self.orders.values()):
            return _problem(422, "reference_id", "Duplicate reference ID")
        invalid = self._order_problem(body)
        if invalid:
            return _problem(422, *invalid)
        order_id = self._next_id("order")
        order = {
            "id": order_id,
            "created_date": _iso(),
            "purchase_date": body.get("purchase_date"),
            "reference_id": reference,
            "order_number": body.get("order_number") or reference,
            "status": "Processing",
            "fulfillment_status": "acknowledged",
            "status_details": [],
            "type": body.get("type") or "DTC",
            "channel": {"id": self.channel_id, "name": "Odoo Logistics Connector"},
            "shipping_method": body["shipping_method"],
            "recipient": copy.deepcopy(body["recipient"]),
            "tags": copy.deepcopy(body.get("tags") or []),
            "location": {
                "id": FULFILLMENT_CENTERS[0]["id"],
                "name": FULFILLMENT_CENTERS[0]["name"],
            },
            "products": self._order_lines(body["products"]),
            "shipments": [],
        }
        self.orders[order_id] = order
        if self.autopilot_delay is not None:
            threading.Thread(
                target=self._autopilot_run, args=(reference, self.autopilot_delay), daemon=True
            ).start()
        return _Reply(201, self._order_view(order))

    def _order_lines(self, products):
        lines = []
        for line in products:
            product = self.product(line["reference_id"], line.get("name"))
            lines.append(
                {
                    "id": product["id"],
                    "reference_id": product["reference_id"],
                    "name": line.get("name") or product["name"],
                    "quantity": line["quantity"],
                    "quantity_unit_of_measure_code": line.get("quantity_unit_of_measure_code"),
                    "external_line_id": line.get("external_line_id"),
                    "shipped": 0,
                }
            )
        return lines

    def _update_order(self, order, body):
        if order["status"] != "Processing" or order["fulfillment_status"] in FROZEN_FOR_CHANGES:
            return _problem(
                422, "status", f"Order is {self._stage(order)} and can no longer be modified"
            )
        invalid = self._products_problem(body.get("products"))
        if invalid:
            return _problem(422, *invalid)
        order["products"] = self._order_lines(body["products"])
        if body.get("shipping_method"):
            order["shipping_method"] = body["shipping_method"]
        return _Reply(200, self._order_view(order))

    def _cancel_order(self, order):
        if order["status"] == "Cancelled":
            return _Reply(200, self._order_view(order))
        if order["shipments"] or order["fulfillment_status"] in FROZEN_FOR_CANCEL:
            return _problem(
                422, "status", f"Order is {self._stage(order)} and can no longer be cancelled"
            )
        order["status"] = "Cancelled"
        return _Reply(200, self._order_view(order))

    def _stage(self, order):
        return order["fulfillment_status"] if order["status"] == "Processing" else order["status"]

    # receiving orders
    def _receivings(self, request, method, rest, body):
        if not rest and method == "POST":
            return self._create_wro(request, body)
        if not rest and method == "GET":
            query = request.query
            numbers = [n for n in (query.get("PurchaseOrderNumbers") or "").split(",") if n]
            statuses = [n for n in (query.get("Statuses") or "").split(",") if n]
            synced = query.get("ExternalSync")
            found = [
                copy.deepcopy(w)
                for w in self.receiving.values()
                if (not numbers or w["purchase_order_number"] in numbers)
                and (not statuses or w["status"] in statuses)
                and (
                    synced is None
                    or str(bool(w.get("external_sync_timestamp"))).lower() == synced.lower()
                )
            ]
            return self._page(found, request, DEFAULT_VERSION, "receiving")
        wro = self.receiving.get(int(rest[0])) if rest[0].isdigit() else None
        if wro is None:
            return _problem(404, "id", f"receiving order {rest[0]} not found")
        if len(rest) == 1 and method == "GET":
            return _Reply(200, copy.deepcopy(wro))
        if rest[1:] == ["cancel"] and method == "POST":
            if wro["status"] != "Awaiting":
                return _problem(422, "status", f"Receiving order is {wro['status']}")
            wro["status"] = "Cancelled"
            return _Reply(200, copy.deepcopy(wro))
        return _problem(404, "path", "no such receiving route")

    def _set_external_sync(self, body):
        """POST /receiving:setExternalSync {"ids", "is_external_sync"}: an integrator marks
        the receiving orders it has taken (polled) so they are not listed again."""
        ids = body.get("ids")
        if not isinstance(ids, list) or not all(_positive_int(i) for i in ids):
            return _problem(400, "ids", "ids must be a list of receiving order ids")
        changed = []
        for wro_id in ids:
            wro = self.receiving.get(wro_id)
            if wro is None:
                return _problem(404, "ids", f"receiving order {wro_id} not found")
            wro["external_sync_timestamp"] = _iso() if body.get("is_external_sync") else None
            changed.append(copy.deepcopy(wro))
        return _Reply(200, changed)

    def _create_wro(self, request, body):
        problem = self._channel_problem(request)
        if problem:
            return problem
        fc = (body.get("fulfillment_center") or {}).get("id")
        if fc not in [c["id"] for c in FULFILLMENT_CENTERS]:
            return _problem(422, "fulfillment_center", f"Unknown fulfillment center {fc}")
        if body.get("box_packaging_type") not in (
            "EverythingInOneBox",
            "OneSkuPerBox",
            "MultipleSkuPerBox",
        ):
            return _problem(422, "box_packaging_type", "box_packaging_type is not valid")
        boxes = body.get("boxes")
        if not isinstance(boxes, list) or not boxes:
            return _problem(422, "boxes", "boxes must be a non-empty list")
        for box in boxes:
            for item in box.get("box_items") or []:
                if item.get("product_id") not in self.products:
                    return _problem(422, "box_items", f"Unknown product {item.get('product_id')}")
                if not _positive_int(item.get("quantity")):
                    return _problem(422, "box_items", "quantity must be a positive integer")
        wro_id = self._next_id("wro")
        wro = {
            "id": wro_id,
            "purchase_order_number": body.get("purchase_order_number"),
            "status": "Awaiting",
            "fulfillment_center": {"id": fc},
            "box_packaging_type": body["box_packaging_type"],
            "expected_arrival_date": body.get("expected_arrival_date"),
            "boxes": copy.deepcopy(boxes),
            "created_date": _iso(),
        }
        for box in wro["boxes"]:
            for item in box.get("box_items") or []:
                item["sku"] = self.products[item["product_id"]]["reference_id"]
        self.receiving[wro_id] = wro
        return _Reply(201, copy.deepcopy(wro))

    # returns
    def _returns(self, request, method, rest, body):
        if not rest and method == "POST":
            return self._create_return(request, body)
        if not rest and method == "GET":
            references = [r for r in (request.query.get("ReferenceIds") or "").split(",") if r]
            found = [
                copy.deepcopy(r)
                for r in self.returns.values()
                if not references or r["reference_id"] in references
            ]
            return _Reply(200, found)
        item = self.returns.get(int(rest[0])) if rest[0].isdigit() else None
        if item is None or len(rest) != 1 or method != "GET":
            return _problem(404, "id", f"return {rest[0]} not found")
        return _Reply(200, copy.deepcopy(item))

    def _create_return(self, request, body):
        problem = self._channel_problem(request)
        if problem:
            return problem
        reference = body.get("reference_id")
        if not isinstance(reference, str) or not reference:
            return _problem(400, "reference_id", "reference_id is required")
        if any(r["reference_id"] == reference for r in self.returns.values()):
            return _problem(422, "reference_id", "Duplicate reference ID")
        inventory = body.get("inventory")
        if not isinstance(inventory, list) or not inventory:
            return _problem(422, "inventory", "inventory must be a non-empty list")
        lines = []
        for item in inventory:
            product = self.products.get(item.get("id"))
            if product is None or not _positive_int(item.get("quantity")):
                return _problem(
                    422, "inventory", f"Unknown inventory {item.get('id')} or bad quantity"
                )
            lines.append(
                {
                    "id": product["id"],
                    "sku": product["reference_id"],
                    "name": product["name"],
                    "quantity": item["quantity"],
                    "requested_action": item.get("requested_action") or "Restock",
                    "action_taken": [],
                }
            )
        original = None
        if body.get("original_shipment_id"):
            original = next(
                (
                    o["reference_id"]
                    for o in self.orders.values()
                    for s in o["shipments"]
                    if s["id"] == body["original_shipment_id"]
                ),
                None,
            )
        fc = (body.get("fulfillment_center") or {}).get("id") or FULFILLMENT_CENTERS[0]["id"]
        return_id = self._next_id("return")
        item = {
            "id": return_id,
            "reference_id": reference,
            "status": "AwaitingArrival",
            "original_shipment_id": body.get("original_shipment_id"),
            "original_order_reference_id": original,
            "tracking_number": body.get("tracking_number"),
            "fulfillment_center": {"id": fc},
            "inventory": lines,
            "created_date": _iso(),
            "updated_date": _iso(),
        }
        self.returns[return_id] = item
        return _Reply(201, copy.deepcopy(item))

    # webhook subscriptions (the dated versions' shape: several topics, a URL, a secret)
    def _webhooks(self, method, rest, body):
        if not rest and method == "POST":
            topics, url = body.get("topics"), body.get("url")
            if not isinstance(topics, list) or not topics:
                return _problem(422, "topics", "topics must be a non-empty list")
            unknown = [t for t in topics if t not in SUBSCRIBABLE_TOPICS]
            if unknown:
                return _problem(422, "topics", f"Unknown topic(s): {', '.join(map(str, unknown))}")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                return _problem(422, "url", "url must be an absolute http(s) URL")
            secret = body.get("secret")
            if secret is None:
                secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
            elif not isinstance(secret, str) or not SECRET_PATTERN.fullmatch(secret):
                return _problem(
                    422, "secret", "secret must match ^whsec_[a-zA-Z0-9+/]{32}$ (24 bytes)"
                )
            webhook_id = str(self._next_id("webhook"))
            self.subscriptions[webhook_id] = {
                "id": webhook_id,
                "created_at": _iso(),
                "description": body.get("description"),
                "secret": secret,
                "topics": list(dict.fromkeys(topics)),
                "url": url,
            }
            return _Reply(200, dict(self.subscriptions[webhook_id]))
        if not rest and method == "GET":
            return _Reply(200, [dict(s) for s in self.subscriptions.values()])
        if len(rest) == 1 and method == "DELETE":
            if self.subscriptions.pop(rest[0], None) is None:
                return _problem(404, "id", "no such subscription")
            return _Reply(204)
        return _problem(404, "path", "no such webhook route")

    # -- simulation over HTTP ------------------------------------------------------------------
    def _simulate(self, request):
        parts = [unquote(part) for part in request.path.strip("/").split("/")[1:]]
        if request.body and request.json_error:
            return _Reply(400, {"error": f"malformed JSON: {request.json_error}"})
        options = request.json if isinstance(request.json, dict) else {}
        try:
            result = self._simulate_action(request.method, parts, options)
        except (SandboxError, ValueError, TypeError, KeyError) as error:
            return _Reply(400, {"error": str(error)})
        if isinstance(result, _Reply):
            return result
        return _Reply(
            200, {"deliveries": [{"status": s, "response": t[:500]} for s, t in result or []]}
        )

    def _simulate_action(self, method, parts, options):
        head = parts[0] if parts else ""
        if head == "orders" and len(parts) == 3 and method == "POST":
            action = {
                "acknowledge": self.acknowledge,
                "pick": self.pick,
                "pack": self.pack,
                "hold": self.hold,
                "exception": self.exception,
                "ship": self.ship,
                "deliver": self.deliver,
                "track": self.track,
                "cancel": self.cancel,
            }.get(parts[2])
            if action is None:
                raise SandboxError(f"unknown order action {parts[2]!r}")
            return action(parts[1], **options)
        if head == "receiving" and parts[2:] == ["receive"] and method == "POST":
            return self.receive(parts[1], **options)
        if head == "returns" and len(parts) == 3 and method == "POST":
            action = {
                "arrive": self.arrive_return,
                "complete": self.complete_return,
                "cancel": self.cancel_return,
            }.get(parts[2])
            if action is None:
                raise SandboxError(f"unknown return action {parts[2]!r}")
            return action(parts[1], **options)
        if head == "inventory" and method == "POST":
            if "delta" in options or options.get("event"):
                options.pop("event", None)
                return self.adjust_inventory(**options)
            self.set_stock(**options)
            return []
        if head == "faults":
            if method == "GET":
                return _Reply(200, {"items": self.pending_faults()})
            if method == "DELETE":
                self.clear_faults()
                return []
            options = dict(options)
            return _Reply(201, {"queued": self.inject(options.pop("kind", None), **options)})
        if head == "webhook-faults" and method == "POST":
            self.inject_webhook_fault(options.get("kind"), options.get("count", 1))
            return []
        if head == "webhook-url" and method == "POST":
            self.webhook_url = options.get("url")
            return []
        if head == "autopilot" and method == "POST":
            self.set_autopilot(options.get("delay", 3) if options.get("enabled", True) else None)
            return []
        if head == "redeliver" and method == "POST":
            return self.redeliver()
        if head == "reset" and method == "POST":
            self.reset()
            return []
        if head == "state" and method == "GET":
            with self._lock:
                state = {
                    "orders": [self._order_view(o) for o in self.orders.values()],
                    "receiving": copy.deepcopy(list(self.receiving.values())),
                    "returns": copy.deepcopy(list(self.returns.values())),
                    "inventory": self.inventory_items(),
                    "webhooks_sent": list(self.webhooks_sent),
                }
            return _Reply(200, state)
        return _Reply(404, {"error": f"no simulation {method} {'/'.join(parts)}"})


# Demo constants: loopback only, never reuse them anywhere else.
DEMO_PORT = 8702
DEMO_TOKEN = "demo-shipbob-pat"
# base64 of b"logistics-connector-3pl-demo-key" (32 bytes), in Standard Webhooks form.
DEMO_WEBHOOK_SECRET = "whsec_bG9naXN0aWNzLWNvbm5lY3Rvci0zcGwtZGVtby1rZXk="
DEMO_WEBHOOK_TOKEN = "demo-shipbob-webhook"


def start_demo(port=DEMO_PORT, odoo_url="http://127.0.0.1:8069", delay=5):
    """Start the demo 3PL the demo database's "Demo ShipBob (sandbox)" partner talks to: it
    ships each new order by itself (acknowledged, picked, packed, shipped ``delay`` seconds
    apart) and posts the signed events to Odoo. Returns the running sandbox."""
    sandbox = ThreePLSandbox(
        port,
        token=DEMO_TOKEN,
        webhook_secret=DEMO_WEBHOOK_SECRET,
        webhook_url=f"{odoo_url.rstrip('/')}/logistics/webhook/{DEMO_WEBHOOK_TOKEN}",
        async_webhooks=True,
    )
    sandbox.set_autopilot(delay)
    for sku, quantity in (("FURN_7800", 40), ("FURN_8999", 25), ("E-COM11", 60)):
        sandbox.set_stock(sku, quantity)
    return sandbox.start()
