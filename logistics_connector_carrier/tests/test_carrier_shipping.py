"""Rates, labels, cancellations and return labels through Odoo's shipping methods, the base
pipeline, queue_job and the EasyPost-like sandbox."""

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user

from .common import API_KEY, CarrierCase

# The sandbox's USPS Priority tariff: 7.90 + 0.95 per pound; the products weigh 1 kg each.
OUNCES_PER_KG = 35.27396195


def priority_rate(kilograms):
    ounces = round(kilograms * OUNCES_PER_KG, 1)
    return round(7.90 + 0.95 * ounces / 16.0, 2)


class TestCarrierShipping(CarrierCase):
    def make_order(self, quantity=2.0):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create({"product_id": self.product.id, "product_uom_qty": quantity})
                ],
            }
        )

    def test_rate_with_margin_and_cache(self):
        order = self.make_order(2.0)
        result = self.carrier.rate_shipment(order)
        self.assertTrue(result["success"], result)
        self.assertAlmostEqual(result["price"], round(priority_rate(2.0) * 1.1, 2), places=2)
        again = self.carrier.rate_shipment(order)
        self.assertAlmostEqual(again["price"], result["price"], places=2)
        self.assertEqual(len(self.carrier_posts()), 1, "the second rate came from the cache")

    def test_rate_failure_is_a_plain_answer_not_a_crash(self):
        self.sandbox.inject("status", count=5, status=503)
        result = self.carrier.rate_shipment(self.make_order())
        self.assertFalse(result["success"])
        self.assertIn("Sandbox Carrier gave no rate", result["error_message"])
        message = self.env["logistics.message"].search(
            [("backend_id", "=", self.backend.id), ("flow", "=", "rate")]
        )
        self.assertEqual(message.state, "cancelled", "nobody waits for a late rate")
        self.sandbox.clear_faults()
        order = message._get_document()
        self.assertTrue(self.carrier.rate_shipment(order)["success"], "a failure is not cached")
        bad_zip = self.customer.copy({"zip": "00000"})
        order = self.make_order()
        order.partner_shipping_id = bad_zip
        self.sandbox.clear_faults()
        result = self.carrier.rate_shipment(order)
        self.assertFalse(result["success"])
        self.assertIn("correct the contact's address", result["error_message"])

    def test_ship_one_parcel(self):
        picking = self.validate(self.make_picking(2.0))
        label = picking.logistics_label_ids
        self.assertEqual(label.state, "bought")
        self.assertTrue(picking.carrier_tracking_ref.startswith("EZ"))
        self.assertEqual(picking.carrier_tracking_ref, label.tracking_number)
        self.assertEqual(
            label.attachment_id.name, f"LabelShipping-logistics-{label.tracking_number}.pdf"
        )
        self.assertTrue(label.attachment_id.raw.startswith(b"%PDF-"))
        self.assertAlmostEqual(picking.carrier_price, round(priority_rate(2.0) * 1.1, 2), places=2)
        self.assertEqual(picking.logistics_tracking_status, "label_created")
        self.assertEqual(picking.carrier_tracking_url, label.tracking_url)
        bought = self.sandbox.labels_bought()
        self.assertEqual(len(bought), 1)
        self.assertEqual(bought[0]["selected_rate"]["service"], "Priority")
        self.assertEqual(bought[0]["reference"], picking.name.replace("/", "-") + "-1")

    def test_people_without_logistics_rights_rate_and_ship(self):
        """Salespeople and warehouse workers never write messages: the pipeline does."""
        user = new_test_user(
            self.env,
            login="carrier_shipper",
            groups="stock.group_stock_user,sales_team.group_sale_salesman",
        )
        order = self.make_order().with_user(user)
        result = self.carrier.with_user(user).rate_shipment(order)
        self.assertTrue(result["success"], result)
        picking = self.make_picking(1.0).with_user(user)
        self.validate(picking)
        self.assertTrue(picking.carrier_tracking_ref)

    def test_ship_several_packages_one_label_each(self):
        picking = self.validate(self.make_picking(3.0, packages=[1.0, 2.0]))
        labels = picking.logistics_label_ids
        self.assertEqual(len(labels), 2)
        self.assertEqual(set(labels.mapped("state")), {"bought"})
        self.assertEqual(
            sorted(picking.carrier_tracking_ref.split(",")),
            sorted(labels.mapped("tracking_number")),
        )
        self.assertEqual(len(self.sandbox.labels_bought()), 2)
        self.assertEqual(len(labels.mapped("attachment_id")), 2)
        self.assertTrue(picking.get_multiple_carrier_tracking(), "one tracking page per parcel")

    def test_cancel_refunds_the_labels_and_a_new_label_is_a_new_purchase(self):
        picking = self.validate(self.make_picking(1.0))
        label = picking.logistics_label_ids
        picking.cancel_shipment()
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(label.state, "cancelled")
        self.assertEqual(self.sandbox.labels_bought()[0]["refund_status"], "submitted")
        picking.send_to_shipper()
        self.assertEqual(len(self.sandbox.labels_bought()), 2, "a new label after the refund")
        self.assertNotEqual(picking.carrier_tracking_ref, label.tracking_number)

    def test_refund_refused_once_the_parcel_moves(self):
        picking = self.validate(self.make_picking(1.0))
        self.sandbox.advance(picking.carrier_tracking_ref, "in_transit", send=False)
        with self.assertRaisesRegex(UserError, "already on its way"):
            picking.cancel_shipment()

    def test_return_label(self):
        picking = self.validate(self.make_picking(1.0))
        picking.print_return_label()
        picking.invalidate_recordset(["return_label_ids"])
        returned = picking.logistics_label_ids.filtered("is_return")
        self.assertEqual(returned.state, "bought")
        self.assertEqual(picking.return_label_ids, returned.attachment_id)
        self.assertTrue(returned.attachment_id.name.startswith("LabelReturn-logistics-"))
        shipment = [s for s in self.sandbox.labels_bought() if s["is_return"]]
        self.assertEqual(len(shipment), 1)
        self.assertEqual(shipment[0]["to_address"]["street1"], "500 Warehouse Way")

    def test_answer_lost_after_the_label_was_bought_then_retry_finds_it(self):
        self.sandbox.inject("accept_then_fail", path_prefix="/v2/shipments/", method="POST")
        picking = self.validate(self.make_picking(1.0))
        self.assertFalse(picking.carrier_tracking_ref, "no answer: no tracking number yet")
        self.assertTrue(picking.logistics_labels_pending)
        self.assertTrue(self.open_exceptions(picking), "the user is told the label follows")
        self.run_jobs(ignore_eta=True)
        label = picking.logistics_label_ids
        self.assertEqual(label.state, "bought")
        self.assertEqual(picking.carrier_tracking_ref, label.tracking_number)
        reference = picking.name.replace("/", "-") + "-1"
        self.assertEqual(len(self.sandbox.labels_bought(reference)), 1, "bought exactly once")
        self.assertEqual(len(self.carrier_posts("/buy")), 1)
        self.assertFalse(self.open_exceptions(picking), "closed when the label arrived")

    def test_carrier_down_the_picking_validates_and_the_label_follows(self):
        self.sandbox.inject("status", count=2, status=503)
        picking = self.validate(self.make_picking(2.0))
        self.assertFalse(picking.carrier_tracking_ref)
        exception = self.open_exceptions(picking)
        self.assertEqual(exception.exception_type, "service_unavailable")
        self.assertIn("follows", exception.name)
        self.assertIn("job queue", exception.description)
        self.run_jobs(ignore_eta=True)
        self.assertTrue(picking.carrier_tracking_ref.startswith("EZ"))
        self.assertAlmostEqual(picking.carrier_price, round(priority_rate(2.0) * 1.1, 2), places=2)
        self.assertEqual(len(self.sandbox.labels_bought()), 1)
        self.assertEqual(exception.state, "resolved")

    def test_garbled_answer_or_rate_limit_is_retried_later(self):
        self.sandbox.inject("malformed", path_prefix="/v2/shipments", method="POST")
        picking = self.validate(self.make_picking(1.0))
        self.assertIn("not JSON", picking.logistics_label_ids.error)
        self.sandbox.inject("rate_limit", retry_after=120, path_prefix="/v2/shipments")
        self.run_jobs(ignore_eta=True, limit=1)
        message = picking.logistics_label_ids.message_id
        self.assertEqual(message.state, "retry", "429: waits as long as the carrier asked")
        self.assertGreaterEqual(
            (message.next_attempt_at - fields.Datetime.now()).total_seconds(), 100
        )
        self.run_jobs(ignore_eta=True)
        self.assertTrue(picking.carrier_tracking_ref)
        self.assertEqual(len(self.sandbox.labels_bought()), 1)

    def test_send_to_shipper_while_the_label_is_pending_tries_now_without_buying_twice(self):
        self.sandbox.inject("accept_then_fail", path_prefix="/v2/shipments/", method="POST")
        picking = self.validate(self.make_picking(1.0))
        self.assertFalse(picking.carrier_tracking_ref)
        picking.send_to_shipper()  # the button a user sees while no tracking number is there
        self.assertTrue(picking.carrier_tracking_ref.startswith("EZ"))
        self.assertFalse(self.open_exceptions(picking), "the 'follows later' notice closed")
        self.run_jobs(ignore_eta=True)  # the queued retry finds nothing left to do
        self.assertEqual(len(self.sandbox.labels_bought()), 1)
        self.assertEqual(len(picking.logistics_label_ids), 1)

    def test_breaker_open_the_picking_validates_without_calling_the_carrier(self):
        for _failure in range(self.backend.breaker_threshold):
            self.backend._breaker_record_failure("carrier down")
        picking = self.validate(self.make_picking(1.0))
        self.assertFalse(self.sandbox.requests, "an open breaker protects the carrier")
        self.assertTrue(picking.logistics_labels_pending)
        self.assertTrue(self.open_exceptions(picking))
        self.backend.action_reset_breaker()
        self.run_jobs(ignore_eta=True)
        self.assertTrue(picking.carrier_tracking_ref.startswith("EZ"))

    def test_refused_parcel_stops_the_validation_in_plain_words(self):
        self.customer.zip = "00000"
        picking = self.make_picking(1.0)
        with self.assertRaisesRegex(UserError, "correct the contact's address"):
            picking.button_validate()

    def test_a_label_the_queue_cannot_buy_says_why(self):
        self.carrier.logistics_label_mode = "queue"
        self.customer.zip = "00000"
        picking = self.validate(self.make_picking(1.0))
        self.run_jobs()
        label = picking.logistics_label_ids
        self.assertEqual(label.state, "failed")
        self.assertIn("correct the contact's address", label.error)
        exception = self.open_exceptions(picking)
        self.assertEqual(exception.exception_type, "partner_rejected")
        self.assertFalse(picking.logistics_labels_pending)
        self.customer.zip = "12345"
        self.carrier.logistics_label_mode = "sync"
        picking.action_logistics_retry_labels()
        bought = picking.logistics_label_ids.filtered(lambda lab: lab.state == "bought")
        self.assertEqual(picking.carrier_tracking_ref, bought.tracking_number)
        self.assertEqual(len(self.sandbox.labels_bought()), 1)

    def test_always_queued_labels(self):
        self.carrier.logistics_label_mode = "queue"
        picking = self.validate(self.make_picking(1.0))
        self.assertFalse(self.sandbox.requests, "validation did not wait for the carrier")
        self.assertFalse(self.open_exceptions(picking))
        self.run_jobs()
        self.assertTrue(picking.carrier_tracking_ref.startswith("EZ"))
        self.assertTrue(picking.logistics_label_ids.attachment_id)

    def test_real_cost_invoicing_and_debug_log_without_secrets(self):
        self.carrier.write({"invoice_policy": "real", "debug_logging": True})
        order = self.make_order(2.0)
        order.set_delivery_line(self.carrier, 1.0)
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 2.0
        picking.move_ids.picked = True
        self.validate(picking)
        line = order.order_line.filtered("is_delivery")
        self.assertAlmostEqual(line.price_unit, picking.carrier_price, places=2)
        logs = self.env["ir.logging"].sudo().search([("path", "=", "logistics")])
        self.assertTrue(logs)
        self.assertFalse([log for log in logs if API_KEY in log.message])
        self.assertFalse([log for log in logs if "JVBERi" in log.message], "no label file")

    def test_environment_must_match_the_carrier_account(self):
        self.carrier.prod_environment = True
        result = self.carrier.rate_shipment(self.make_order())
        self.assertFalse(result["success"])
        self.assertIn("switch the Environment", result["error_message"])
        self.carrier.prod_environment = False
        self.carrier.toggle_prod_environment()
        self.assertEqual(self.backend.environment, "production")
        self.env.flush_all()  # a request of its own in real life: committed before the rate
        # The account has no production endpoint: said in plain words, nothing sent.
        result = self.carrier.rate_shipment(self.make_order())
        self.assertFalse(result["success"], result)
        self.assertIn("no production endpoint", result["error_message"], result)
        self.assertFalse(self.sandbox.requests)
