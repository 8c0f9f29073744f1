"""Comparing rates across shipping methods: one carrier failing does not hide the others."""

from odoo import Command

from .common import API_KEY, CarrierCase


class TestRateShopping(CarrierCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ground = cls.carrier.copy(
            {"name": "Sandbox USPS Ground", "logistics_service": "GroundAdvantage"}
        )
        cls.express = cls.carrier.copy(
            {"name": "Sandbox USPS Express", "logistics_service": "Express"}
        )
        broken = cls.backend.copy(
            {
                "name": "Unreachable carrier",
                "code": "sandbox_carrier_down",
                "connect_timeout": 1,
                "endpoint_ids": [
                    (0, 0, {"base_url": "http://127.0.0.1:9", "auth_kind": "basic",
                            "username": API_KEY})
                ],
            }
        )  # fmt: skip
        cls.down = cls.carrier.copy({"name": "Sandbox down", "logistics_backend_id": broken.id})
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "order_line": [
                    Command.create({"product_id": cls.product.id, "product_uom_qty": 2})
                ],
            }
        )

    def compare(self, **values):
        methods = self.carrier | self.ground | self.express | self.down
        wizard = self.env["logistics.rate.shopping"].create(
            {"order_id": self.order.id, "carrier_ids": [(6, 0, methods.ids)], **values}
        )
        wizard.action_compare()
        return wizard

    def test_cheapest_fastest_and_by_promised_date(self):
        wizard = self.compare()
        lines = {line.carrier_id: line for line in wizard.line_ids}
        self.assertTrue(lines[self.carrier].success and lines[self.ground].success)
        self.assertFalse(lines[self.down].success, "the unreachable carrier says why")
        self.assertTrue(lines[self.down].message)
        rated = wizard.line_ids.filtered("success")
        self.assertEqual(wizard.chosen_line_id.price, min(rated.mapped("price")))
        wizard.criterion = "fastest"
        self.assertEqual(wizard.chosen_line_id.carrier_id, self.express)
        wizard.criterion = "promise"
        wizard.promise_date = lines[self.carrier].delivery_date
        chosen = wizard.chosen_line_id
        self.assertLessEqual(chosen.delivery_date, wizard.promise_date)
        self.assertNotEqual(chosen.carrier_id, self.ground, "Ground arrives too late")
        wizard.action_apply()
        self.assertEqual(self.order.carrier_id, chosen.carrier_id)
        self.assertAlmostEqual(
            self.order.order_line.filtered("is_delivery").price_unit, chosen.price, places=2
        )

    def test_automatic_choice_rule(self):
        order = self.order.copy()
        served = order.with_context(
            logistics_rate_carrier_ids=(self.carrier | self.ground | self.down).ids
        )._logistics_choose_best_rate("fastest")
        self.assertEqual(served, order)
        self.assertEqual(order.carrier_id, self.carrier, "Priority is faster than Ground")
