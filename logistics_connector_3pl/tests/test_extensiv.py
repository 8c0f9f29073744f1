"""The polling adapter against the Extensiv-like sandbox: expiring client-credentials tokens,
HAL pages, and a lastModifiedDate watermark with which no change is missed (overlap, ties on
one timestamp) or applied twice; receipt notices and returns as receivers (damage, short and
extra units, dispositions) and inventory from the stock details."""

from odoo import Command
from odoo.exceptions import UserError
from tests.sandboxes.threepl_extensiv import tie

from .common import ThreePLCase


class ExtensivCase(ThreePLCase):
    """One Extensiv-like sandbox and its partner, operating the main warehouse."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend, cls.wms = cls.make_extensiv("Sandbox Extensiv", "sbx_extensiv", 3)
        cls.warehouse.logistics_backend_id = cls.backend

    def setUp(self):
        super().setUp()
        self.wms.reset()

    def poll(self):
        messages = self.backend._get_adapter()._poll(self.backend)
        self.run_jobs()
        return messages


class TestExtensiv(ExtensivCase):
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


class TestExtensivReceiptsReturnsInventory(ExtensivCase):
    """Advance shipping notices and customer returns go out as receivers; closed receivers
    come back by polling; inventory is read from the stock details of each facility."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paint = cls.product("Paint", "PAINT-EXT", tracking="lot")

    def on_hand(self, product):
        return product.with_context(location=self.stock.id).qty_available

    def test_asn_goes_out_and_the_receipt_with_damage_short_and_extra_units_is_applied(self):
        receipt = self.incoming([(self.widget, 10), (self.gadget, 2), (self.paint, 4)])
        [notice] = self.messages(receipt)
        self.assertEqual((notice.flow, notice.state), ("receipt", "done"), notice.error_message)
        receiver = self.wms.receiver(receipt.name)
        self.assertEqual(notice.external_id, str(receiver["readOnly"]["receiverId"]))
        self.assertEqual(receiver["facilityIdentifier"], {"id": 3})
        self.assertEqual(receiver["poNum"], "P00042")
        self.assertEqual(
            [(i["itemIdentifier"]["sku"], i["qty"]) for i in receiver["receiveItems"]],
            [("WIDGET-1", 10), ("GADGET-1", 2), ("PAINT-EXT", 4)],
        )
        self.assertFalse(self.poll(), "an open receiver is nothing to apply")
        widgets, gadgets = self.on_hand(self.widget), self.on_hand(self.gadget)
        self.wms.receive(
            receipt.name,
            {
                "WIDGET-1": {"received": 7, "damaged": 2},
                "GADGET-1": {"received": 3},
                "PAINT-EXT": {"received": 4, "lot": "LOT-7"},
            },
        )
        [message] = self.poll()
        self.assertEqual((message.flow, message.state), ("receipt", "done"), message.error_message)
        self.assertEqual(receipt.state, "done")
        self.assertEqual(receipt.logistics_status, "received")
        self.assertEqual(self.on_hand(self.widget), widgets + 7)
        self.assertEqual(self.on_hand(self.gadget), gadgets + 3)
        self.assertEqual(receipt.move_line_ids.filtered("lot_id").lot_id.name, "LOT-7")
        [damaged] = self.exceptions(receipt, "damaged_goods")
        self.assertIn("WIDGET-1: 2", damaged.description)
        [short] = self.exceptions(receipt, "partial_shipment")
        self.assertIn("WIDGET-1: 10 / 7", short.description)
        extra = self.exceptions(receipt, "other")
        self.assertIn("GADGET-1: 2 / 3", extra.description)
        self.assertFalse(self.poll(), "read again in the overlap, stored once")
        self.assertTrue(self.backend.poll_receiver_watermark)

    def test_a_return_is_announced_and_applied_with_its_dispositions(self):
        delivery = self.delivery([(self.widget, 4)])
        self.run_jobs()
        self.wms.ship(delivery.name)
        self.poll()
        self.assertEqual(delivery.state, "done")
        wizard = (
            self.env["stock.return.picking"]
            .with_context(
                active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking"
            )
            .create({})
        )
        wizard.product_return_moves.quantity = 4
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.run_jobs()
        [rma] = self.messages(returned)
        self.assertEqual((rma.flow, rma.state), ("return", "done"), rma.error_message)
        receiver = self.wms.receiver(returned.name)
        self.assertEqual(receiver["poNum"], delivery.name)
        on_hand = self.on_hand(self.widget)
        self.wms.complete_return(
            returned.name,
            {"WIDGET-1": [("restock", 2), ("damaged", 1), ("quarantine", 1)]},
        )
        [message] = self.poll()
        self.assertEqual((message.flow, message.state), ("return", "done"), message.error_message)
        self.assertEqual(returned.state, "done")
        self.assertEqual(self.on_hand(self.widget), on_hand + 2)
        scrap = self.env["stock.scrap"].search([("picking_id", "=", returned.id)])
        self.assertEqual(scrap.scrap_qty, 1)
        held = returned.backorder_ids
        self.assertEqual(held.move_ids.product_uom_qty, 1, "the quarantined unit stays expected")
        self.assertIn("quarantine", self.exceptions(held, "other").description)

    def test_a_return_cancelled_in_the_warehouse_asks_a_person(self):
        delivery = self.delivery([(self.widget, 1)])
        self.run_jobs()
        self.wms.ship(delivery.name)
        self.poll()
        wizard = (
            self.env["stock.return.picking"]
            .with_context(
                active_id=delivery.id, active_ids=delivery.ids, active_model="stock.picking"
            )
            .create({})
        )
        wizard.product_return_moves.quantity = 1
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.run_jobs()
        self.wms.cancel_receiver(returned.name)
        [message] = self.poll()
        self.assertEqual(message.state, "done", message.error_message)
        self.assertNotEqual(returned.state, "done")
        self.assertIn("nothing is coming back", self.exceptions(returned, "other").description)

    def stock_both_sides(self):
        self.put_in_stock(self.widget, 10)
        self.put_in_stock(self.gadget, 5)
        self.put_in_stock(self.paint, 4, "L1")
        self.wms.set_stock("WIDGET-1", 10)
        self.wms.set_stock("GADGET-1", 8)
        self.wms.set_stock("PAINT-EXT", 3, lot="L1")
        self.wms.set_stock("WIDGET-1", 6, qualifier="DMG")  # received damaged: not stock
        self.wms.set_stock("WIDGET-1", 99, facility=4)  # another facility

    def test_inventory_report_only_by_lot_without_damaged_units(self):
        self.stock_both_sides()
        self.backend.action_logistics_pull_inventory()
        self.run_jobs()
        [snapshot] = self.inbound().filtered(lambda m: m.flow == "inventory_snapshot")
        self.assertEqual(snapshot.state, "done", snapshot.error_message)
        pages = [r for r in self.wms.requests if r["path"] == "/inventory/stockdetails"]
        self.assertEqual(
            sorted({r["query"]["pgnum"] for r in pages}), ["1", "2"], "4 rows, pages of 2"
        )
        self.assertEqual(pages[0]["query"]["customerid"], "7")
        report = self.env["logistics.inventory.report"].browse(snapshot.res_id)
        lines = {(ln.product_id.default_code, ln.lot_name or ""): ln for ln in report.line_ids}
        self.assertEqual(lines["WIDGET-1", ""].status, "match")
        self.assertEqual(lines["GADGET-1", ""].difference, 3)
        self.assertEqual(lines["PAINT-EXT", "L1"].difference, -1)
        self.assertEqual(self.on_hand(self.gadget), 5, "report only: nothing adjusted")

    def test_sync_inventory_with_the_partner_busy_says_so_in_plain_words(self):
        self.wms.inject(kind="rate_limit")
        with self.assertRaisesRegex(UserError, "could not be read") as caught:
            self.backend.action_logistics_pull_inventory()
        self.assertNotIn("Traceback", str(caught.exception))
        self.assertFalse(self.inbound().filtered(lambda m: m.flow == "inventory_snapshot"))

    def test_inventory_adjusted_within_tolerance_and_an_exception_beyond(self):
        self.stock_both_sides()
        self.backend.write(
            {"inventory_policy": "adjust_within_tolerance", "inventory_tolerance": 1}
        )
        self.backend.action_logistics_pull_inventory()
        self.run_jobs()
        [snapshot] = self.inbound().filtered(lambda m: m.flow == "inventory_snapshot")
        report = self.env["logistics.inventory.report"].browse(snapshot.res_id)
        statuses = {ln.product_id.default_code: ln.status for ln in report.line_ids}
        self.assertEqual(statuses["PAINT-EXT"], "adjusted")
        self.assertEqual(statuses["GADGET-1"], "exception")
        self.assertEqual(self.on_hand(self.paint), 3)
        self.assertEqual(self.on_hand(self.gadget), 5)
        [mismatch] = self.exceptions(exception_type="inventory_mismatch")
        self.assertIn("GADGET-1: 5 / 8", mismatch.description)


class TestExtensivFaultsAndWarehouseDecisions(ExtensivCase):
    """What the warehouse decides (short shipments, cancelled notices) and what the partner
    does to the pipeline (429, down)."""

    def test_a_closed_order_short_of_units_with_lots_is_applied_and_told(self):
        paint = self.product("Paint", "PAINT-EXT2", tracking="lot")
        self.put_in_stock(paint, 5, "L-A")
        picking = self.delivery([(self.widget, 5), (paint, 5)])
        self.run_jobs()
        self.wms.ship(picking.name, {"WIDGET-1": 2, "PAINT-EXT2": 5}, lots={"PAINT-EXT2": "L-A"})
        [shipment] = self.poll()
        self.assertEqual(shipment.state, "done", shipment.error_message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(
            sorted(picking.move_ids.mapped(lambda m: (m.product_id.default_code, m.quantity))),
            [("PAINT-EXT2", 5), ("WIDGET-1", 2)],
        )
        self.assertEqual(picking.move_line_ids.filtered("lot_id").lot_id.name, "L-A")
        [short] = self.exceptions(picking, "partial_shipment")
        self.assertIn("shipped less than ordered", short.name)
        rest = picking.backorder_ids
        self.assertEqual(rest.move_ids.product_uom_qty, 3, "the rest, per the partner's setting")

    def test_429_waits_the_partners_delay_then_goes_through(self):
        picking = self.delivery([(self.widget, 1)], ready=False)
        self.wms.inject(kind="rate_limit")
        self.put_in_stock(self.widget, 1)
        picking.action_confirm()
        picking.action_assign()
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "retry")
        self.assertGreaterEqual(
            (release.next_attempt_at - release.write_date).total_seconds(), 2, "Retry-After"
        )
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(len(self.wms.orders), 1)

    def test_partner_down_opens_the_breaker_and_the_queue_drains_when_it_is_back(self):
        self.backend.write({"breaker_threshold": 2, "breaker_cooldown": 60})
        self.wms.stop()
        self.addCleanup(lambda: self.wms._server or self.wms.start())
        pickings = [self.delivery([(self.widget, 1)]) for _ in range(3)]
        self.run_jobs()
        self.assertEqual(self.backend.breaker_state, "open")
        releases = self.env["logistics.message"].search(
            [("res_id", "in", [p.id for p in pickings]), ("res_model", "=", "stock.picking")]
        )
        attempts = sum(releases.mapped("attempts"))
        self.run_jobs(ignore_eta=True, limit=3)
        self.assertEqual(sum(releases.mapped("attempts")), attempts, "postponed, not burnt")
        self.wms.start()
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
            sorted(o["referenceNum"] for o in self.wms.orders.values()),
            sorted(p.name for p in pickings),
            "each order exactly once",
        )

    def test_a_receipt_notice_cancelled_in_the_warehouse_asks_a_person(self):
        suppliers = self.env.ref("stock.stock_location_suppliers")
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": self.customer.id,
                "location_id": suppliers.id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "Widget",
                            "product_id": self.widget.id,
                            "product_uom_qty": 3,
                            "product_uom": self.widget.uom_id.id,
                            "location_id": suppliers.id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        self.env.flush_all()
        self.run_jobs()
        self.wms.cancel_receiver(receipt.name)
        [ack] = self.poll()
        self.assertEqual((ack.flow, ack.state), ("ack", "done"), ack.error_message)
        self.assertEqual(receipt.logistics_status, "cancelled")
        self.assertIn("will not receive against it", self.exceptions(receipt).description)

    def test_a_malformed_answer_is_retried_and_the_order_made_once(self):
        picking = self.delivery([(self.widget, 1)], ready=False)
        self.wms.inject(kind="malformed")
        self.put_in_stock(self.widget, 1)
        picking.action_confirm()
        picking.action_assign()
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "retry")
        self.assertIn("not valid JSON", release.error_message)
        self.run_jobs(ignore_eta=True)
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual([o["referenceNum"] for o in self.wms.orders.values()], [picking.name])
