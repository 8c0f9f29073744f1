"""EasyPost's official Python client (``easypost`` on PyPI) against the carrier sandbox: the
sandbox follows the real contract closely enough for the carrier's own client (no database)."""

import json
import unittest

import easypost
from easypost.util import validate_webhook

from tests.sandboxes.carrier_partner import CarrierSandbox, sign

KEY = "EZTK_official_client_key"
ADDRESS = {"name": "Ada", "street1": "1 Loop Road", "city": "Springfield", "state": "IL",
           "zip": "12345", "country": "US"}  # fmt: skip


class TestOfficialClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = CarrierSandbox(api_keys={KEY: "test"}).start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.client = easypost.EasyPostClient(KEY, api_base=f"{cls.sandbox.base_url}/v2")

    def test_shipment_rates_buy_lookup_refund_and_trackers(self):
        shipment = self.client.shipment.create(
            to_address=ADDRESS, from_address=ADDRESS, parcel={"weight": 20}, reference="OC-1"
        )
        self.assertTrue(shipment.id.startswith("shp_"))
        rate = shipment.lowest_rate(["USPS"], ["Priority"])
        bought = self.client.shipment.buy(shipment.id, rate=rate)
        self.assertEqual(bought.selected_rate.service, "Priority")
        self.assertTrue(bought.postage_label.label_url)
        self.assertEqual(self.client.shipment.retrieve("OC-1").id, shipment.id)
        with self.assertRaises(easypost.errors.InvalidRequestError) as refused:
            self.client.shipment.buy(shipment.id, rate=rate)
        self.assertEqual(refused.exception.code, "SHIPMENT.POSTAGE.EXISTS")
        self.assertEqual(self.client.shipment.refund(shipment.id).refund_status, "submitted")
        tracker = self.client.tracker.create(tracking_code=bought.tracking_code, carrier="USPS")
        self.sandbox.advance(bought.tracking_code, "in_transit", send=False)
        self.assertEqual(self.client.tracker.retrieve(tracker.id).status, "in_transit")

    def test_wrong_key_and_signed_events(self):
        stranger = easypost.EasyPostClient("wrong", api_base=f"{self.sandbox.base_url}/v2")
        with self.assertRaises(easypost.errors.UnauthorizedError):
            stranger.shipment.all(page_size=1)
        self.assertTrue(
            self.client.webhook.create(url="http://127.0.0.1:9/h", webhook_secret="s").id
        )
        shipment = self.client.shipment.create(
            to_address=ADDRESS, from_address=ADDRESS, parcel={"weight": 5}
        )
        bought = self.client.shipment.buy(shipment.id, rate=shipment.lowest_rate())
        event = self.sandbox.advance(bought.tracking_code, "delivered", send=False)
        body = json.dumps(event).encode()
        checked = validate_webhook(body, {"X-Hmac-Signature": sign("s", body)}, "s")
        self.assertEqual(checked["id"], event["id"], "EasyPost's own check accepts the signature")
