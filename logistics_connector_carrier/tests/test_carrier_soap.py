"""The SOAP carrier (ParcelService v1, WSDL shipped in the addon) through zeep, the pipeline
and the SOAP sandbox: rates, labels, a lost answer, cancellation, faults and notifications in
plain words, and tracking by polling."""

import os

from odoo import Command
from odoo.exceptions import UserError
from tests.sandboxes.carrier_soap import SoapCarrierSandbox

from .common import CarrierCase

USER, PASSWORD, ACCOUNT = "soap-tests", "soap-tests-Secret-9", "ACC-TESTS"


class TestSoapCarrier(CarrierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.soap = SoapCarrierSandbox(USER, PASSWORD, ACCOUNT).start()
        cls.addClassCleanup(cls.soap.stop)
        cls.soap_backend = cls.env["logistics.backend"].create(
            {
                "name": "SOAP carrier",
                "code": "sandbox_soap_carrier",
                "kind": "carrier",
                "adapter": "soap_parcel",
                "max_attempts": 4,
                "backoff_jitter": 0.0,
                "read_timeout": 5,
                "endpoint_ids": [
                    Command.create(
                        {
                            "base_url": cls.soap.endpoint,
                            "auth_kind": "basic",
                            "username": USER,
                            "password": PASSWORD,
                            "carrier_account_number": ACCOUNT,
                        }
                    )
                ],
            }
        )
        cls.soap_method = cls.carrier.copy(
            {
                "name": "ParcelService Express",
                "logistics_backend_id": cls.soap_backend.id,
                "logistics_carrier_code": False,
                "logistics_service": "EXPRESS",
                "logistics_tracking": "poll",
                "margin": 0.0,
            }
        )

    def setUp(self):
        super().setUp()
        self.soap.reset()
        self.backend = self.soap_backend  # run_jobs works on this partner's channel

    def test_rate_and_label(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": 2})
                ],
            }
        )
        result = self.soap_method.rate_shipment(order)
        self.assertTrue(result["success"], result)
        picking = self.validate(self.make_picking(2.0, carrier=self.soap_method))
        label = picking.logistics_label_ids
        self.assertTrue(picking.carrier_tracking_ref.startswith("PS"))
        self.assertEqual(
            label.attachment_id.name, f"LabelShipping-logistics-{label.tracking_number}.pdf"
        )
        self.assertTrue(label.attachment_id.raw.startswith(b"%PDF"))
        self.assertEqual(self.soap.calls, ["GetRatesRequest", "ProcessShipmentRequest"])
        message = label.message_id
        self.assertNotIn(
            PASSWORD.encode(), message.with_context(bin_size=False).wire_request or b""
        )

    def test_several_parcels_under_one_master_tracking_number(self):
        picking = self.validate(
            self.make_picking(3.0, carrier=self.soap_method, packages=[1.0, 2.0])
        )
        first, second = picking.logistics_label_ids.sorted("sequence")
        self.assertEqual(first.master_tracking_number, first.tracking_number)
        self.assertEqual(second.master_tracking_number, first.tracking_number)
        self.assertEqual(
            self.soap.shipments[second.tracking_number]["master"], first.tracking_number
        )
        self.assertEqual(len(picking.carrier_tracking_ref.split(",")), 2)

    def test_answer_lost_then_the_retry_finds_the_shipment(self):
        self.soap.lose_answer()
        picking = self.validate(self.make_picking(1.0, carrier=self.soap_method))
        self.assertFalse(picking.carrier_tracking_ref)
        self.run_jobs(ignore_eta=True)
        self.assertTrue(picking.carrier_tracking_ref.startswith("PS"))
        self.assertEqual(len(self.soap.labels_bought()), 1, "bought exactly once")
        self.assertIn("FindShipmentRequest", self.soap.calls)

    def test_faults_and_notifications_in_plain_words(self):
        self.customer.zip = "00000"
        with self.assertRaisesRegex(UserError, "postal code is not served"):
            self.make_picking(1.0, carrier=self.soap_method).button_validate()
        self.customer.zip = "12345"
        heavy = self.make_picking(80.0, carrier=self.soap_method)  # over the WSDL's 70 kg
        with self.assertRaisesRegex(UserError, "WeightKg"):
            heavy.button_validate()
        self.soap_backend.endpoint_ids.password = "wrong"
        self.env.flush_all()
        with self.assertRaisesRegex(UserError, "Authentication failed"):
            self.make_picking(1.0, carrier=self.soap_method).button_validate()

    def test_cancel_and_polling_until_delivered(self):
        picking = self.validate(self.make_picking(1.0, carrier=self.soap_method))
        label = picking.logistics_label_ids
        self.soap.advance(label.tracking_number, "IT", "In transit")
        self.env["logistics.carrier.label"]._cron_poll_tracking()
        self.run_jobs()
        self.assertEqual(label.delivery_state, "in_transit")
        with self.assertRaisesRegex(UserError, "already on its way"):
            picking.cancel_shipment()
        self.soap.advance(label.tracking_number, "DL", "Delivered", signed_by="A. Customer")
        self.env["logistics.carrier.label"]._cron_poll_tracking()
        self.run_jobs()
        self.assertEqual(label.delivery_state, "delivered")
        self.assertEqual(label.signed_by, "A. Customer")
        second = self.validate(self.make_picking(1.0, carrier=self.soap_method))
        tracking = second.carrier_tracking_ref
        second.cancel_shipment()
        self.assertEqual(second.logistics_label_ids.state, "cancelled")
        self.assertTrue(self.soap.shipments[tracking]["deleted"], "deleted at the carrier")


class TestDemoCarrierPorts(CarrierCase):
    def test_the_demo_carriers_follow_the_ports_of_the_run_command(self):
        for variable, port in (("LC_SANDBOX_CARRIER_PORT", "18703"), ("LC_SANDBOX_SOAP_PORT", "")):
            self.addCleanup(os.environ.__setitem__, variable, os.environ.get(variable, ""))
            os.environ[variable] = port
        self.env["logistics.backend"]._demo_follow_sandbox_ports()
        rest = self.env.ref("logistics_connector_carrier.demo_backend_carrier_endpoint_test")
        soap = self.env.ref("logistics_connector_carrier.demo_backend_soap_carrier_endpoint_test")
        self.assertEqual(rest.base_url, "http://127.0.0.1:18703")
        self.assertEqual(soap.base_url, "http://127.0.0.1:8704/soap/v1", "no setting: the default")
