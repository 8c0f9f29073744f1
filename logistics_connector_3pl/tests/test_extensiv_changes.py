"""The Extensiv-like partner, the cases test_extensiv.py leaves out: a cancellation or a
quantity change decided in Odoo (in time, too late); serial numbers and several lots on one
line; a change the warehouse committed late with a date older than the watermark, or made again
to a shipped order; a 429 in the middle of paging; the "cancel the rest" and "exception for
every difference" policies; the rest of an order closed short released again; a receipt notice
that landed already."""

from tests.sandboxes.threepl_extensiv import tie

from .test_extensiv import ExtensivCase


class TestExtensivChanges(ExtensivCase):
    def cancel_message(self, picking):
        return self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "cancel"
        )

    def test_cancelled_in_odoo_before_shipping_cancels_the_order_in_the_warehouse(self):
        picking = self.delivery([(self.widget, 2)])
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "acknowledged")
        picking.action_cancel()
        self.assertEqual(picking.logistics_status, "cancel_requested")
        self.run_jobs()
        cancel = self.cancel_message(picking)
        self.assertEqual(cancel.state, "done", cancel.error_message)
        cancelers = [r for r in self.wms.requests if r["path"].endswith("/canceler")]
        self.assertEqual(len(cancelers), 1)
        self.assertEqual(self.wms.order(picking.name)["readOnly"]["status"], 2, "cancelled")
        self.assertEqual(picking.logistics_status, "cancelled")
        # The poll reads the cancelled order back: nothing more to do, no work for a person.
        self.poll()
        self.assertEqual(picking.state, "cancel")
        self.assertFalse(self.exceptions(picking, "partner_rejected"))

    def test_cancelled_in_odoo_after_the_warehouse_shipped_is_an_exception(self):
        picking = self.delivery([(self.widget, 1)])
        self.run_jobs()
        self.wms.ship(picking.name)  # shipped, not polled yet
        picking.action_cancel()
        self.run_jobs()
        cancel = self.cancel_message(picking)
        self.assertEqual(cancel.state, "failed")
        [exception] = cancel.exception_ids
        self.assertEqual(exception.exception_type, "partner_rejected")
        self.assertIn("can no longer cancel", exception.description)
        self.assertIn("Stop the parcel with the carrier", exception.description)
        self.assertEqual(self.wms.order(picking.name)["readOnly"]["status"], 1, "still shipped")

    def test_serial_numbers_and_several_lots_on_one_line_are_applied(self):
        phone = self.product("Phone", "PHONE-EXT", tracking="serial")
        paint = self.product("Paint", "PAINT-EXT3", tracking="lot")
        for serial in ("SN-A", "SN-B", "SN-C"):
            self.put_in_stock(phone, 1, serial)
        self.put_in_stock(paint, 3, "L-1")
        self.put_in_stock(paint, 2, "L-2")
        picking = self.delivery([(phone, 2), (paint, 5)])
        self.run_jobs()
        self.wms.ship(
            picking.name,
            serials={"PHONE-EXT": ["SN-C", "SN-A"]},
            lots={"PAINT-EXT3": [("L-1", 3), ("L-2", 2)]},
        )
        [shipment] = self.poll()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            self.shipped_lines(picking),
            [
                ("PAINT-EXT3", "L-1", 3),
                ("PAINT-EXT3", "L-2", 2),
                ("PHONE-EXT", "SN-A", 1),
                ("PHONE-EXT", "SN-C", 1),
            ],
            "the serials the warehouse shipped, not the ones Odoo reserved",
        )
        self.assertFalse(picking.backorder_ids)

    def test_a_change_committed_late_with_an_older_date_is_read_once(self):
        early, late = (
            self.delivery([(self.widget, 1)]),
            self.delivery([(self.widget, 1)]),
        )
        self.run_jobs()
        now = tie()
        self.wms.ship(late.name, moment=now)
        [first] = self.poll()
        self.assertEqual(first.state, "done", first.error_message)
        watermark = self.backend.poll_watermark
        # The warehouse commits the other shipment now, dated a minute earlier: before the
        # watermark, within the overlap the poll reads again.
        self.wms.ship(early.name, moment=tie(now, seconds=-60))
        [second] = self.poll()
        self.assertEqual(second.state, "done", second.error_message)
        self.assertEqual((early.state, late.state), ("done", "done"))
        self.assertEqual(self.backend.poll_watermark, watermark, "the watermark never goes back")
        self.assertFalse(self.poll(), "both read again in the overlap, stored once")
        self.assertEqual(len(self.inbound().filtered(lambda m: m.flow == "shipment")), 2)
        self.assertEqual((early.move_ids.quantity, late.move_ids.quantity), (1, 1))

    def test_a_shipped_order_changed_again_in_the_warehouse_is_not_shipped_twice(self):
        picking = self.delivery([(self.widget, 3)])
        self.run_jobs()
        self.wms.ship(picking.name, {"WIDGET-1": 2}, tracking_number="1ZEXT-A")
        [shipment] = self.poll()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        backorder = picking.backorder_ids
        self.assertEqual(backorder.move_ids.product_uom_qty, 1)
        # A clerk edits the closed order later (a note): it is listed again, with a newer
        # lastModifiedDate and another body, and stored as another event.
        order = self.wms.order(picking.name)
        order["notes"] = "Customer called"
        self.wms._touch(order, tie(seconds=5))
        [again] = self.poll()
        self.assertEqual(again.state, "done", again.error_message)
        self.assertEqual(picking.move_ids.quantity, 2)
        self.assertEqual(backorder.state, "assigned", "the rest is still expected")
        self.assertEqual(backorder.move_ids.quantity, 1, "reserved, not shipped")
        self.assertEqual(picking.carrier_tracking_ref, "1ZEXT-A")
        self.assertFalse(self.exceptions(backorder))

    def test_a_429_in_the_middle_of_paging_stores_nothing_and_the_next_poll_reads_all(self):
        pickings = [self.delivery([(self.widget, 1)]) for _ in range(3)]
        self.run_jobs()
        for picking in pickings:
            self.wms.ship(picking.name)
        watermark = self.backend.poll_watermark
        self.wms.inject(kind="rate_limit", pgnum=2)  # 3 orders, pages of 2
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.assertFalse(self.inbound(), "page 1 was read, but nothing of it was stored")
        self.assertEqual(self.backend.poll_watermark, watermark, "the watermark did not move")
        [down] = self.exceptions(exception_type="partner_down")
        self.assertIn("rate limiting", down.description)
        self.env["logistics.backend"]._cron_logistics_poll_partners()
        self.run_jobs()
        shipments = self.inbound().filtered(lambda m: m.flow == "shipment")
        self.assertEqual(len(shipments), 3)
        self.assertEqual(set(shipments.mapped("state")), {"done"})
        self.assertEqual([p.state for p in pickings], ["done"] * 3)
        self.assertEqual([p.move_ids.quantity for p in pickings], [1, 1, 1])
        # The partner answered again: its "could not be polled" closed by itself.
        self.assertEqual(down.state, "resolved")
        self.assertIn("answered again", down.resolution_reason or "")

    def test_a_short_shipment_cancels_the_rest_when_the_partner_never_ships_it(self):
        self.backend.partial_shipment_policy = "cancel"
        picking = self.delivery([(self.widget, 5)])
        self.run_jobs()
        self.wms.ship(picking.name, {"WIDGET-1": 3})
        [shipment] = self.poll()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual((picking.state, picking.move_ids.quantity), ("done", 3))
        self.assertFalse(picking.backorder_ids, "nothing more is expected")
        [short] = self.exceptions(picking, "partial_shipment")
        self.assertIn("WIDGET-1", short.description)

    def test_inventory_policy_exception_for_every_difference_adjusts_nothing(self):
        self.backend.inventory_policy = "exception"
        self.put_in_stock(self.widget, 10)
        self.put_in_stock(self.gadget, 5)
        self.wms.set_stock("WIDGET-1", 10)
        self.wms.set_stock("GADGET-1", 6)
        self.backend.action_logistics_pull_inventory()
        self.run_jobs()
        [snapshot] = self.inbound().filtered(lambda m: m.flow == "inventory_snapshot")
        self.assertEqual(snapshot.state, "done", snapshot.error_message)
        report = self.env["logistics.inventory.report"].browse(snapshot.res_id)
        statuses = {ln.product_id.default_code: ln.status for ln in report.line_ids}
        self.assertEqual((statuses["WIDGET-1"], statuses["GADGET-1"]), ("match", "exception"))
        self.assertEqual(self.gadget.with_context(location=self.stock.id).qty_available, 5)
        [mismatch] = self.exceptions(exception_type="inventory_mismatch")
        self.assertIn("GADGET-1: 5 / 6", mismatch.description)

    def test_the_rest_of_an_order_closed_short_is_released_again_and_ships(self):
        picking = self.delivery([(self.widget, 5)])
        self.run_jobs()
        self.wms.ship(picking.name, {"WIDGET-1": 2})
        self.poll()
        rest = picking.backorder_ids
        self.assertIn(f"The rest waits in {rest.name}", self.exceptions(picking).description)
        # What the exception asks: release the rest again, as an order of its own.
        rest.action_logistics_release()
        self.run_jobs()
        self.assertEqual(rest.logistics_status, "acknowledged")
        self.assertEqual(self.wms.order(rest.name)["orderItems"][0]["qty"], 3)
        self.wms.ship(rest.name)
        self.poll()
        self.assertEqual((rest.state, rest.move_ids.quantity), ("done", 3))
        self.assertEqual((picking | rest).mapped("logistics_status"), ["shipped", "shipped"])
        self.assertFalse(rest.backorder_ids)

    def test_a_quantity_change_after_release_asks_a_person_and_changes_nothing_there(self):
        picking = self.delivery([(self.widget, 2)])
        self.run_jobs()
        self.put_in_stock(self.widget, 3)
        picking.move_ids.product_uom_qty = 3
        self.run_jobs()
        update = self.messages(picking).filtered(
            lambda m: m.canonical_payload.get("action") == "update"
        )
        self.assertEqual(update.state, "failed")
        self.assertIn("ask the warehouse to change", update.exception_ids.description)
        self.assertEqual(self.wms.order(picking.name)["orderItems"][0]["qty"], 2)

    def test_a_receipt_notice_that_landed_already_is_bound_not_made_twice(self):
        receipt = self.incoming([(self.widget, 4)], confirm=False)
        # An earlier attempt whose answer was lost created the receiver already.
        self.wms._create_receiver(
            {
                "referenceNum": receipt.name,
                "customerIdentifier": {"id": 7},
                "receiveItems": [{"itemIdentifier": {"sku": "WIDGET-1"}, "qty": 4}],
            }
        )
        [existing] = self.wms.receivers.values()
        receipt.action_confirm()
        self.env.flush_all()
        self.run_jobs()
        [notice] = self.messages(receipt)
        self.assertEqual(notice.state, "done", notice.error_message)
        self.assertEqual(notice.external_id, str(existing["readOnly"]["receiverId"]))
        self.assertEqual(len(self.wms.receivers), 1, "bound, not made twice")
        self.wms.receive(receipt.name)
        [applied] = self.poll()
        self.assertEqual(applied.state, "done", applied.error_message)
        self.assertEqual((receipt.state, receipt.move_ids.quantity), ("done", 4))
