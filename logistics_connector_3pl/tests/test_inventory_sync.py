"""Inventory pulled from the ShipBob-like sandbox (all pages) and reconciled with Odoo's stock
by the base's applier, with each partner policy; incremental damage and cycle counts by
webhook."""

from .common import ThreePLCase


class TestInventorySync(ThreePLCase):
    def setUp(self):
        super().setUp()
        self.paint = self.product("Paint", "PAINT-INV", tracking="lot")
        self.put_in_stock(self.widget, 10)
        self.put_in_stock(self.gadget, 5)
        self.put_in_stock(self.paint, 4, "L1")
        self.sandbox.set_stock("WIDGET-1", 10)
        self.sandbox.set_stock("GADGET-1", 7)
        self.sandbox.set_stock("PAINT-INV", 3, lot="L1")
        for number in range(260):  # more than one page of 250
            self.sandbox.set_stock(f"OTHER-{number}", 0, fulfillment_center=11)

    def pull(self):
        messages = self.backend._get_adapter()._pull_inventory(self.backend)
        self.run_jobs()
        self.assertEqual(messages.mapped("state"), ["done"], messages.mapped("error_message"))
        return self.env["logistics.inventory.report"].browse(messages.res_id)

    def on_hand(self, product):
        return product.with_context(location=self.stock.id).qty_available

    def test_report_only_lists_differences_by_lot_and_pages_are_all_read(self):
        report = self.pull()
        pages = [r for r in self.sandbox.requests if r["path"] == "/inventory"]
        self.assertEqual(len(pages), 2, "followed the next-page header")
        lines = {
            (line.product_id.default_code, line.lot_name or ""): line for line in report.line_ids
        }
        self.assertEqual(lines["WIDGET-1", ""].status, "match")
        self.assertEqual(lines["GADGET-1", ""].difference, 2)
        self.assertEqual(lines["PAINT-INV", "L1"].difference, -1)
        self.assertEqual(self.on_hand(self.gadget), 5, "report only: nothing adjusted")

    def test_adjust_within_tolerance_and_exception_beyond(self):
        self.backend.write(
            {"inventory_policy": "adjust_within_tolerance", "inventory_tolerance": 1}
        )
        report = self.pull()
        statuses = {line.product_id.default_code: line.status for line in report.line_ids}
        self.assertEqual(statuses["PAINT-INV"], "adjusted")
        self.assertEqual(statuses["GADGET-1"], "exception")
        self.assertEqual(self.on_hand(self.paint), 3)
        self.assertEqual(self.on_hand(self.gadget), 5)
        [mismatch] = self.exceptions(exception_type="inventory_mismatch")
        self.assertIn("GADGET-1: 5 / 7", mismatch.description)

    def test_a_damage_event_reconciles_that_sku_only(self):
        self.backend.inventory_policy = "adjust_within_tolerance"
        self.backend.inventory_tolerance = 5
        self.deliveries_ok(self.sandbox.adjust_inventory("WIDGET-1", delta=-2, reason="Damaged"))
        self.run_jobs()
        [message] = self.inbound()
        self.assertEqual(message.state, "done", message.error_message)
        report = self.env["logistics.inventory.report"].browse(message.res_id)
        self.assertEqual(report.line_ids.product_id, self.widget)
        self.assertEqual(self.on_hand(self.widget), 8)
        self.assertEqual(self.on_hand(self.gadget), 5, "a SKU not in the event is not touched")
