"""The polling adapter against the Extensiv-like sandbox: expiring client-credentials tokens,
HAL pages, and a lastModifiedDate watermark with which no change is missed (overlap, ties on
one timestamp) or applied twice."""

from odoo import Command
from tests.sandboxes.threepl_extensiv import ExtensivSandbox, tie

from .common import ThreePLCase


class TestExtensiv(ThreePLCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wms = ExtensivSandbox(token_lifetime=3600).start()
        cls.addClassCleanup(cls.wms.stop)
        cls.backend = cls.env["logistics.backend"].create(
            {
                "name": "Sandbox Extensiv",
                "code": "sbx_extensiv",
                "kind": "3pl",
                "adapter": "extensiv",
                "extensiv_customer_id": 7,
                "default_service_level": "UPS Ground",
                "poll_page_size": 2,
                "backoff_jitter": 0.0,
                "endpoint_ids": [
                    Command.create(
                        {
                            "environment": "test",
                            "base_url": cls.wms.base_url,
                            "auth_kind": "oauth2",
                            "client_id": cls.wms.client_id,
                            "client_secret": cls.wms.client_secret,
                            "extensiv_tpl": cls.wms.tpl,
                            "extensiv_user_login_id": "1",
                        }
                    )
                ],
                "mapping_ids": [
                    Command.create(
                        {
                            "mapping_type": "warehouse",
                            "odoo_value": cls.warehouse.code,
                            "partner_value": "3",
                        }
                    )
                ],
            }
        )
        cls.warehouse.logistics_backend_id = cls.backend

    def setUp(self):
        super().setUp()
        self.wms.reset()

    def poll(self):
        messages = self.backend._get_adapter()._poll(self.backend)
        self.run_jobs()
        return messages

    def test_release_then_polled_shipment_is_applied_once(self):
        picking = self.delivery([(self.widget, 3)])
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "done", release.error_message)
        order = self.wms.order(picking.name)
        self.assertEqual(order["facilityIdentifier"], {"id": 3})
        self.assertEqual(order["customerIdentifier"], {"id": 7})
        self.assertEqual(release.external_id, str(order["readOnly"]["orderId"]))
        self.assertFalse(self.poll(), "an open order is nothing to apply")
        self.wms.ship(picking.name, lots=None, tracking_number="1ZEXT9", packages=2)
        [shipment] = self.poll()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_tracking_ref, "1ZEXT9,1ZEXT9-2")
        self.assertEqual(picking.logistics_status, "shipped")
        self.assertFalse(self.poll(), "read again in the overlap, stored once")
        self.assertTrue(self.backend.poll_watermark)

    def test_ties_on_the_watermark_and_paging_miss_nothing(self):
        pickings = [self.delivery([(self.widget, 1)]) for _ in range(3)]
        self.run_jobs()
        moment = tie()
        self.wms.ship(pickings[0].name, moment=moment)
        self.wms.ship(pickings[1].name, moment=moment)
        self.assertEqual(len(self.poll()), 2)
        pages = [r for r in self.wms.requests if r["path"] == "/orders" and "pgnum" in r["query"]]
        self.assertEqual([r["query"]["pgnum"] for r in pages], ["1", "2"], "3 orders, pages of 2")
        # Shipped after that poll but stamped with the same millisecond as the watermark.
        self.wms.ship(pickings[2].name, moment=moment)
        [late] = self.poll()
        self.assertEqual(late.state, "done", late.error_message)
        self.assertEqual({p.state for p in pickings}, {"done"})
        shipments = self.inbound().filtered(lambda m: m.flow == "shipment")
        self.assertEqual(len(shipments), 3)

    def test_an_expired_token_is_renewed_and_a_duplicate_reference_bound(self):
        picking = self.delivery([(self.widget, 1)], ready=False)
        # The order is already there (an earlier attempt whose answer was lost).
        self.wms._create(
            {
                "referenceNum": picking.name,
                "customerIdentifier": {"id": 7},
                "orderItems": [{"itemIdentifier": {"sku": "WIDGET-1"}, "qty": 1}],
            }
        )
        self.wms.expire_tokens()
        self.put_in_stock(self.widget, 1)
        picking.action_confirm()
        picking.action_assign()
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(len(self.wms.orders), 1)
        self.wms.expire_tokens()
        before = self.wms.token_requests
        self.assertFalse(self.poll())
        self.assertEqual(self.wms.token_requests, before + 1, "one new token after the 401")

    def test_cancelled_in_the_warehouse_is_shown_and_needs_a_person(self):
        picking = self.delivery([(self.widget, 1)])
        self.run_jobs()
        self.wms.cancel(picking.name)
        [ack] = self.poll()
        self.assertEqual(ack.state, "done", ack.error_message)
        self.assertEqual(picking.logistics_status, "cancelled")
        self.assertIn("cancelled", self.exceptions(picking).name)

    def test_a_5xx_is_retried_and_a_failed_poll_loses_nothing(self):
        picking = self.delivery([(self.widget, 1)])
        self.wms.inject(status=503)
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "retry")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done", release.error_message)
        self.wms.ship(picking.name)
        watermark = self.backend.poll_watermark
        self.wms.inject(status=502)
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.assertEqual(self.backend.poll_watermark, watermark, "the watermark did not move")
        self.assertTrue(self.exceptions(exception_type="partner_down"))
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.run_jobs()
        self.assertEqual(picking.state, "done")
