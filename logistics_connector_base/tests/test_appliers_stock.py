"""Shipments, receipts, inventory snapshots and returns from a warehouse partner, delivered as
inbound messages and applied by their real jobs."""

import json
import uuid

from odoo import Command, fields
from odoo.tests import tagged

from .common import LogisticsCase

SHIPPED_AT = "2026-11-20T10:00:00Z"


@tagged("post_install", "-at_install")
class StockAppliersCase(LogisticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stock = cls.warehouse.lot_stock_id
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.gadget = cls.env["product.product"].create(
            {"name": "Gadget", "default_code": "GADGET-1", "is_storable": True}
        )
        cls.lotted = cls.env["product.product"].create(
            {
                "name": "Lotted Paint",
                "default_code": "PAINT-LOT",
                "is_storable": True,
                "tracking": "lot",
            }
        )

    # ---- fixtures ------------------------------------------------------------------------
    def put_in_stock(self, product, quantity, lot_name=None):
        lot = self.lot(product, lot_name) if lot_name else None
        self.env["stock.quant"]._update_available_quantity(
            product, self.stock, quantity, lot_id=lot
        )

    def lot(self, product, name):
        lots = self.env["stock.lot"]
        return lots.search([("product_id", "=", product.id), ("name", "=", name)]) or lots.create(
            {"name": name, "product_id": product.id, "company_id": self.env.company.id}
        )

    def transfer(self, lines, incoming=False):
        picking_type = self.warehouse.in_type_id if incoming else self.warehouse.out_type_id
        source, destination = (
            (self.suppliers, self.stock) if incoming else (self.stock, self.customers)
        )
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "location_id": source.id,
                "location_dest_id": destination.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": destination.id,
                        }
                    )
                    for product, quantity in lines
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        return picking

    def released_delivery(self, lines):
        for product, quantity in lines:
            if product.tracking == "none":
                self.put_in_stock(product, quantity + 5)
        picking = self.transfer(lines)
        release = self.release(picking)
        self.run_jobs()
        self.assertEqual(release.state, "done", release.error_message)
        return picking

    def deliver(self, flow, document, event_id=None):
        """The partner's document as the webhook intake stores it, then its job."""
        body = json.dumps({"type": f"{flow}.updated", "data": document}).encode()
        message, created = self.env["logistics.message"]._create_inbound(
            self.backend, flow, body, event_id=event_id or uuid.uuid4().hex
        )
        self.assertTrue(created)
        self.run_jobs()
        return message

    def shipment(self, picking, lines, reference="SHP-1", status="complete", **extra):
        return {
            "schema": "shipment/1",
            "reference": reference,
            "order_reference": picking.name,
            "status": status,
            "shipped_at": SHIPPED_AT,
            "lines": lines,
            **extra,
        }

    def shipped(self, move, quantity, **extra):
        return {
            "line_ref": str(move.id),
            "sku": move.product_id.default_code,
            "quantity_shipped": quantity,
            **extra,
        }

    def exceptions(self, exception_type=None):
        domain = [("backend_id", "=", self.backend.id)]
        if exception_type:
            domain.append(("exception_type", "=", exception_type))
        return self.env["logistics.exception"].search(domain)

    def on_hand(self, product, lot_name=None):
        domain = [("product_id", "=", product.id), ("location_id", "child_of", self.stock.id)]
        if lot_name:
            domain.append(("lot_id.name", "=", lot_name))
        return sum(self.env["stock.quant"].search(domain).mapped("quantity"))

    def assertDone(self, message):
        self.assertEqual(message.state, "done", message.error_message)


class TestShipment(StockAppliersCase):
    def test_full_shipment_validates_the_delivery_with_its_tracking_and_date(self):
        picking = self.released_delivery([(self.product, 3)])
        message = self.deliver(
            "shipment",
            self.shipment(
                picking,
                [self.shipped(picking.move_ids, 3)],
                tracking_numbers=["1ZFULL1", "1ZFULL2"],
            ),
        )
        self.assertDone(message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.quantity, 3)
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.logistics_tracking_ref, "1ZFULL1")
        if "carrier_tracking_ref" in picking._fields:
            self.assertEqual(picking.carrier_tracking_ref, "1ZFULL1,1ZFULL2")
        self.assertEqual(str(picking.date_done), "2026-11-20 10:00:00")
        self.assertEqual(picking.logistics_confirmation_ref, "SHP-1")
        self.assertEqual((message.res_model, message.res_id), ("stock.picking", picking.id))
        self.assertEqual(message.correlation_id, picking.logistics_correlation_id)
        self.assertFalse(self.exceptions())

    def test_partial_shipment_keeps_the_rest_in_a_backorder_that_the_next_shipment_ships(self):
        picking = self.released_delivery([(self.product, 5), (self.gadget, 2)])
        widget_move, gadget_move = picking.move_ids.sorted("id")
        self.assertDone(
            self.deliver(
                "shipment",
                self.shipment(
                    picking,
                    [self.shipped(widget_move, 2), self.shipped(gadget_move, 0)],
                    status="partial",
                ),
            )
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(widget_move.quantity, 2)
        backorder = picking.backorder_ids
        self.assertEqual(len(backorder), 1)
        self.assertEqual(backorder.state, "assigned")
        self.assertEqual(
            sorted(
                backorder.move_ids.mapped(lambda m: (m.product_id.default_code, m.product_uom_qty))
            ),
            [("GADGET-1", 2), ("WIDGET-1", 3)],
        )
        self.assertFalse(self.exceptions(), "a partial shipment is no problem")
        # The rest ships later under the same order; its lines name the original moves.
        second = self.deliver(
            "shipment",
            self.shipment(
                picking,
                [self.shipped(widget_move, 3), self.shipped(gadget_move, 2)],
                reference="SHP-2",
                shipped_at="2026-11-22T08:00:00Z",
            ),
        )
        self.assertDone(second)
        self.assertEqual(backorder.state, "done")
        self.assertEqual(backorder.logistics_confirmation_ref, "SHP-2")
        self.assertEqual(second.res_id, backorder.id)
        self.assertFalse(backorder.backorder_ids)
        self.assertFalse(self.exceptions())

    def test_partial_shipment_cancels_the_rest_for_a_partner_without_backorders(self):
        self.backend.partial_shipment_policy = "cancel"
        picking = self.released_delivery([(self.product, 5)])
        self.assertDone(
            self.deliver(
                "shipment",
                self.shipment(picking, [self.shipped(picking.move_ids, 2)], status="partial"),
            )
        )
        self.assertEqual(picking.state, "done")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(picking.move_ids.filtered(lambda m: m.state == "done").quantity, 2)
        self.assertEqual(self.on_hand(self.product), 8, "10 in stock, 2 shipped")

    def test_short_complete_shipment_is_applied_and_asks_a_person(self):
        picking = self.released_delivery([(self.product, 5)])
        message = self.deliver(
            "shipment", self.shipment(picking, [self.shipped(picking.move_ids, 2)])
        )
        self.assertDone(message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.move_ids.filtered(lambda m: m.state == "done").quantity, 2)
        exception = self.exceptions("partial_shipment")
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.state, "new", "not closed by the message going through")
        self.assertEqual(exception._get_document(), picking)
        self.assertEqual(exception.correlation_id, picking.logistics_correlation_id)
        self.assertIn("WIDGET-1: 5 / 2", exception.description)
        self.assertIn(picking.backorder_ids.name, exception.description)
        self.assertIn(message.name, exception.description)

    def test_the_same_shipment_again_changes_nothing_and_other_quantities_are_refused(self):
        picking = self.released_delivery([(self.product, 5)])
        document = self.shipment(picking, [self.shipped(picking.move_ids, 2)], status="partial")
        self.assertDone(self.deliver("shipment", document))
        backorder = picking.backorder_ids
        stock_before = self.on_hand(self.product)
        again = self.deliver("shipment", document)
        self.assertDone(again)
        self.assertEqual(picking.backorder_ids, backorder)
        self.assertEqual(backorder.state, "assigned", "the backorder is not shipped by a repeat")
        self.assertEqual(self.on_hand(self.product), stock_before)
        changed = dict(document, lines=[self.shipped(picking.move_ids[:1], 4)])
        refused = self.deliver("shipment", changed)
        self.assertEqual(refused.state, "failed")
        self.assertIn("already applied", refused.error_message)
        self.assertIn("SHP-1", refused.error_message)
        self.assertEqual(self.on_hand(self.product), stock_before)

    def test_a_late_shipment_for_a_finished_order_changes_nothing(self):
        picking = self.released_delivery([(self.product, 3)])
        self.assertDone(
            self.deliver("shipment", self.shipment(picking, [self.shipped(picking.move_ids, 3)]))
        )
        late = self.deliver(
            "shipment",
            self.shipment(picking, [self.shipped(picking.move_ids, 3)], reference="SHP-RESENT"),
        )
        self.assertDone(late)
        self.assertEqual(picking.logistics_confirmation_ref, "SHP-1")
        more = self.deliver(
            "shipment",
            self.shipment(picking, [self.shipped(picking.move_ids, 1)], reference="SHP-EXTRA"),
        )
        self.assertEqual(more.state, "failed")
        self.assertIn("already done", more.error_message)

    def test_a_shipment_for_another_partners_order_is_refused(self):
        other = self.env["logistics.backend"].create(
            {"name": "Other 3PL", "code": "other_3pl_appliers", "kind": "3pl"}
        )
        self.env["logistics.mapping"].create(
            {
                "backend_id": other.id,
                "mapping_type": "warehouse",
                "odoo_value": self.warehouse.code,
                "partner_value": "OTHER-WH",
            }
        )
        self.put_in_stock(self.product, 5)
        picking = self.transfer([(self.product, 3)])
        self.env["logistics.message"]._create_outbound(other, "order_release", picking)
        message = self.deliver(
            "shipment", self.shipment(picking, [self.shipped(picking.move_ids, 3)])
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("no delivery order with that reference was released", message.error_message)
        self.assertIn(self.backend.name, message.error_message)
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.logistics_confirmation_ref)

    def test_lots_are_shipped_as_the_partner_reports_them(self):
        self.put_in_stock(self.lotted, 5, "L1")
        self.put_in_stock(self.lotted, 5, "L2")
        picking = self.released_delivery([(self.lotted, 4)])
        move = picking.move_ids
        without_lot = self.deliver("shipment", self.shipment(picking, [self.shipped(move, 4)]))
        self.assertEqual(without_lot.state, "failed")
        self.assertIn("tracked by lot", without_lot.error_message)
        self.assertEqual(picking.state, "assigned", "nothing half applied")
        message = self.deliver(
            "shipment",
            self.shipment(
                picking,
                [self.shipped(move, 3, lot="L1"), self.shipped(move, 1, lot="L2")],
                reference="SHP-LOTS",
            ),
        )
        self.assertDone(message)
        self.assertEqual(
            sorted(move.move_line_ids.mapped(lambda ml: (ml.lot_id.name, ml.quantity))),
            [("L1", 3), ("L2", 1)],
        )
        self.assertEqual(self.on_hand(self.lotted, "L1"), 2)
        self.assertEqual(self.on_hand(self.lotted, "L2"), 4)


class TestReceipt(StockAppliersCase):
    def announced_receipt(self, lines):
        picking = self.transfer(lines, incoming=True)
        asn = {
            "schema": "receipt/1",
            "reference": picking.name,
            "stage": "expected",
            "lines": [
                {
                    "line_ref": str(move.id),
                    "sku": move.product_id.default_code,
                    "quantity_expected": move.product_uom_qty,
                }
                for move in picking.move_ids
            ],
        }
        sent = self.env["logistics.message"]._create_outbound(
            self.backend, "receipt", picking, document=asn
        )
        self.run_jobs()
        self.assertDone(sent)
        return picking

    def received(self, picking, lines, reference="WR-1"):
        return {
            "schema": "receipt/1",
            "reference": picking.name,
            "stage": "received",
            "receipt_reference": reference,
            "received_at": "2026-11-21T09:30:00+01:00",
            "lines": lines,
        }

    def test_receipt_with_lots_is_validated(self):
        picking = self.announced_receipt([(self.lotted, 10), (self.product, 4)])
        message = self.deliver(
            "receipt",
            self.received(
                picking,
                [
                    {"sku": "PAINT-LOT", "lot": "RCV-A", "quantity_received": 6},
                    {"sku": "PAINT-LOT", "lot": "RCV-B", "quantity_received": 4},
                    {"sku": "WIDGET-1", "quantity_received": 4},
                ],
            ),
        )
        self.assertDone(message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(str(picking.date_done), "2026-11-21 08:30:00")
        self.assertEqual(self.on_hand(self.lotted, "RCV-A"), 6)
        self.assertEqual(self.on_hand(self.lotted, "RCV-B"), 4)
        self.assertEqual(self.on_hand(self.product), 4)
        self.assertFalse(self.exceptions())
        self.assertDone(
            self.deliver(
                "receipt",
                self.received(
                    picking,
                    [
                        {"sku": "PAINT-LOT", "lot": "RCV-A", "quantity_received": 6},
                        {"sku": "PAINT-LOT", "lot": "RCV-B", "quantity_received": 4},
                        {"sku": "WIDGET-1", "quantity_received": 4},
                    ],
                ),
            )
        )
        self.assertEqual(self.on_hand(self.product), 4, "the same receipt again changes nothing")

    def test_over_receipt_is_received_and_asks_a_person(self):
        picking = self.announced_receipt([(self.product, 5)])
        message = self.deliver(
            "receipt", self.received(picking, [{"sku": "WIDGET-1", "quantity_received": 7}])
        )
        self.assertDone(message)
        self.assertEqual(picking.state, "done")
        self.assertEqual(self.on_hand(self.product), 7)
        exception = self.exceptions("other")
        self.assertEqual(len(exception), 1)
        self.assertIn("more received than expected", exception.name)
        self.assertIn("WIDGET-1: 5 / 7", exception.description)

    def test_damaged_and_missing_units_stay_expected_and_ask_a_person(self):
        picking = self.announced_receipt([(self.product, 10)])
        message = self.deliver(
            "receipt",
            self.received(
                picking, [{"sku": "WIDGET-1", "quantity_received": 6, "quantity_damaged": 2}]
            ),
        )
        self.assertDone(message)
        self.assertEqual(self.on_hand(self.product), 6, "damaged units are not stock")
        self.assertEqual(picking.backorder_ids.move_ids.product_uom_qty, 4)
        damaged = self.exceptions("damaged_goods")
        self.assertEqual(len(damaged), 1)
        self.assertIn("WIDGET-1: 2", damaged.description)
        missing = self.exceptions("partial_shipment")
        self.assertEqual(len(missing), 1)
        self.assertIn(picking.backorder_ids.name, missing.description)

    def test_an_advance_notice_coming_in_is_refused(self):
        picking = self.announced_receipt([(self.product, 5)])
        message = self.deliver(
            "receipt",
            {
                "schema": "receipt/1",
                "reference": picking.name,
                "stage": "expected",
                "lines": [{"sku": "WIDGET-1", "quantity_expected": 5}],
            },
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("advance notice", message.error_message)
        self.assertNotEqual(picking.state, "done")

    def test_a_receipt_never_sent_to_the_partner_is_not_touched(self):
        picking = self.transfer([(self.product, 5)], incoming=True)
        message = self.deliver(
            "receipt", self.received(picking, [{"sku": "WIDGET-1", "quantity_received": 5}])
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("no receipt with that reference was sent", message.error_message)
        self.assertNotEqual(picking.state, "done")


class TestInventorySnapshot(StockAppliersCase):
    def snapshot(self, items, reference="SNAP-1", taken_at=None, complete=False):
        taken_at = taken_at or fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "schema": "inventory_snapshot/1",
            "reference": reference,
            "warehouse_code": "SBX-WH1",
            "taken_at": taken_at,
            "complete": complete,
            "items": items,
        }

    def report_of(self, message):
        self.assertDone(message)
        self.assertEqual(message.res_model, "logistics.inventory.report")
        return self.env["logistics.inventory.report"].browse(message.res_id)

    def test_report_only_lists_differences_and_changes_nothing(self):
        self.put_in_stock(self.product, 10)
        self.put_in_stock(self.gadget, 4)
        self.product.standard_price = 2.5
        report = self.report_of(
            self.deliver(
                "inventory_snapshot",
                self.snapshot(
                    [{"sku": "WIDGET-1", "on_hand": 8}, {"sku": "GADGET-1", "on_hand": 4}]
                ),
            )
        )
        self.assertEqual(report.warehouse_id, self.warehouse)
        self.assertEqual(report.policy, "report_only")
        line = report.line_ids.filtered(lambda line: line.product_id == self.product)
        self.assertEqual(
            (line.odoo_quantity, line.partner_quantity, line.difference, line.status),
            (10, 8, -2, "difference"),
        )
        self.assertEqual(line.value, -5.0)
        gadget = report.line_ids.filtered(lambda line: line.product_id == self.gadget)
        self.assertEqual(gadget.status, "match")
        self.assertEqual((report.difference_count, report.adjusted_count), (1, 0))
        self.assertEqual(self.on_hand(self.product), 10)
        self.assertFalse(self.exceptions())

    def test_differences_within_tolerance_are_adjusted_and_larger_ones_ask_a_person(self):
        self.backend.write(
            {
                "inventory_policy": "adjust_within_tolerance",
                "inventory_tolerance": 2,
                "inventory_tolerance_type": "units",
            }
        )
        self.put_in_stock(self.product, 10)
        self.put_in_stock(self.gadget, 5)
        self.put_in_stock(self.lotted, 3, "L1")
        document = self.snapshot(
            [
                {"sku": "WIDGET-1", "on_hand": 9},
                {"sku": "GADGET-1", "on_hand": 1},
                {"sku": "PAINT-LOT", "lot": "L1", "on_hand": 4},
            ]
        )
        report = self.report_of(self.deliver("inventory_snapshot", document))
        status = {
            (line.product_id.default_code, line.lot_name or ""): line.status
            for line in report.line_ids
        }
        self.assertEqual(
            status,
            {
                ("WIDGET-1", ""): "adjusted",
                ("GADGET-1", ""): "exception",
                ("PAINT-LOT", "L1"): "adjusted",
            },
        )
        self.assertEqual(self.on_hand(self.product), 9)
        self.assertEqual(self.on_hand(self.lotted, "L1"), 4)
        self.assertEqual(self.on_hand(self.gadget), 5, "beyond the tolerance: not adjusted")
        adjustment = self.env["stock.move"].search(
            [("product_id", "=", self.product.id), ("is_inventory", "=", True)]
        )
        self.assertIn("SNAP-1", adjustment.name)
        exception = self.exceptions("inventory_mismatch")
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception._get_document(), report)
        self.assertIn("GADGET-1: 5 / 1", exception.description)
        # The same snapshot again: no second report, no second adjustment.
        again = self.deliver("inventory_snapshot", document)
        self.assertEqual(self.report_of(again), report)
        self.assertEqual(self.on_hand(self.product), 9)

    def test_a_count_older_than_the_last_one_changes_nothing(self):
        self.backend.inventory_policy = "adjust_within_tolerance"
        self.backend.inventory_tolerance = 5
        self.put_in_stock(self.product, 10)
        newer = self.deliver(
            "inventory_snapshot",
            self.snapshot([{"sku": "WIDGET-1", "on_hand": 10}], taken_at="2030-01-02T00:00:00Z"),
        )
        self.assertEqual(self.report_of(newer).line_ids.status, "match")
        older = self.report_of(
            self.deliver(
                "inventory_snapshot",
                self.snapshot(
                    [{"sku": "WIDGET-1", "on_hand": 7}],
                    reference="SNAP-0",
                    taken_at="2030-01-01T00:00:00Z",
                ),
            )
        )
        self.assertTrue(older.stale)
        self.assertEqual(older.line_ids.status, "difference")
        self.assertEqual(self.on_hand(self.product), 10)

    def test_stock_moved_after_the_count_is_not_a_difference(self):
        self.backend.inventory_policy = "exception"
        picking = self.released_delivery([(self.product, 2)])  # 7 in stock
        counted_at = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertDone(
            self.deliver(
                "shipment",
                self.shipment(
                    picking,
                    [self.shipped(picking.move_ids, 2)],
                    shipped_at="2099-01-01T00:00:00Z",
                ),
            )
        )
        report = self.report_of(
            self.deliver(
                "inventory_snapshot",
                self.snapshot([{"sku": "WIDGET-1", "on_hand": 7}], taken_at=counted_at),
            )
        )
        self.assertEqual(report.line_ids.status, "match", "the 2 shipped after the count")
        self.assertFalse(self.exceptions("inventory_mismatch"))

    def test_a_complete_count_is_reported_line_by_line_with_its_totals(self):
        """The lines are written in bulk: what the ORM would store (lot, value, company,
        order by status) and totals counted from them."""
        self.backend.write(
            {
                "inventory_policy": "adjust_within_tolerance",
                "inventory_tolerance": 2,
                "inventory_tolerance_type": "units",
                "mapping_ids": [
                    (
                        0,
                        0,
                        {"mapping_type": "product", "odoo_value": "GADGET-1", "partner_value": "G"},
                    )
                ],
            }
        )
        self.put_in_stock(self.product, 10)
        self.put_in_stock(self.gadget, 5)
        self.put_in_stock(self.lotted, 3, "L1")
        self.lotted.standard_price = 4.0
        document = self.snapshot(
            [
                {"sku": "WIDGET-1", "on_hand": 10},
                {"sku": "PAINT-LOT", "lot": "L1", "on_hand": 3},
                {"sku": "PAINT-LOT", "lot": "L2", "on_hand": 1.5},
                {"sku": "G", "on_hand": 1},
            ],
            complete=True,
        )
        report = self.report_of(self.deliver("inventory_snapshot", document))
        lines = {(line.product_id, line.lot_name or ""): line for line in report.line_ids}
        self.assertEqual(lines[self.product, ""].status, "match")
        self.assertEqual(lines[self.gadget, ""].status, "exception", "the mapped SKU, 4 off")
        new_lot = lines[self.lotted, "L2"]
        self.assertEqual(
            (new_lot.status, new_lot.difference, new_lot.value), ("adjusted", 1.5, 6.0)
        )
        self.assertEqual(new_lot.lot_id, self.lot(self.lotted, "L2"), "the lot Odoo now has")
        self.assertEqual(self.on_hand(self.lotted, "L2"), 1.5)
        self.assertEqual(new_lot.company_id, self.backend.company_id)
        all_lines = report.line_ids
        self.assertEqual(report.line_count, len(all_lines))
        self.assertEqual(
            (report.difference_count, report.adjusted_count, report.exception_count),
            (
                len(all_lines.filtered(lambda line: line.status != "match")),
                len(all_lines.filtered(lambda line: line.status == "adjusted")),
                len(all_lines.filtered(lambda line: line.status == "exception")),
            ),
        )
        self.assertAlmostEqual(report.difference_value, sum(all_lines.mapped("value")))
        ranks = all_lines.mapped("status_rank")
        self.assertEqual(ranks, sorted(ranks, reverse=True), "who needs a person comes first")

    def test_a_partial_count_of_goods_odoo_does_not_stock_compares_nothing(self):
        self.put_in_stock(self.product, 10)
        self.env["product.product"].create(
            {"name": "Leaflet", "default_code": "LEAFLET-1", "is_storable": False}
        )
        report = self.report_of(
            self.deliver("inventory_snapshot", self.snapshot([{"sku": "LEAFLET-1", "on_hand": 5}]))
        )
        self.assertFalse(report.line_ids, "not the rest of the warehouse either")
        self.assertEqual(report.line_count, 0)

    def test_an_unknown_sku_fails_the_whole_count_and_names_it(self):
        self.put_in_stock(self.product, 10)
        document = self.snapshot(
            [{"sku": "WIDGET-1", "on_hand": 10}, {"sku": "NOT-IN-ODOO", "on_hand": 1}]
        )
        message = self.deliver("inventory_snapshot", document)
        self.assertEqual((message.state, message.error_class), ("failed", "mapping"))
        self.assertIn("NOT-IN-ODOO", message.error_message)
        self.assertFalse(
            self.env["logistics.inventory.report"].search([("message_id", "=", message.id)])
        )

    def test_an_unknown_warehouse_is_a_missing_mapping(self):
        document = dict(self.snapshot([{"sku": "WIDGET-1", "on_hand": 1}]), warehouse_code="NOPE")
        message = self.deliver("inventory_snapshot", document)
        self.assertEqual(message.state, "failed")
        self.assertEqual(message.error_class, "mapping")
        self.assertIn("NOPE", message.error_message)


class TestReturn(StockAppliersCase):
    def returned_delivery(self, quantity):
        """A delivery shipped by the partner and a return of it, made in Odoo."""
        picking = self.released_delivery([(self.product, quantity)])
        self.assertDone(
            self.deliver(
                "shipment", self.shipment(picking, [self.shipped(picking.move_ids, quantity)])
            )
        )
        wizard = (
            self.env["stock.return.picking"]
            .with_context(active_id=picking.id, active_model="stock.picking")
            .create({})
        )
        wizard.product_return_moves.quantity = quantity
        return_picking = self.env["stock.picking"].browse(wizard.action_create_returns()["res_id"])
        return picking, return_picking

    def rma(self, delivery, lines, status="completed", reference="RMA-1"):
        return {
            "schema": "return/1",
            "reference": reference,
            "original_order_reference": delivery.name,
            "status": status,
            "updated_at": "2026-11-25T12:00:00Z",
            "lines": lines,
        }

    def test_restocked_units_return_to_stock_and_disposed_ones_are_scrapped(self):
        delivery, return_picking = self.returned_delivery(3)
        stock_before = self.on_hand(self.product)
        document = self.rma(
            delivery,
            [
                {"sku": "WIDGET-1", "quantity": 2, "disposition": "restock"},
                {"sku": "WIDGET-1", "quantity": 1, "disposition": "dispose"},
            ],
        )
        message = self.deliver("return", document)
        self.assertDone(message)
        self.assertEqual(message.res_id, return_picking.id)
        self.assertEqual(return_picking.state, "done")
        self.assertEqual(return_picking.logistics_confirmation_ref, "RMA-1")
        scrap = self.env["stock.scrap"].search([("picking_id", "=", return_picking.id)])
        self.assertEqual((scrap.state, scrap.scrap_qty, scrap.origin), ("done", 1, "RMA-1"))
        self.assertEqual(self.on_hand(self.product), stock_before + 2)
        self.assertFalse(self.exceptions())
        self.assertDone(self.deliver("return", document))
        self.assertEqual(self.on_hand(self.product), stock_before + 2, "applied once")
        self.assertEqual(
            self.env["stock.scrap"].search_count([("picking_id", "=", return_picking.id)]), 1
        )

    def test_units_the_partner_holds_stay_expected_and_ask_a_person(self):
        delivery, return_picking = self.returned_delivery(3)
        stock_before = self.on_hand(self.product)
        message = self.deliver(
            "return",
            self.rma(
                delivery,
                [
                    {"sku": "WIDGET-1", "quantity": 1, "disposition": "restock"},
                    {"sku": "WIDGET-1", "quantity": 2, "disposition": "quarantine"},
                ],
            ),
        )
        self.assertDone(message)
        self.assertEqual(return_picking.state, "done")
        self.assertEqual(self.on_hand(self.product), stock_before + 1)
        held = return_picking.backorder_ids
        self.assertEqual(held.move_ids.product_uom_qty, 2)
        exception = self.exceptions("other")
        self.assertEqual(len(exception), 1)
        self.assertIn("quarantine", exception.description)
        self.assertIn(held.name, exception.description)

    def test_a_completed_return_without_a_return_in_odoo_asks_for_one(self):
        picking = self.released_delivery([(self.product, 2)])
        message = self.deliver(
            "return",
            self.rma(picking, [{"sku": "WIDGET-1", "quantity": 1, "disposition": "restock"}]),
        )
        self.assertEqual(message.state, "failed")
        self.assertIn("no return for it", message.error_message)
        self.assertIn(picking.name, message.error_message)
        announced = self.deliver(
            "return",
            self.rma(
                picking,
                [{"sku": "WIDGET-1", "quantity": 1}],
                status="announced",
                reference="RMA-2",
            ),
        )
        self.assertDone(announced)
