"""The flat-file adapter against a real OpenSSH SFTP server on loopback and a legacy 3PL
working its folders: CSV orders out (atomic upload), confirmations and inventory in, each file
applied once, layouts configurable and tried on a sample; receipt notices, return
authorizations and their answers (damage, dispositions), inventory with each policy; the
server down (breaker) and back."""

import tempfile
import threading
from pathlib import Path

from odoo import Command
from tests.sandboxes.loopback import free_port

from .common import ThreePLCase


class FlatFileCase(ThreePLCase):
    """One OpenSSH SFTP server and its flat-file partner per class, operating the main
    warehouse; each test works new folders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server_root = Path(tempfile.mkdtemp(prefix="lc-3pl-flat-"))
        cls.backend, cls.server = cls.make_flatfile(
            "Legacy 3PL", "sbx_flat", "LEG-1", cls.server_root
        )
        cls.warehouse.logistics_backend_id = cls.backend

    def setUp(self):
        super().setUp()
        self.partner = self.fresh_flatfile_partner(self.backend, self.server_root)

    def poll(self):
        counts = self.backend._sftp_poll()
        self.run_jobs()
        return counts


class TestFlatFile(FlatFileCase):
    def test_order_file_out_and_shipment_file_in_applied_once(self):
        layouts = self.backend.file_layout_ids
        self.assertEqual(len(layouts), 7, "a flat-file partner starts with the common layouts")
        picking = self.delivery([(self.widget, 3), (self.gadget, 1)])
        self.run_jobs()
        [release] = self.messages(picking)
        self.assertEqual(release.state, "done", release.error_message)
        self.assertEqual(picking.logistics_status, "acknowledged")
        self.assertEqual(self.partner.take_orders(), [release.external_id])
        self.assertTrue(release.external_id.startswith("ord_WH-OUT-"))
        lines = self.partner.orders[picking.name]["lines"]
        self.assertEqual(
            [(line["sku"], line["quantity"]) for line in lines],
            [("WIDGET-1", "3"), ("GADGET-1", "1")],
        )
        self.assertEqual(lines[0]["ship_to_zip"], "12345")
        self.assertEqual(lines[0]["warehouse_code"], "LEG-1")

        self.partner.ship(picking.name, {"WIDGET-1": "2"}, tracking_number="1ZFLAT1")
        self.assertEqual(self.poll()["received"], 1)
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(picking.carrier_tracking_ref, "1ZFLAT1")
        backorder = picking.backorder_ids
        self.assertEqual(backorder.logistics_status, "partially_shipped")
        [shipment] = self.inbound()
        self.assertEqual((shipment.flow, shipment.state), ("shipment", "done"))
        # The same file again (a crash between storing and archiving it): not applied twice.
        archived = next((self.partner.root / "archive").iterdir())
        archived.rename(self.partner.outbound / archived.name)
        counts = self.poll()
        self.assertEqual((counts["received"], counts["already_received"]), (0, 1))
        self.assertEqual(len(self.inbound()), 1)
        self.partner.ship(picking.name, {"WIDGET-1": "1", "GADGET-1": "1"})
        self.poll()
        self.assertEqual(backorder.state, "done", self.inbound().mapped("error_message"))

    def test_inventory_file_is_reconciled(self):
        self.put_in_stock(self.widget, 4)
        self.partner.inventory("LEG-1", {"WIDGET-1": 6})
        self.poll()
        [message] = self.inbound()
        self.assertEqual(
            (message.flow, message.state), ("inventory_snapshot", "done"), message.error_message
        )
        report = self.env["logistics.inventory.report"].browse(message.res_id)
        line = report.line_ids.filtered(lambda line: line.product_id == self.widget)
        self.assertEqual((line.odoo_quantity, line.partner_quantity), (4, 6))
        self.assertEqual(self.backend.inventory_policy, "report_only")
        self.assertEqual(
            self.widget.with_context(location=self.stock.id).qty_available,
            4,
            "report only: nothing adjusted",
        )
        self.assertFalse(self.exceptions(exception_type="inventory_mismatch"))

    def test_a_layout_of_the_partner_tried_on_a_sample(self):
        layout = self.backend.file_layout_ids.filtered(lambda layout: layout.document == "shipment")
        layout.write(
            {
                "delimiter": ";",
                "file_pattern": "CONF*.TXT",
                "column_ids": [Command.clear()]
                + [
                    Command.create({"sequence": n, "header": header, "field": field})
                    for n, (header, field) in enumerate(
                        [
                            ("Order", "order_reference"),
                            ("Shipment", "reference"),
                            ("Item", "sku"),
                            ("Qty", "quantity_shipped"),
                            ("Tracking", "tracking_number"),
                        ]
                    )
                ],
                "sample": "Order;Shipment;Item;Qty;Tracking\r\nWH/OUT/9;S1;WIDGET-1;2;1Z9\r\n",
            }
        )
        self.assertIn('"quantity_shipped": 2', layout.preview)
        self.assertIn('"tracking_numbers": [\n      "1Z9"', layout.preview)
        layout.sample = "Order;Item\r\nWH/OUT/9;WIDGET-1\r\n"
        self.assertIn("header lacks the column(s) Shipment, Qty, Tracking", layout.preview)
        self.assertEqual(
            self.backend._get_adapter()._file_flow(self.backend, "CONF1.TXT", b"", "file"),
            "shipment",
        )

    def test_a_file_still_being_written_waits_for_the_next_poll(self):
        picking = self.delivery([(self.widget, 2)])
        self.run_jobs()
        self.partner.take_orders()
        self.backend.sftp_settle_seconds = 0.5
        writer = threading.Thread(
            target=self.partner.ship, args=(picking.name,), kwargs={"slowly": 0.4}
        )
        writer.start()
        self.addCleanup(writer.join)
        while not list(self.partner.outbound.glob("shp_*.csv")):
            threading.Event().wait(0.05)
        counts = self.backend._sftp_poll()
        self.assertEqual((counts["received"], counts["waiting"]), (0, 1), "half a file is not read")
        writer.join()
        self.assertEqual(self.poll()["received"], 1)
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))

    def test_receipt_notice_out_and_receipt_with_damage_in(self):
        supplier = self.env["res.partner"].create({"name": "Vendor"})
        suppliers = self.env.ref("stock.stock_location_suppliers")
        receipt = self.env["stock.picking"].create(
            {
                "picking_type_id": self.warehouse.in_type_id.id,
                "partner_id": supplier.id,
                "location_id": suppliers.id,
                "location_dest_id": self.stock.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": "Widget",
                            "product_id": self.widget.id,
                            "product_uom_qty": 6,
                            "product_uom": self.widget.uom_id.id,
                            "location_id": suppliers.id,
                            "location_dest_id": self.stock.id,
                        }
                    )
                ],
            }
        )
        receipt.action_confirm()
        # The automated action runs when the new state is computed: at the latest when the
        # transaction commits (here: flushes).
        self.env.flush_all()
        self.run_jobs()
        [notice] = self.messages(receipt)
        self.assertEqual((notice.flow, notice.state), ("receipt", "done"), notice.error_message)
        self.assertEqual(self.partner.take_orders("asn_"), [notice.external_id])
        self.partner.receive(receipt.name, {"WIDGET-1": (5, 1, "")})
        self.poll()
        self.assertEqual(receipt.state, "done", self.inbound().mapped("error_message"))
        self.assertEqual(receipt.move_ids.quantity, 5)
        self.assertTrue(self.exceptions(receipt, "damaged_goods"))

    def test_return_authorization_out_and_return_with_dispositions_in(self):
        picking = self.delivery([(self.widget, 3)])
        self.run_jobs()
        self.partner.take_orders()
        self.partner.ship(picking.name)
        self.poll()
        self.assertEqual(picking.state, "done", self.inbound().mapped("error_message"))
        wizard = (
            self.env["stock.return.picking"]
            .with_context(
                active_id=picking.id, active_ids=picking.ids, active_model="stock.picking"
            )
            .create({})
        )
        wizard.product_return_moves.quantity = 3
        returned = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        self.run_jobs()
        [authorization] = self.messages(returned)
        self.assertEqual(
            (authorization.flow, authorization.state),
            ("return", "done"),
            authorization.error_message,
        )
        self.assertEqual(self.partner.take_orders("ra_"), [authorization.external_id])
        self.assertEqual(
            self.partner.orders[returned.name]["lines"][0]["original_order_reference"], picking.name
        )
        on_hand = self.widget.with_context(location=self.stock.id).qty_available
        self.partner.complete_return(returned.name, {"WIDGET-1": [("restock", 2), ("damaged", 1)]})
        self.poll()
        applied = self.inbound().filtered(lambda m: m.flow == "return")
        self.assertEqual(applied.state, "done", applied.error_message)
        self.assertEqual(returned.state, "done")
        self.assertEqual(returned.logistics_status, "received")
        self.assertEqual(
            self.widget.with_context(location=self.stock.id).qty_available, on_hand + 2
        )
        scrap = self.env["stock.scrap"].search([("picking_id", "=", returned.id)])
        self.assertEqual(scrap.scrap_qty, 1)

    def test_inventory_file_adjusted_within_tolerance_and_an_exception_beyond(self):
        self.backend.write(
            {"inventory_policy": "adjust_within_tolerance", "inventory_tolerance": 1}
        )
        self.put_in_stock(self.widget, 4)
        self.put_in_stock(self.gadget, 2)
        self.partner.inventory("LEG-1", {"WIDGET-1": 5, "GADGET-1": 9})
        self.poll()
        [message] = self.inbound()
        self.assertEqual(message.state, "done", message.error_message)
        report = self.env["logistics.inventory.report"].browse(message.res_id)
        statuses = {line.product_id: line.status for line in report.line_ids}
        self.assertEqual((statuses[self.widget], statuses[self.gadget]), ("adjusted", "exception"))
        self.assertEqual(self.widget.with_context(location=self.stock.id).qty_available, 5)
        self.assertEqual(self.gadget.with_context(location=self.stock.id).qty_available, 2)
        self.assertIn(
            "GADGET-1: 2 / 9", self.exceptions(exception_type="inventory_mismatch").description
        )

    def test_server_down_opens_the_breaker_and_the_files_go_out_once_when_it_is_back(self):
        self.backend.write({"breaker_threshold": 2, "breaker_cooldown": 60})
        endpoint = self.backend.endpoint_ids
        endpoint.sftp_port = free_port()  # nobody listens there: the server is down
        pickings = [self.delivery([(self.widget, 1)]) for _ in range(3)]
        self.run_jobs()
        self.assertEqual(self.backend.breaker_state, "open")
        releases = self.env["logistics.message"].search(
            [("res_id", "in", [p.id for p in pickings]), ("res_model", "=", "stock.picking")]
        )
        self.assertTrue(self.exceptions(exception_type="partner_down"))
        attempts = sum(releases.mapped("attempts"))
        self.run_jobs(ignore_eta=True, limit=3)
        self.assertEqual(sum(releases.mapped("attempts")), attempts, "postponed, not burnt")
        endpoint.sftp_port = self.server.port
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
        self.assertEqual(len(self.partner.take_orders()), 3, "one file per order")
        self.assertEqual(sorted(self.partner.orders), sorted(p.name for p in pickings))
