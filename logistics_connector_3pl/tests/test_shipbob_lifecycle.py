"""Order to ship, receive and return through real Odoo, queue_job and the ShipBob-like sandbox:
the automated action releases, the sandbox's signed webhooks come back through Odoo's webhook
route, and the base's appliers change the stock."""

from datetime import datetime, timezone

from odoo import Command, fields

from .common import ThreePLCase


class TestOrderLifecycle(ThreePLCase):
    def test_order_goes_out_progresses_and_comes_back_shipped_with_tracking(self):
        picking = self.delivery([(self.widget, 3)], origin="S00042")
        [release] = self.messages(picking)
        self.assertEqual((release.flow, release.state), ("order_release", "queued"))
        self.assertEqual(picking.logistics_status, "released")
        self.assertEqual(picking.logistics_backend_id, self.backend)
        self.run_jobs()
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(picking.logistics_status, "acknowledged")
        order = self.sandbox.order(picking.name)
        self.assertEqual(release.external_id, str(order["id"]))
        self.assertEqual(order["order_number"], "S00042")
        self.assertEqual(order["shipping_method"], "Standard")
        self.assertEqual(order["recipient"]["address"]["zip_code"], "12345")
        self.assertEqual(
            [(p["reference_id"], p["quantity"]) for p in order["products"]], [("WIDGET-1", 3)]
        )
        post = next(r for r in self.sandbox.requests if r["method"] == "POST")
        self.assertEqual(post["headers"]["shipbob_channel_id"], "4242")

        self.deliveries_ok(self.sandbox.pick(picking.name))
        self.deliveries_ok(self.sandbox.pack(picking.name))
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "packed")

        self.deliveries_ok(self.sandbox.ship(picking.name, tracking_number="1ZSHIPBOB1"))
        self.run_jobs()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        self.assertEqual(picking.carrier_tracking_ref, "1ZSHIPBOB1")
        self.assertEqual(picking.logistics_status, "shipped")
        self.assertFalse(picking.backorder_ids)

        self.deliveries_ok(self.sandbox.track(picking.name, "InTransit"))
        self.run_jobs()
        self.assertEqual(picking.logistics_tracking_status, "in_transit")
        self.deliveries_ok(self.sandbox.deliver(picking.name))
        self.run_jobs()
        self.assertEqual(picking.logistics_tracking_status, "delivered")
        self.assertEqual(picking.logistics_status, "delivered")
        self.assertFalse(self.exceptions())
        stories = self.env["logistics.message"].search(
            [("correlation_id", "=", picking.logistics_correlation_id)]
        )
        self.assertEqual(set(stories.mapped("state")), {"done"})
        # picked, packed, shipped, a scan, the shipment delivered and the order delivered
        self.assertEqual(len(stories.filtered(lambda m: m.direction == "inbound")), 6)

    def test_partial_shipment_keeps_the_rest_in_a_backorder_shipped_later(self):
        picking = self.released([(self.widget, 5), (self.gadget, 2)])
        self.deliveries_ok(self.sandbox.ship(picking.name, {"WIDGET-1": 2}))
        self.run_jobs()
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.logistics_status, "shipped")
        backorder = picking.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.logistics_status, "partially_shipped")
        self.assertEqual(backorder.logistics_backend_id, self.backend)
        self.assertEqual(
            sorted(
                backorder.move_ids.mapped(lambda m: (m.product_id.default_code, m.product_uom_qty))
            ),
            [("GADGET-1", 2), ("WIDGET-1", 3)],
        )
        self.assertFalse(self.exceptions(), "a partial shipment is no problem")
        # Nothing goes out about the backorder: it is the rest of the same order at the 3PL.
        self.assertEqual(len(self.messages(picking, direction="outbound")), 1)
        self.assertFalse(self.messages(backorder, direction="outbound"))
        self.run_jobs()
        self.assertEqual(len(self.sandbox.orders), 1)
        self.deliveries_ok(self.sandbox.ship(picking.name))
        self.run_jobs()
        self.assertEqual(backorder.state, "done")
        self.assertEqual(backorder.logistics_status, "shipped")
        self.assertEqual(self.sandbox.order(picking.name)["status"], "Fulfilled")

    def test_lots_serials_and_packages_are_applied(self):
        paint = self.product("Paint", "PAINT-LOT", tracking="lot")
        phone = self.product("Phone", "PHONE-SN", tracking="serial")
        self.put_in_stock(paint, 4, "L-OLD")
        for serial in ("SN1", "SN2"):
            self.put_in_stock(phone, 1, serial)
        picking = self.released([(paint, 4), (phone, 2)])
        self.deliveries_ok(
            self.sandbox.ship(
                picking.name,
                lots={"PAINT-LOT": [("L-OLD", 3), ("L-NEW", 1)]},
                serials={"PHONE-SN": ["SN1", "SN2"]},
                packages=2,
                tracking_number="1ZPKG",
            )
        )
        self.run_jobs()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(
            self.shipped_lines(picking),
            [
                ("PAINT-LOT", "L-NEW", 1),
                ("PAINT-LOT", "L-OLD", 3),
                ("PHONE-SN", "SN1", 1),
                ("PHONE-SN", "SN2", 1),
            ],
        )
        self.assertEqual(picking.carrier_tracking_ref, "1ZPKG,1ZPKG-2")

    def test_warehouse_hold_and_exception_show_on_the_picking_and_need_a_person(self):
        picking = self.released([(self.widget, 1)])
        self.deliveries_ok(self.sandbox.hold(picking.name, reason="Missing tariff code"))
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "on_hold")
        self.assertEqual(picking.logistics_status_reason, "Missing tariff code")
        [hold] = self.exceptions(picking)
        self.assertIn("Missing tariff code", hold.description)
        self.deliveries_ok(self.sandbox.pick(picking.name))
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "picked")
        self.deliveries_ok(self.sandbox.exception(picking.name, reason="Out of stock"))
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "exception")
        self.assertTrue(self.exceptions(picking, "stockout"))
        filtered = self.env["stock.picking"].search(
            [("id", "=", picking.id), ("logistics_status", "in", ("on_hold", "exception"))]
        )
        self.assertEqual(filtered, picking, "the list filter finds it")


class TestChangesAfterRelease(ThreePLCase):
    def test_cancellation_before_picking_cancels_the_order_at_the_3pl(self):
        picking = self.released([(self.widget, 2)])
        picking.action_cancel()
        self.assertEqual(picking.logistics_status, "cancel_requested")
        cancel = self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "cancel"
        )
        self.assertEqual(cancel.state, "queued")
        self.run_jobs()
        self.assertEqual(cancel.state, "done", cancel.error_message)
        self.assertEqual(self.sandbox.order(picking.name)["status"], "Cancelled")
        self.assertEqual(picking.logistics_status, "cancelled")

    def test_cancellation_too_late_is_an_exception(self):
        picking = self.released([(self.widget, 2)])
        self.deliveries_ok(self.sandbox.pack(picking.name))
        self.run_jobs()
        picking.action_cancel()
        self.run_jobs()
        cancel = self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "cancel"
        )
        self.assertEqual(cancel.state, "failed")
        [exception] = cancel.exception_ids
        self.assertEqual(exception.exception_type, "partner_rejected")
        self.assertIn("can no longer be cancelled", exception.description)
        self.assertIn("stop the parcel with the carrier", exception.description)
        self.assertEqual(self.sandbox.order(picking.name)["status"], "Processing")

    def test_cancelling_a_release_not_sent_yet_withdraws_it(self):
        picking = self.delivery([(self.widget, 1)])
        [release] = self.messages(picking)
        picking.action_cancel()
        self.assertEqual(release.state, "cancelled")
        self.run_jobs()
        self.assertFalse(self.sandbox.orders)
        self.assertEqual(picking.logistics_status, "cancelled")

    def test_quantity_change_before_picking_is_sent_and_too_late_is_an_exception(self):
        picking = self.released([(self.widget, 2)])
        self.put_in_stock(self.widget, 5)
        picking.move_ids.product_uom_qty = 4
        self.run_jobs()
        self.assertEqual(self.sandbox.order(picking.name)["products"][0]["quantity"], 4)
        self.deliveries_ok(self.sandbox.pick(picking.name))
        self.run_jobs()
        picking.move_ids.product_uom_qty = 5
        self.run_jobs()
        updates = self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "update"
        )
        self.assertEqual(updates.mapped("state"), ["done", "failed"])
        self.assertIn("can no longer be modified", updates[1].exception_ids.description)
        self.assertEqual(self.sandbox.order(picking.name)["products"][0]["quantity"], 4)


class TestInboundAndReturns(ThreePLCase):
    def test_asn_goes_out_and_the_receipt_with_damage_is_applied(self):
        supplier = self.env["res.partner"].create({"name": "Vendor"})
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": supplier.id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.stock.id,
                "origin": "P00007",
                "move_ids": [
                    Command.create(
                        {
                            "name": "Widget",
                            "product_id": self.widget.id,
                            "product_uom_qty": 10,
                            "product_uom": self.widget.uom_id.id,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        self.assertEqual(receipt.state, "assigned")
        [asn] = self.messages(receipt)
        self.assertEqual(asn.flow, "receipt")
        self.run_jobs()
        self.assertEqual(asn.state, "done", asn.error_message)
        wro = self.sandbox.wro(receipt.name)
        self.assertEqual(wro["fulfillment_center"], {"id": 10})
        self.assertEqual(wro["boxes"][0]["box_items"][0]["quantity"], 10)
        before = self.widget.with_context(location=self.stock.id).qty_available
        self.deliveries_ok(
            self.sandbox.receive(receipt.name, {"WIDGET-1": {"received": 8, "damaged": 2}})
        )
        self.run_jobs()
        self.assertEqual(receipt.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(receipt.logistics_status, "received")
        self.assertEqual(self.widget.with_context(location=self.stock.id).qty_available, before + 8)
        [damaged] = self.exceptions(receipt, "damaged_goods")
        self.assertIn("WIDGET-1: 2", damaged.description)

    def test_a_completed_wro_is_polled_when_its_webhook_is_lost_and_applied_once(self):
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": self.env["res.partner"].create({"name": "Vendor"}).id,
                "location_id": self.env.ref("stock.stock_location_suppliers").id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "Widget",
                            "product_id": self.widget.id,
                            "product_uom_qty": 4,
                            "product_uom": self.widget.uom_id.id,
                            "location_id": self.env.ref("stock.stock_location_suppliers").id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        self.env.flush_all()  # the automated action runs on the computed state
        self.run_jobs()
        self.sandbox.inject_webhook_fault("drop")
        self.assertEqual(self.sandbox.receive(receipt.name), [], "the webhook is lost")
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        [polled] = self.inbound()
        self.run_jobs()
        self.assertEqual(polled.state, "done", polled.error_message)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(receipt.move_ids.quantity, 4)
        self.env.cr.postcommit.run()  # what runs once the poll's transaction commits
        self.assertTrue(self.sandbox.wro(receipt.name)["external_sync_timestamp"])
        self.assertFalse(self.backend._get_adapter()._poll(self.backend), "taken: not listed")
        # The webhook arrives after all: stored, and changes nothing.
        self.deliveries_ok(self.sandbox.redeliver())
        self.run_jobs()
        self.assertEqual(len(self.inbound()), 2)
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(receipt.move_ids.quantity, 4)
        self.assertFalse(receipt.backorder_ids)

    def test_return_authorization_and_disposition(self):
        picking = self.released([(self.widget, 3)])
        self.deliveries_ok(self.sandbox.ship(picking.name))
        self.run_jobs()
        self.assertEqual(picking.state, "done")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(
                active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
            )
            .create({})
        )
        wizard.product_return_moves.quantity = 3
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.assertEqual(returned.state, "assigned")
        [rma] = self.messages(returned)
        self.assertEqual(rma.flow, "return")
        self.run_jobs()
        self.assertEqual(rma.state, "done", rma.error_message)
        item = self.sandbox.return_order(returned.name)
        self.assertEqual(item["original_order_reference_id"], picking.name)
        on_hand = self.widget.with_context(location=self.stock.id).qty_available
        self.deliveries_ok(
            self.sandbox.complete_return(
                returned.name, {"WIDGET-1": [("Restock", 2), ("Dispose", 1)]}
            )
        )
        self.run_jobs()
        self.assertEqual(returned.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(returned.logistics_status, "received")
        self.assertEqual(
            self.widget.with_context(location=self.stock.id).qty_available, on_hand + 2
        )
        scrap = self.env["stock.scrap"].search([("picking_id", "=", returned.id)])
        self.assertEqual(scrap.scrap_qty, 1)


class TestDeliveryFaults(ThreePLCase):
    def test_duplicate_and_out_of_order_webhooks_change_nothing_twice(self):
        picking = self.released([(self.widget, 4)])
        self.sandbox.inject_webhook_fault("duplicate")
        deliveries = self.sandbox.pick(picking.name)
        self.assertEqual([status for status, _text in deliveries], [202, 200])
        self.sandbox.inject_webhook_fault("reorder", count=3)
        self.sandbox.pack(picking.name)
        self.sandbox.ship(picking.name, {"WIDGET-1": 1})
        self.deliveries_ok(self.sandbox.ship(picking.name))  # newest first: both shipments
        self.run_jobs()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        family = picking | picking.backorder_ids
        self.assertEqual(sum(family.move_ids.mapped("quantity")), 4)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(family.mapped("logistics_status"), ["shipped", "shipped"])
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        # The late "packed" arrived after the shipments: the status did not move back.
        self.assertEqual(picking.logistics_status, "shipped")
        # A shipment confirmation sent again under a new event id changes nothing either.
        self.deliveries_ok(self.sandbox.emit("order.shipped", self.sandbox.order(picking.name)))
        self.run_jobs()
        self.assertEqual(sum(family.move_ids.mapped("quantity")), 4)
        self.assertFalse(self.exceptions())

    def test_lost_webhooks_are_made_up_for_by_the_poll_and_late_ones_change_nothing(self):
        picking = self.released([(self.widget, 4)])

        def poll():
            messages = self.backend._get_adapter()._poll(self.backend)
            self.run_jobs()
            return messages

        self.sandbox.inject_webhook_fault("drop", count=3)
        self.sandbox.hold(picking.name, reason="Missing tariff code")
        self.assertEqual(len(poll()), 1)
        self.assertEqual(picking.logistics_status, "on_hold")
        self.assertIn("Missing tariff code", self.exceptions(picking).description)
        self.assertFalse(poll(), "nothing new: nothing stored")
        self.sandbox.ship(picking.name, {"WIDGET-1": 1})
        poll()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        backorder = picking.backorder_ids
        self.assertEqual(backorder.logistics_status, "partially_shipped")
        self.sandbox.ship(picking.name)
        poll()
        self.assertEqual(backorder.state, "done", self.inbound().mapped("error_message"))
        self.assertFalse(poll(), "nothing left open at the 3PL")
        self.deliveries_ok(self.sandbox.redeliver())  # the lost webhooks, late
        self.run_jobs()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(sum((picking | backorder).move_ids.mapped("quantity")), 4)
        self.assertEqual((picking | backorder).mapped("logistics_status"), ["shipped", "shipped"])

    def test_rate_limit_waits_the_partners_delay_then_goes_through(self):
        self.sandbox.inject("rate_limit", retry_after=120, path_prefix="/order", method="POST")
        picking = self.delivery([(self.widget, 1)])
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "retry")
        delay = (release.next_attempt_at - fields.Datetime.now()).total_seconds()
        self.assertGreaterEqual(delay, 118, "x-retry-after wins over the 10 s backoff")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done")
        self.assertEqual(len(self.sandbox.orders), 1)

    def test_5xx_and_a_lost_answer_end_with_one_order(self):
        self.backend.breaker_threshold = 5
        self.sandbox.inject("status", status=502, path_prefix="/order", method="POST")
        self.sandbox.inject("accept_then_fail", path_prefix="/order", method="POST")
        picking = self.delivery([(self.widget, 1)])
        [release] = self.messages(picking)
        self.run_jobs()
        self.assertEqual(release.state, "retry")
        self.run_jobs(ignore_eta=True, limit=1)
        self.assertEqual(release.state, "retry", "the second answer was lost")
        self.assertEqual(len(self.sandbox.orders), 1, "but the order landed")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done")
        self.assertEqual(release.external_id, str(self.sandbox.order(picking.name)["id"]))
        self.assertEqual(len(self.sandbox.orders), 1, "found by reference, not sent twice")

    def test_a_duplicate_reference_is_bound_to_the_existing_order(self):
        picking = self.delivery([(self.widget, 1)], ready=False)
        self.sandbox.orders[1] = {
            "id": 1,
            "reference_id": picking.name,
            "status": "Processing",
            "fulfillment_status": "acknowledged",
            "products": [],
            "shipments": [],
        }
        self.put_in_stock(self.widget, 1)
        picking.action_confirm()
        picking.action_assign()
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual((release.state, release.external_id), ("done", "1"))
        posts = [r for r in self.sandbox.requests if r["method"] == "POST"]
        self.assertEqual(len(posts), 1)

    def test_partner_down_opens_the_breaker_and_the_queue_drains_when_it_is_back(self):
        port = self.sandbox.port
        self.sandbox.stop()
        self.addCleanup(lambda: self.sandbox.running or self.sandbox.start())
        pickings = [self.delivery([(self.widget, 1)]) for _ in range(3)]
        self.run_jobs()
        self.assertEqual(self.backend.breaker_state, "open")
        releases = self.env["logistics.message"].search(
            [("res_id", "in", [p.id for p in pickings]), ("res_model", "=", "stock.picking")]
        )
        self.assertEqual(set(releases.mapped("state")), {"retry", "queued"})
        self.assertTrue(self.exceptions(exception_type="partner_down"))
        attempts = sum(releases.mapped("attempts"))
        self.run_jobs(ignore_eta=True, limit=3)
        self.assertEqual(sum(releases.mapped("attempts")), attempts, "postponed, not burnt")
        self.sandbox.start()
        self.assertEqual(self.sandbox.port, port)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_backend SET breaker_opened_at = breaker_opened_at"
            " - interval '2 minutes' WHERE id = %s",
            (self.backend.id,),
        )
        self.backend.invalidate_recordset()
        self.run_jobs(ignore_eta=True)
        self.assertEqual(set(releases.mapped("state")), {"done"})
        self.assertEqual(self.backend.breaker_state, "closed")
        self.assertEqual(
            sorted(o["reference_id"] for o in self.sandbox.orders.values()),
            sorted(pickings_name for pickings_name in (p.name for p in pickings)),
            "each order exactly once",
        )

    def test_malformed_event_is_refused_and_unknown_topics_are_kept_harmlessly(self):
        picking = self.released([(self.widget, 1)])
        status, text = self.sandbox._post(
            {
                "id": "msg_bad_1",
                "topic": "order.shipped",
                "moment": datetime.now(timezone.utc),
                "body": "{not json",
            },
            self.sandbox.webhook_url,
        )
        self.assertEqual(status, 400, text)
        self.deliveries_ok(self.sandbox.emit("billing.charge.created", {"amount": 3}))
        self.run_jobs()
        billing = self.inbound().filtered(lambda m: m.flow == "webhook")
        self.assertEqual(billing.state, "done")
        self.assertEqual(picking.logistics_status, "acknowledged")
