"""Which 3PL gets a delivery (routing rules, two 3PLs) and what keeps a delivery from being sent
(pre-release validation), through the automated action and the batch run."""

from odoo import Command

from .common import ThreePLCase


class TestRouting(ThreePLCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.west, cls.west_sandbox = cls.make_3pl("West Coast 3PL", "sbx_west", "11")
        cls.canada = cls.env.ref("base.ca")
        cls.vip = cls.env["res.partner.category"].create({"name": "VIP"})
        cls.fragile = cls.env["product.category"].create({"name": "Fragile"})
        cls.glass = cls.env["product.category"].create(
            {"name": "Glass", "parent_id": cls.fragile.id}
        )
        cls.vase = cls.product("Vase", "VASE-1", categ_id=cls.glass.id)

    def setUp(self):
        super().setUp()
        self.west_sandbox.reset()

    def rule(self, **values):
        return self.env["logistics.routing.rule"].create(
            {"name": "West", "backend_id": self.west.id, **values}
        )

    def customer_in(self, country, **values):
        return self.env["res.partner"].create(
            {
                "name": "Bob",
                "street": "2 Main St",
                "city": "Toronto",
                "zip": "M5V 2T6",
                "country_id": country.id,
                **values,
            }
        )

    def test_first_matching_rule_wins_else_the_warehouse_3pl(self):
        self.rule(sequence=5, country_ids=[Command.set(self.canada.ids)])
        self.rule(
            sequence=1,
            name="Never",
            partner_category_ids=[Command.set(self.vip.ids)],
            backend_id=self.backend.id,
            country_ids=[Command.set(self.env.ref("base.us").ids)],
        )
        ontario = self.env["res.country.state"].search(
            [("country_id", "=", self.canada.id), ("code", "=", "ON")]
        )
        to_canada = self.delivery(
            [(self.widget, 1)], partner=self.customer_in(self.canada, state_id=ontario.id)
        )
        to_belgium = self.delivery([(self.widget, 1)])
        self.assertEqual(to_canada.logistics_backend_id, self.west)
        self.assertEqual(to_belgium.logistics_backend_id, self.backend)
        self.run_jobs()
        self.backend, backend = self.west, self.backend
        self.run_jobs()
        self.backend = backend
        self.assertEqual(
            [o["reference_id"] for o in self.west_sandbox.orders.values()], [to_canada.name]
        )
        self.assertEqual(
            [o["reference_id"] for o in self.sandbox.orders.values()], [to_belgium.name]
        )

    def test_conditions_on_category_tag_and_carrier(self):
        rule = self.rule(product_category_ids=[Command.set(self.fragile.ids)])
        picking = self.delivery([(self.vase, 1)], ready=False)
        self.assertEqual(
            self.env["logistics.routing.rule"]._route(picking), self.west, "subcategory"
        )
        rule.partner_category_ids = self.vip
        self.assertEqual(self.env["logistics.routing.rule"]._route(picking), self.backend)
        self.customer.category_id = self.vip
        self.assertEqual(self.env["logistics.routing.rule"]._route(picking), self.west)
        carrier = self.env["delivery.carrier"].search([], limit=1)
        rule.carrier_ids = carrier
        self.assertEqual(self.env["logistics.routing.rule"]._route(picking), self.backend)
        picking.carrier_id = carrier
        self.assertEqual(self.env["logistics.routing.rule"]._route(picking), self.west)
        self.customer.category_id = False

    def test_a_sales_team_and_warehouse_rule_routes_a_sale(self):
        team = self.env["crm.team"].create({"name": "Wholesale"})
        self.rule(team_ids=[Command.set(team.ids)], warehouse_ids=[Command.set(self.warehouse.ids)])
        self.put_in_stock(self.widget, 2)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "team_id": team.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    Command.create({"product_id": self.widget.id, "product_uom_qty": 2})
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(picking.logistics_backend_id, self.west)
        order.team_id = self.env["crm.team"].create({"name": "Retail"})
        self.assertEqual(self.env["logistics.routing.rule"]._route(picking), self.backend)


class TestReleaseValidation(ThreePLCase):
    def test_incomplete_delivery_is_not_sent_and_says_what_to_fix(self):
        nowhere = self.env["res.partner"].create(
            {"name": "No Address", "street": "3 Rue", "country_id": self.env.ref("base.fr").id}
        )
        unnamed = self.product("Unnamed", False)
        carrier = self.env["delivery.carrier"].search([], limit=1)
        picking = self.delivery(
            [(self.widget, 1), (unnamed, 1)], partner=nowhere, carrier_id=carrier.id
        )
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(self.messages(picking), "nothing was sent")
        self.assertEqual(picking.logistics_status, "release_blocked")
        [exception] = self.exceptions(picking)
        self.assertEqual(exception.exception_type, "validation_error")
        for words in (
            "city, ZIP code",
            "Unnamed has no Internal Reference",
            f"shipping method {carrier.name}",
        ):
            self.assertIn(words, exception.description)
        # Fixed: the batch run (or the button) sends it.
        nowhere.write({"city": "Paris", "zip": "75001"})
        unnamed.default_code = "UNNAMED-1"
        self.env["logistics.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "carrier_service",
                "odoo_value": carrier.name,
                "partner_value": "Express",
            }
        )
        self.env["stock.picking"]._cron_logistics_release_ready()
        self.assertEqual(picking.logistics_status, "released")
        self.assertEqual(exception.state, "resolved")
        self.run_jobs()
        self.assertEqual(self.sandbox.order(picking.name)["shipping_method"], "Express")

    def test_a_unit_without_mapping_blocks_until_mapped_then_the_button_sends(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        picking = self.delivery([(self.widget, 1)], ready=False)
        picking.move_ids.product_uom = dozen
        self.put_in_stock(self.widget, 12)
        picking.action_confirm()
        picking.action_assign()
        self.assertEqual(picking.logistics_status, "release_blocked")
        self.assertIn("Unit of Measure mapping", self.exceptions(picking).description)
        self.env["logistics.mapping"].create(
            {
                "backend_id": self.backend.id,
                "mapping_type": "uom",
                "odoo_value": dozen.name,
                "partner_value": "DZ",
            }
        )
        picking.action_logistics_release()
        self.assertEqual(picking.logistics_status, "released")
        self.run_jobs()
        product = self.sandbox.order(picking.name)["products"][0]
        self.assertEqual((product["quantity"], product["quantity_unit_of_measure_code"]), (1, "DZ"))
