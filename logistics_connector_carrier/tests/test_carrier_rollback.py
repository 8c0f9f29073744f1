"""A validation that rolls back after the carrier sold the label: the next one finds the label
instead of buying another. Through real, separately committed transactions (not a
TransactionCase, whose cursors all share one transaction); everything committed is removed."""

import unittest

from odoo import SUPERUSER_ID, api
from odoo.addons.logistics_connector_base.tests.common import CommittedWorkMixin
from odoo.modules.registry import Registry
from odoo.tests import get_db_name
from tests.sandboxes.carrier_partner import CarrierSandbox

from .common import API_KEY

CODE = "rollback_carrier"


class TestLabelSurvivesRollback(CommittedWorkMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = CarrierSandbox(api_keys={API_KEY: "test"})
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        self.backend_id = self.create_committed_partner(
            self.registry,
            {
                "name": "Rollback carrier",
                "code": CODE,
                "kind": "carrier",
                "adapter": "easypost",
                "sync_deadline": 5,
                "endpoint_ids": [
                    (0, 0, {"base_url": self.sandbox.base_url, "auth_kind": "basic",
                            "username": API_KEY})
                ],
            },
        )  # fmt: skip
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.company
            company.partner_id.write(
                {"street": "500 Warehouse Way", "city": "Memphis", "zip": "38118",
                 "country_id": env.ref("base.us").id}
            )  # fmt: skip
            customer = env["res.partner"].create(
                {"name": "Rollback Customer", "street": "1 Loop Road", "city": "Springfield",
                 "zip": "12345", "country_id": env.ref("base.us").id}
            )  # fmt: skip
            product = env["product.product"].create(
                {"name": "Rollback widget", "is_storable": True, "weight": 2.0}
            )
            carrier = env["delivery.carrier"].create(
                {
                    "name": "Rollback method",
                    "delivery_type": "logistics",
                    "product_id": env["product.product"]
                    .create({"name": "Rollback shipping", "type": "service"})
                    .id,
                    "logistics_backend_id": self.backend_id,
                }
            )
            warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": warehouse.out_type_id.id,
                    "partner_id": customer.id,
                    "carrier_id": carrier.id,
                    "move_ids": [
                        (0, 0, {"name": product.name, "product_id": product.id,
                                "product_uom_qty": 1, "product_uom": product.uom_id.id,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": env.ref("stock.stock_location_customers").id})
                    ],
                }
            )  # fmt: skip
            picking.move_ids.quantity = 1
            self.ids = {
                "picking": picking.id,
                "carrier": carrier.id,
                "customer": customer.id,
                "product": product.id,
                "delivery_product": carrier.product_id.id,
            }
        self.addCleanup(self.remove_committed_records)

    def remove_committed_records(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            picking = env["stock.picking"].browse(self.ids["picking"])
            env["logistics.carrier.label"].search([("picking_id", "=", picking.id)]).unlink()
            env["ir.attachment"].search(
                [("res_model", "=", "stock.picking"), ("res_id", "=", picking.id)]
            ).unlink()
            products = (self.ids["product"], self.ids["delivery_product"])
            for table in ("stock_move_line", "stock_move", "stock_quant"):
                cr.execute(f"DELETE FROM {table} WHERE product_id IN %s", (products,))
            picking.unlink()
            env["delivery.carrier"].browse(self.ids["carrier"]).unlink()
            env["product.product"].browse(products).unlink()
            env["res.partner"].browse(self.ids["customer"]).unlink()

    def ship(self, roll_back):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            picking = env["stock.picking"].browse(self.ids["picking"])
            result = picking.carrier_id.send_shipping(picking)[0]
            if roll_back:
                cr.rollback()
        return result

    def test_the_label_bought_before_a_rollback_is_found_not_bought_again(self):
        first = self.ship(roll_back=True)
        self.assertTrue(first["tracking_number"])
        again = self.ship(roll_back=False)
        self.assertEqual(again["tracking_number"], first["tracking_number"])
        self.assertEqual(len(self.sandbox.labels_bought()), 1, "bought once")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            label = env["logistics.carrier.label"].search(
                [("picking_id", "=", self.ids["picking"])]
            )
            self.assertEqual(label.tracking_number, first["tracking_number"])
            self.assertTrue(label.attachment_id, "the label file is attached after all")
