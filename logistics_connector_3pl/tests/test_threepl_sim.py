"""The sandbox simulation command (tests/sandboxes/threepl_sim.py), run as a person runs it:
a subprocess talking to a running sandbox (no database)."""

import base64
import json
import subprocess
import sys
import unittest
from pathlib import Path

import requests

from tests.sandboxes.loopback import free_port
from tests.sandboxes.threepl_extensiv import ExtensivSandbox
from tests.sandboxes.threepl_partner import DEFAULT_CHANNEL_ID, ThreePLSandbox

from .test_sandbox_partner import ORDER, Receiver

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "pat-for-the-sim-command"
SECRET = "whsec_" + base64.b64encode(b"threepl-sim-command-test-secret!").decode()


def sim(url, *args):
    """(exit code, answer or error text) of one run of the command."""
    run = subprocess.run(
        [sys.executable, "-m", "tests.sandboxes.threepl_sim", "--url", url, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return run.returncode, json.loads(run.stdout) if run.returncode == 0 else run.stderr


class TestSimCommandShipBob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()
        cls.addClassCleanup(cls.receiver.stop)
        cls.sandbox = ThreePLSandbox(token=TOKEN, webhook_secret=SECRET).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.url = cls.sandbox.base_url

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.sandbox.webhook_url = self.receiver.url
        self.receiver.received.clear()

    def api(self, method, path, body=None):
        answer = requests.request(
            method,
            self.sandbox.api_url + path,
            json=body,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "shipbob_channel_id": str(DEFAULT_CHANNEL_ID),
            },
            timeout=10,
        )
        return answer

    def test_an_order_moves_through_the_warehouse_and_ships_in_two_parts(self):
        self.assertEqual(self.api("POST", "/order", ORDER).status_code, 201)
        reference = ORDER["reference_id"]
        for step in ("ack", "pick", "pack"):
            self.assertEqual(sim(self.url, step, reference)[0], 0)
        code, answer = sim(self.url, "hold", reference, "--reason", "Missing tariff code")
        self.assertEqual(code, 0, answer)
        self.assertEqual(answer["deliveries"][0]["status"], 202)
        code, answer = sim(self.url, "ship", reference, "--partial", "--lot", "L1")
        self.assertEqual(code, 0, answer)
        self.assertEqual(self.sandbox.order(reference)["status"], "PartiallyFulfilled")
        code, answer = sim(self.url, "ship", reference, "--tracking", "1ZSIM", "--packages", "2")
        self.assertEqual(code, 0, answer)
        order = self.sandbox.order(reference)
        self.assertEqual(order["status"], "Fulfilled")
        first, second = order["shipments"]
        self.assertEqual(
            [(p["reference_id"], p["quantity"]) for p in first["products"]], [("WIDGET", 1)]
        )
        self.assertEqual(first["products"][0]["inventory_items"][0]["lot"], "L1")
        self.assertEqual(
            sorted((p["reference_id"], p["quantity"]) for p in second["products"]),
            [("GADGET", 1), ("WIDGET", 2)],
        )
        self.assertEqual(second["tracking"]["tracking_number"], "1ZSIM")
        topics = [event["type"] for event in self.receiver.events()]
        self.assertEqual(
            topics,
            ["order.acknowledged", "order.picked", "order.packed", "order.shipment.on_hold"]
            + ["order.shipped"] * 2,
        )
        self.assertEqual(sim(self.url, "track", reference, "--status", "OutForDelivery")[0], 0)
        self.assertEqual(sim(self.url, "deliver", reference)[0], 0)

    def test_receipt_return_inventory_faults_and_plain_errors(self):
        product = self.api("POST", "/product", {"reference_id": "WIDGET"}).json()
        wro = {
            "fulfillment_center": {"id": 10},
            "box_packaging_type": "EverythingInOneBox",
            "boxes": [{"box_items": [{"product_id": product["id"], "quantity": 10}]}],
            "purchase_order_number": "WH/IN/00001",
        }
        self.assertEqual(self.api("POST", "/receiving", wro).status_code, 201)
        code, answer = sim(
            self.url, "receive", "WH/IN/00001", "--damaged", "WIDGET=2", "--lot", "WIDGET=L9"
        )
        self.assertEqual(code, 0, answer)
        [item] = self.sandbox.wro("WH/IN/00001")["boxes"][0]["box_items"]
        self.assertEqual(
            (item["received_quantity"], item["damaged_quantity"], item["lot_number"]),
            (8, 2, "L9"),
        )
        rma = {
            "reference_id": "WH/IN/00002",
            "fulfillment_center": {"id": 10},
            "inventory": [{"id": product["id"], "quantity": 3}],
        }
        self.assertEqual(self.api("POST", "/return", rma).status_code, 201)
        code, answer = sim(
            self.url,
            "return",
            "WH/IN/00002",
            "--disposition",
            "restock",
            "--split",
            "WIDGET=dispose:1",
        )
        self.assertEqual(code, 0, answer)
        taken = self.sandbox.return_order("WH/IN/00002")["inventory"][0]["action_taken"]
        self.assertEqual(
            [(a["action"], a["quantity_processed"]) for a in taken],
            [("Dispose", 1), ("Restock", 2)],
        )
        self.assertEqual(sim(self.url, "inventory", "GADGET", "7")[0], 0)
        self.assertEqual(self.sandbox.on_hand("GADGET"), 7)
        self.assertEqual(sim(self.url, "inventory", "GADGET", "-2", "--delta")[0], 0)
        self.assertEqual(self.sandbox.on_hand("GADGET"), 5)
        self.assertEqual(self.receiver.events()[-1]["type"], "inventory.adjusted")

        self.assertEqual(sim(self.url, "fault", "429")[0], 0)
        limited = self.api("GET", "/channel")
        self.assertEqual((limited.status_code, limited.headers["x-retry-after"]), (429, "2"))
        self.assertEqual(sim(self.url, "fault", "503", "--count", "2", "--path", "/order")[0], 0)
        self.assertEqual(self.api("GET", "/channel").status_code, 200, "other paths unaffected")
        self.assertEqual(self.api("GET", "/order").status_code, 503)
        self.assertEqual(sim(self.url, "fault", "latency=0.01")[0], 0)
        self.assertEqual(self.api("GET", "/channel").status_code, 200)
        self.assertEqual(sim(self.url, "fault", "out-of-order", "--count", "2")[0], 0)
        self.assertEqual(sim(self.url, "fault", "duplicate")[0], 0)
        self.assertEqual(self.sandbox._webhook_faults, [["reorder", 2], ["duplicate", 1]])

        code, text = sim(self.url, "ship", "WH/OUT/404")
        self.assertEqual(code, 1)
        self.assertIn("no order 'WH/OUT/404'", text)
        code, text = sim(self.url, "fault", "teapot")
        self.assertEqual(code, 1)
        self.assertIn("Unknown fault 'teapot'", text)
        code, text = sim(f"http://127.0.0.1:{free_port()}", "state")
        self.assertEqual(code, 2)
        self.assertIn("No 3PL sandbox answers", text)


class TestSimCommandExtensiv(unittest.TestCase):
    def test_the_same_commands_drive_the_extensiv_like_sandbox(self):
        wms = ExtensivSandbox().start()
        self.addCleanup(wms.stop)
        wms._create(
            {
                "referenceNum": "WH/OUT/00007",
                "customerIdentifier": {"id": 1},
                "facilityIdentifier": {"id": 3},
                "orderItems": [{"itemIdentifier": {"sku": "WIDGET"}, "qty": 4}],
            }
        )
        code, answer = sim(wms.base_url, "ship", "WH/OUT/00007", "--lot", "L7")
        self.assertEqual(code, 0, answer)
        [package] = wms.order("WH/OUT/00007")["readOnly"]["packages"]
        self.assertEqual(
            [(c["qty"], c["lotNumber"]) for c in package["packageContents"]], [(4, "L7")]
        )
        wms._create_receiver(
            {
                "referenceNum": "WH/IN/00007",
                "customerIdentifier": {"id": 1},
                "receiveItems": [{"itemIdentifier": {"sku": "WIDGET"}, "qty": 5}],
            }
        )
        self.assertEqual(sim(wms.base_url, "receive", "WH/IN/00007", "--damaged", "WIDGET=1")[0], 0)
        items = wms.receiver("WH/IN/00007")["receiveItems"]
        self.assertEqual([(i["qty"], i["qualifier"]) for i in items], [(4, ""), (1, "DMG")])
        wms._create_receiver(
            {
                "referenceNum": "WH/IN/00008",
                "customerIdentifier": {"id": 1},
                "notes": "Customer return",
                "receiveItems": [{"itemIdentifier": {"sku": "WIDGET"}, "qty": 3}],
            }
        )
        code, answer = sim(wms.base_url, "return", "WH/IN/00008", "--split", "WIDGET=quarantine:1")
        self.assertEqual(code, 0, answer)
        items = wms.receiver("WH/IN/00008")["receiveItems"]
        self.assertEqual([(i["qty"], i["qualifier"]) for i in items], [(1, "QC"), (2, "")])
        self.assertEqual(sim(wms.base_url, "inventory", "GADGET", "3")[0], 0)
        self.assertEqual(wms.stock[3, "GADGET", "", ""], 3)
        code, text = sim(wms.base_url, "fault", "duplicate")
        self.assertEqual(code, 1)
        self.assertIn("Extensiv sends no webhooks", text)
