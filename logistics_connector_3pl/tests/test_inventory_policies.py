"""The inventory policy test_inventory_sync.py leaves out, for the ShipBob-like partner: an
exception for every difference, nothing adjusted."""

from .common import ThreePLCase


class TestShipbobInventoryExceptionPolicy(ThreePLCase):
    def test_every_difference_is_an_exception_and_nothing_is_adjusted(self):
        self.backend.inventory_policy = "exception"
        self.put_in_stock(self.widget, 10)
        self.put_in_stock(self.gadget, 5)
        self.sandbox.set_stock("WIDGET-1", 10)
        self.sandbox.set_stock("GADGET-1", 4)
        messages = self.backend._get_adapter()._pull_inventory(self.backend)
        self.run_jobs()
        self.assertEqual(messages.mapped("state"), ["done"], messages.mapped("error_message"))
        report = self.env["logistics.inventory.report"].browse(messages.res_id)
        statuses = {line.product_id.default_code: line.status for line in report.line_ids}
        self.assertEqual((statuses["WIDGET-1"], statuses["GADGET-1"]), ("match", "exception"))
        self.assertEqual(self.gadget.with_context(location=self.stock.id).qty_available, 5)
        [mismatch] = self.exceptions(exception_type="inventory_mismatch")
        self.assertIn("GADGET-1: 5 / 4", mismatch.description)
