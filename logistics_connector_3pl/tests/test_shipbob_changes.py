"""The ShipBob-like partner, the cases test_shipbob_lifecycle.py leaves out: an order or a
return cancelled by the warehouse itself (signed webhooks through Odoo's route), shown on the
transfer and handed to a person; a 429 half-way through a poll; receiving orders and returns
whose answer was lost; a receiving order counted by lot."""

from .common import ThreePLCase


class TestShipbobWarehouseCancels(ThreePLCase):
    def test_an_order_cancelled_by_the_warehouse_is_shown_and_needs_a_person(self):
        picking = self.released([(self.widget, 2)])
        self.sandbox.inject_webhook_fault("duplicate")
        deliveries = self.sandbox.cancel(picking.name, reason="Address undeliverable")
        self.assertEqual([status for status, _text in deliveries], [202, 200], "sent twice")
        self.env.invalidate_all()
        self.run_jobs()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(picking.logistics_status, "cancelled")
        self.assertEqual(picking.state, "assigned", "Odoo's transfer is a person's decision")
        [exception] = self.exceptions(picking)
        self.assertIn("Address undeliverable", exception.description)
        # The same news under a new event id opens nothing more.
        self.deliveries_ok(
            self.sandbox.emit("order.shipment.cancelled", self.sandbox.order(picking.name))
        )
        self.run_jobs()
        self.assertEqual(len(self.exceptions(picking)), 1)
        self.assertEqual(picking.logistics_status, "cancelled")

    def test_a_return_cancelled_by_the_warehouse_asks_a_person(self):
        picking = self.released([(self.widget, 1)])
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
        wizard.product_return_moves.quantity = 1
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.run_jobs()
        on_hand = self.widget.with_context(location=self.stock.id).qty_available
        self.deliveries_ok(self.sandbox.cancel_return(returned.name))
        self.run_jobs()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertNotEqual(returned.state, "done")
        self.assertEqual(self.widget.with_context(location=self.stock.id).qty_available, on_hand)
        self.assertIn("nothing is coming back", self.exceptions(returned, "other").description)


class TestShipbobPollFaults(ThreePLCase):
    def test_a_429_half_way_through_a_poll_loses_nothing_and_doubles_nothing(self):
        picking = self.released([(self.widget, 2)])
        self.sandbox.inject_webhook_fault("drop", count=1)
        self.sandbox.ship(picking.name)  # the webhook is lost: the poll must make up for it
        # The orders are read, then the receiving orders are refused: the poll fails whole.
        self.sandbox.inject("rate_limit", retry_after=1, path_prefix="/receiving", method="GET")
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        reads = [(r["method"], r["path"]) for r in self.sandbox.requests]
        self.assertIn(("GET", "/order"), reads, "the shipped order was read")
        self.assertFalse(self.inbound(), "what was read before the 429 was not kept")
        [down] = self.exceptions(exception_type="partner_down")
        self.assertIn("the next poll reads from the same point", down.description)
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.run_jobs()
        [shipment] = self.inbound()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual((picking.state, picking.move_ids.quantity), ("done", 2))
        # The lost webhook arrives late: stored, and changes nothing.
        self.deliveries_ok(self.sandbox.redeliver())
        self.run_jobs()
        self.assertEqual(set(self.inbound().mapped("state")), {"done"})
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertFalse(picking.backorder_ids)


class TestShipbobReceiptLots(ThreePLCase):
    def test_a_receiving_order_counted_by_lot_books_the_lot(self):
        paint = self.product("Paint", "PAINT-SB-IN", tracking="lot")
        receipt = self.incoming([(paint, 6)])
        [asn] = self.messages(receipt)
        self.assertEqual(asn.state, "done", asn.error_message)
        self.deliveries_ok(
            self.sandbox.receive(receipt.name, {"PAINT-SB-IN": {"received": 6, "lot": "LOT-W1"}})
        )
        self.run_jobs()
        self.assertEqual(receipt.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(
            receipt.move_line_ids.mapped(lambda ml: (ml.lot_id.name, ml.quantity)),
            [("LOT-W1", 6)],
        )


class TestShipbobLostAnswers(ThreePLCase):
    """A 5xx after the partner acted (the answer is lost): the retry finds what landed."""

    def test_a_receiving_order_whose_answer_was_lost_is_made_once(self):
        self.sandbox.inject("accept_then_fail", path_prefix="/receiving", method="POST")
        receipt = self.incoming([(self.widget, 3)])
        [asn] = self.messages(receipt)
        self.assertEqual(asn.state, "retry")
        self.assertEqual(len(self.sandbox.receiving), 1, "but it landed")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(asn.state, "done", asn.error_message)
        [wro] = self.sandbox.receiving.values()
        self.assertEqual(asn.external_id, str(wro["id"]))
        self.deliveries_ok(self.sandbox.receive(receipt.name))
        self.run_jobs()
        self.assertEqual((receipt.state, receipt.move_ids.quantity), ("done", 3))

    def test_a_return_whose_answer_was_lost_is_made_once(self):
        picking = self.released([(self.widget, 1)])
        self.deliveries_ok(self.sandbox.ship(picking.name))
        self.run_jobs()
        wizard = (
            self.env["stock.return.picking"]
            .with_context(
                active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
            )
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        self.sandbox.inject("accept_then_fail", path_prefix="/return", method="POST")
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.run_jobs()
        [rma] = self.messages(returned)
        self.assertEqual(rma.state, "retry")
        self.run_jobs(ignore_eta=True)
        self.assertEqual(rma.state, "done", rma.error_message)
        [item] = self.sandbox.returns.values()
        self.assertEqual(rma.external_id, str(item["id"]))
        self.deliveries_ok(self.sandbox.complete_return(returned.name))
        self.run_jobs()
        self.assertEqual(returned.state, "done", self.inbound().mapped("error_message"))


class TestShipbobBackorderCancel(ThreePLCase):
    def test_cancelling_the_rest_of_a_partial_shipment_asks_the_3pl_about_its_order(self):
        picking = self.released([(self.widget, 5)])
        self.deliveries_ok(self.sandbox.ship(picking.name, {"WIDGET-1": 2}))
        self.run_jobs()
        rest = picking.backorder_ids
        self.assertTrue(rest, "a backorder for the 3 not shipped")
        rest.action_cancel()
        self.run_jobs()
        cancel = self.messages(rest).filtered(
            lambda m: (m.canonical_payload or {}).get("action") == "cancel"
        )
        # The 3PL order is the first transfer's: the cancel names it, in a valid document.
        self.assertEqual(cancel.canonical_payload.get("reference"), picking.name)
        self.assertNotIn("missing required field", cancel.error_message or "")
        # ShipBob cannot cancel a partly fulfilled order: a person is told, in plain words.
        self.assertEqual(cancel.state, "failed")
        [exception] = self.exceptions(rest)
        self.assertIn("refused to cancel", exception.name)
        self.assertIn("can no longer be cancelled", cancel.error_message)


class TestShipbobPartialWithCancelPolicy(ThreePLCase):
    def test_a_partial_shipment_whose_rest_is_cancelled_by_the_setting_tells_a_person(self):
        self.backend.partial_shipment_policy = "cancel"
        picking = self.released([(self.widget, 5)])
        self.deliveries_ok(self.sandbox.ship(picking.name, {"WIDGET-1": 2}))
        self.run_jobs()
        self.assertEqual((picking.state, picking.move_ids.quantity), ("done", 2))
        self.assertFalse(picking.backorder_ids, "the rest was cancelled, not kept")
        [short] = self.exceptions(picking, "partial_shipment")
        self.assertIn("shipped part of", short.description)
        self.assertIn("The rest was cancelled", short.description)
