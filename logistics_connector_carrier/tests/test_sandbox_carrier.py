"""The EasyPost-like carrier sandbox itself, over real HTTP on 127.0.0.1 (no database): the
carrier tests trust it to behave like the carrier, so its contract is checked here."""

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.sandboxes.carrier_partner import CarrierSandbox, sign
from tests.sandboxes.carrier_soap import NS as SOAP_NS
from tests.sandboxes.carrier_soap import SOAP_ENV, SoapCarrierSandbox

KEY = "EZTK_unit_test_key"
PROD_KEY = "EZAK_unit_prod_key"
SECRET = "unit-webhook-secret"
TIMEOUT = 10
ADDRESS = {"name": "Ada", "street1": "1 Loop Road", "city": "Springfield", "zip": "12345",
           "country": "US"}  # fmt: skip


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class TestCarrierSandbox(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        cls.receiver.received = []
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.receiver.server_close)
        cls.addClassCleanup(cls.receiver.shutdown)
        cls.sandbox = CarrierSandbox(
            api_keys={KEY: "test", PROD_KEY: "production"},
            webhook_url=f"http://127.0.0.1:{cls.receiver.server_address[1]}/hook",
            webhook_secret=SECRET,
        ).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()
        self.receiver.received.clear()

    def call(self, method, path, key=KEY, **kwargs):
        return requests.request(
            method, f"{self.sandbox.base_url}{path}", auth=(key, ""), timeout=TIMEOUT, **kwargs
        )

    def create_shipment(self, reference="WH-OUT-1", **extra):
        shipment = {
            "reference": reference,
            "to_address": ADDRESS,
            "from_address": ADDRESS,
            "parcel": {"weight": 24.0},
            "options": {"label_format": "PDF"},
            **extra,
        }
        response = self.call("POST", "/v2/shipments", json={"shipment": shipment})
        self.assertEqual(response.status_code, 201, response.text)
        return response.json()

    def buy(self, shipment, service="Priority"):
        rate = next(r for r in shipment["rates"] if r["service"] == service)
        return self.call("POST", f"/v2/shipments/{shipment['id']}/buy", json={"rate": rate})

    def test_rate_buy_label_and_lookup_by_reference(self):
        shipment = self.create_shipment()
        self.assertTrue(shipment["id"].startswith("shp_"))
        self.assertIn("Priority", [r["service"] for r in shipment["rates"]])
        bought = self.buy(shipment).json()
        self.assertTrue(bought["tracking_code"].startswith("EZ"))
        label = requests.get(bought["postage_label"]["label_pdf_url"], timeout=TIMEOUT)
        self.assertTrue(label.content.startswith(b"%PDF-"))
        found = self.call("GET", "/v2/shipments/WH-OUT-1").json()
        self.assertEqual(found["id"], shipment["id"], "the reference stands for the id")
        again = self.buy(shipment)
        self.assertEqual(again.status_code, 422)
        self.assertEqual(again.json()["error"]["code"], "SHIPMENT.POSTAGE.EXISTS")
        zpl = self.call("GET", f"/v2/shipments/{shipment['id']}/label?file_format=ZPL").json()
        zpl_file = requests.get(zpl["postage_label"]["label_zpl_url"], timeout=TIMEOUT)
        self.assertTrue(zpl_file.content.startswith(b"^XA"))

    def test_keys_and_modes(self):
        self.assertEqual(self.call("GET", "/v2/shipments", key="wrong").status_code, 401)
        self.create_shipment()
        self.assertEqual(self.call("GET", "/v2/shipments/WH-OUT-1", key=PROD_KEY).status_code, 404)

    def test_bad_input_is_refused_with_reasons(self):
        response = self.call(
            "POST", "/v2/shipments", json={"shipment": {"to_address": {}, "parcel": {}}}
        )
        self.assertEqual(response.status_code, 422)
        fields = {e["field"] for e in response.json()["error"]["errors"]}
        self.assertIn("to_address.street1", fields)
        self.assertIn("parcel.weight", fields)
        bad_zip = self.call(
            "POST",
            "/v2/shipments",
            json={
                "shipment": {
                    "to_address": {**ADDRESS, "zip": "00000"},
                    "from_address": ADDRESS,
                    "parcel": {"weight": 3},
                }
            },
        )
        self.assertEqual(bad_zip.json()["error"]["code"], "ADDRESS.VERIFY.FAILURE")
        self.assertEqual(self.call("POST", "/v2/shipments", data=b"{oops").status_code, 400)

    def test_answer_lost_after_the_label_was_bought(self):
        shipment = self.create_shipment()
        self.sandbox.inject("accept_then_fail", path_prefix="/v2/shipments/", method="POST")
        self.assertEqual(self.buy(shipment).status_code, 504)
        self.assertEqual(len(self.sandbox.labels_bought("WH-OUT-1")), 1, "bought all the same")

    def test_refund_then_rejected_once_moving(self):
        first = self.create_shipment("A")
        self.buy(first)
        refund = self.call("POST", f"/v2/shipments/{first['id']}/refund").json()
        self.assertEqual(refund["refund_status"], "submitted")
        second = self.create_shipment("B")
        code = self.buy(second).json()["tracking_code"]
        self.sandbox.advance(code, "in_transit", send=False)
        refund = self.call("POST", f"/v2/shipments/{second['id']}/refund").json()
        self.assertEqual(refund["refund_status"], "rejected")

    def test_tracker_events_are_signed_duplicated_and_reordered_on_command(self):
        code = self.buy(self.create_shipment()).json()["tracking_code"]
        late = self.sandbox.advance(code, "in_transit", send=False)
        final = self.sandbox.advance(code, "delivered", signed_by="A. Lovelace", send=False)
        self.sandbox.deliver(final, times=2)
        self.sandbox.deliver(late)
        received = self.receiver.received
        self.assertEqual(len(received), 3)
        headers, body = received[0]
        self.assertEqual(headers["X-Hmac-Signature"], sign(SECRET, body))
        self.assertEqual(json.loads(body)["id"], json.loads(received[1][1])["id"])
        self.assertEqual(json.loads(received[2][1])["result"]["status"], "in_transit", "late")
        tracker = self.sandbox.tracker(code)
        listed = self.call("GET", f"/v2/trackers?tracking_codes[]={code}").json()["trackers"]
        self.assertEqual(listed[0]["id"], tracker["id"])
        self.assertEqual(tracker["signed_by"], "A. Lovelace")
        page = requests.get(tracker["public_url"], timeout=TIMEOUT)
        self.assertIn("delivered", page.text)


class TestSoapCarrierSandbox(unittest.TestCase):
    """The SOAP sandbox serves its WSDL and refuses what its schema refuses."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.soap = SoapCarrierSandbox("u", "p", "A").start()
        cls.addClassCleanup(cls.soap.stop)

    def post(self, body):
        envelope = (
            f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:p="{SOAP_NS}"><soap:Body>{body}'
            "</soap:Body></soap:Envelope>"
        )
        return requests.post(self.soap.endpoint, data=envelope.encode(), timeout=TIMEOUT)

    def test_wsdl_and_schema_faults(self):
        wsdl = requests.get(f"{self.soap.endpoint}?wsdl", timeout=TIMEOUT)
        self.assertIn(b"ParcelServiceBinding", wsdl.content)
        missing_parcel = self.post(
            "<p:GetRatesRequest><p:Credentials><p:AccountNumber>A</p:AccountNumber>"
            "<p:UserName>u</p:UserName><p:Password>p</p:Password></p:Credentials>"
            "</p:GetRatesRequest>"
        )
        self.assertEqual(missing_parcel.status_code, 500)
        self.assertIn(b"faultstring", missing_parcel.content)
        self.assertIn(b"Invalid GetRatesRequest", missing_parcel.content)
        self.assertIn(b"not a SOAP 1.1 envelope", requests.post(
            self.soap.endpoint, data=b"<oops", timeout=TIMEOUT).content)  # fmt: skip
