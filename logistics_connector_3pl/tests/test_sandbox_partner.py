"""The ShipBob-like 3PL sandbox itself, over real HTTP on 127.0.0.1 (no database): the end to
end tests trust it to behave like the partner, so its contract is checked here."""

import base64
import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from standardwebhooks.webhooks import Webhook

from tests.sandboxes.threepl_partner import DEFAULT_CHANNEL_ID, SandboxError, ThreePLSandbox

TOKEN = "pat-for-tests"
SECRET = "whsec_" + base64.b64encode(b"threepl-sandbox-test-secret-0001").decode()
ORDER = {
    "reference_id": "WH/OUT/00001",
    "shipping_method": "Standard",
    "recipient": {
        "name": "Ada",
        "address": {"address1": "1 Loop Road", "city": "Localhost", "country": "US"},
    },
    "products": [
        {"reference_id": "WIDGET", "quantity": 3, "external_line_id": 11},
        {"reference_id": "GADGET", "quantity": 1, "external_line_id": 12},
    ],
}


class Receiver:
    """A loopback endpoint recording the webhooks the sandbox posts."""

    def __init__(self):
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        return [json.loads(body) for _headers, body in self.received]


class TestThreePLSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.sandbox = ThreePLSandbox(token=TOKEN, webhook_secret=SECRET).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.sandbox.webhook_url = self.receiver.url
        self.sandbox.rate_limit = 150
        self.receiver.received.clear()

    def call(self, method, path, body=None, headers=None, token=TOKEN):
        all_headers = {
            "Authorization": f"Bearer {token}",
            "shipbob_channel_id": str(DEFAULT_CHANNEL_ID),
        }
        all_headers.update(headers or {})
        return requests.request(
            method, self.sandbox.api_url + path, json=body, headers=all_headers, timeout=10
        )

    def test_orders_are_unique_by_reference_and_found_by_it(self):
        created = self.call("POST", "/order", ORDER)
        self.assertEqual(created.status_code, 201, created.text)
        self.assertEqual(created.json()["status"], "Processing")
        duplicate = self.call("POST", "/order", ORDER)
        self.assertEqual(duplicate.status_code, 422)
        self.assertIn("Duplicate reference ID", duplicate.text)
        found = self.call("GET", "/order", headers={}, body=None)
        self.assertEqual(len(found.json()), 1)
        by_reference = requests.get(
            self.sandbox.api_url + "/order",
            params={"ReferenceIds": "WH/OUT/00001"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        self.assertEqual([o["id"] for o in by_reference], [created.json()["id"]])

    def test_auth_channel_and_validation(self):
        self.assertEqual(self.call("GET", "/channel", token="wrong").status_code, 401)
        no_channel = requests.post(
            self.sandbox.api_url + "/order",
            json=ORDER,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        self.assertEqual(no_channel.status_code, 400)
        bad = dict(ORDER, reference_id="X", products=[{"reference_id": "W", "quantity": 0}])
        self.assertEqual(self.call("POST", "/order", bad).status_code, 422)
        self.assertEqual(
            requests.get(self.sandbox.base_url + "/v9/order", timeout=10).status_code, 404
        )

    def test_rate_limit_answers_429_with_its_retry_header(self):
        self.sandbox.rate_limit = 3
        statuses = [self.call("GET", "/channel") for _ in range(4)]
        self.assertEqual([r.status_code for r in statuses], [200, 200, 200, 429])
        self.assertEqual(statuses[1].headers["x-remaining-calls"], "1")
        self.assertGreaterEqual(int(statuses[3].headers["x-retry-after"]), 1)
        self.assertEqual(statuses[3].headers["x-remaining-calls"], "0")

    def test_inventory_pages_follow_the_next_page_header(self):
        for number in range(7):
            self.sandbox.set_stock(f"SKU-{number}", number + 1)
        url, skus = "/inventory?Limit=3", []
        while url:
            response = requests.get(
                self.sandbox.base_url + (url if url.startswith("/20") else "/2026-07" + url),
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=10,
            )
            skus += [item["sku"] for item in response.json()]
            url = response.headers.get("next-page")
        self.assertEqual(skus, [f"SKU-{n}" for n in range(7)])

    def test_lifecycle_sends_signed_events_and_partial_shipments_accumulate(self):
        self.assertEqual(self.call("POST", "/order", ORDER).status_code, 201)
        self.sandbox.pick("WH/OUT/00001")
        self.sandbox.ship("WH/OUT/00001", {"WIDGET": 2}, lots={"WIDGET": [("L1", 2)]})
        order = self.sandbox.order("WH/OUT/00001")
        self.assertEqual(order["status"], "PartiallyFulfilled")
        self.sandbox.ship("WH/OUT/00001", packages=2)
        self.assertEqual(self.sandbox.order("WH/OUT/00001")["status"], "Fulfilled")
        topics = [event["type"] for event in self.receiver.events()]
        self.assertEqual(topics, ["order.picked", "order.shipped", "order.shipped"])
        headers, body = self.receiver.received[-1]
        lowered = {k.lower(): v for k, v in headers.items()}
        verified = Webhook(SECRET).verify(body, lowered)
        self.assertEqual(len(verified["data"]["shipments"]), 2)
        self.assertEqual(len(verified["data"]["shipments"][1]["parent_cartons"]), 2)
        with self.assertRaises(SandboxError):
            self.sandbox.ship("WH/OUT/00001")

    def test_changes_and_cancellation_are_refused_once_too_late(self):
        order_id = self.call("POST", "/order", ORDER).json()["id"]
        update = {"products": [{"reference_id": "WIDGET", "quantity": 5}]}
        self.assertEqual(self.call("PUT", f"/order/{order_id}", update).status_code, 200)
        self.sandbox.pack("WH/OUT/00001")
        refused = self.call("PUT", f"/order/{order_id}", update)
        self.assertEqual(refused.status_code, 422)
        self.assertIn("can no longer be modified", refused.text)
        self.assertEqual(self.call("POST", f"/order/{order_id}/cancel").status_code, 422)

    def test_webhook_faults_duplicate_reorder_and_drop(self):
        self.call("POST", "/order", ORDER)
        self.sandbox.inject_webhook_fault("duplicate")
        self.sandbox.acknowledge("WH/OUT/00001")
        self.assertEqual(len(self.receiver.received), 2)
        self.assertEqual(
            self.receiver.received[0][0]["webhook-id"], self.receiver.received[1][0]["webhook-id"]
        )
        self.receiver.received.clear()
        self.sandbox.inject_webhook_fault("reorder", count=2)
        self.sandbox.pick("WH/OUT/00001")
        self.assertEqual(self.receiver.received, [])
        self.sandbox.pack("WH/OUT/00001")
        self.assertEqual(
            [e["type"] for e in self.receiver.events()], ["order.packed", "order.picked"]
        )
        self.receiver.received.clear()
        self.sandbox.inject_webhook_fault("drop")
        self.sandbox.ship("WH/OUT/00001")
        self.assertEqual(self.receiver.received, [])
        self.sandbox.redeliver()
        self.assertEqual([e["type"] for e in self.receiver.events()], ["order.shipped"])

    def test_http_faults_and_simulation_api(self):
        self.sandbox.inject("status", status=503, path_prefix="/order")
        self.assertEqual(self.call("POST", "/order", ORDER).status_code, 503)
        self.sandbox.inject("accept_then_fail", path_prefix="/order", method="POST")
        self.assertEqual(self.call("POST", "/order", ORDER).status_code, 504)
        self.assertEqual(len(self.sandbox.orders), 1, "stored although the answer was lost")
        self.sandbox.inject("malformed")
        self.assertRaises(ValueError, self.call("GET", "/channel").json)
        self.sandbox.inject("drop")
        with self.assertRaises(requests.ConnectionError):
            self.call("GET", "/channel")
        fault = requests.post(
            self.sandbox.base_url + "/_sim/faults",
            json={"kind": "rate_limit", "retry_after": 7},
            timeout=10,
        )
        self.assertEqual(fault.status_code, 201)
        limited = self.call("GET", "/channel")
        self.assertEqual((limited.status_code, limited.headers["x-retry-after"]), (429, "7"))
        shipped = requests.post(
            self.sandbox.base_url + "/_sim/orders/WH%2FOUT%2F00001/ship",
            json={"carrier": "UPS"},
            timeout=10,
        )
        self.assertEqual(shipped.status_code, 200, shipped.text)
        order_id = self.sandbox.order("WH/OUT/00001")["id"]
        self.assertEqual(shipped.json()["deliveries"][0]["status"], 202)
        unknown = requests.post(self.sandbox.base_url + f"/_sim/orders/{order_id}/fly", timeout=10)
        self.assertEqual(unknown.status_code, 400)

    def test_receiving_and_returns(self):
        product = self.call("POST", "/product", {"reference_id": "WIDGET", "name": "Widget"}).json()
        wro = {
            "fulfillment_center": {"id": 10},
            "box_packaging_type": "EverythingInOneBox",
            "purchase_order_number": "WH/IN/00001",
            "boxes": [{"box_items": [{"product_id": product["id"], "quantity": 10}]}],
        }
        self.assertEqual(self.call("POST", "/receiving", wro).status_code, 201)
        self.sandbox.receive("WH/IN/00001", {"WIDGET": {"received": 8, "damaged": 2, "lot": "L7"}})
        self.assertEqual(self.sandbox.on_hand("WIDGET", "L7"), 8)
        item = self.receiver.events()[-1]["data"]["boxes"][0]["box_items"][0]
        self.assertEqual((item["received_quantity"], item["damaged_quantity"]), (8, 2))
        rma = {"reference_id": "RMA-1", "inventory": [{"id": product["id"], "quantity": 3}]}
        self.assertEqual(self.call("POST", "/return", rma).status_code, 201)
        self.assertEqual(self.call("POST", "/return", rma).status_code, 422)
        self.sandbox.complete_return("RMA-1", {"WIDGET": [("Restock", 2), ("Dispose", 1)]})
        event = self.receiver.events()[-1]
        self.assertEqual(event["type"], "return.completed")
        actions = [a["action"] for a in event["data"]["inventory"][0]["action_taken"]]
        self.assertEqual(actions, ["Restock", "Dispose"])
