"""Odoo's own shipping methods behave as without the suite: fixed price, no label, no
message, no exception."""

from odoo import Command

from .common import CarrierCase


class TestOtherCarriersUnchanged(CarrierCase):
    def test_fixed_price_method_rates_and_ships_as_odoo_does(self):
        fixed = self.env["delivery.carrier"].create(
            {
                "name": "Own van",
                "delivery_type": "fixed",
                "fixed_price": 9.0,
                "product_id": self.carrier.product_id.id,
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        self.assertEqual(fixed.rate_shipment(order)["price"], 9.0)
        picking = self.validate(self.make_picking(1.0, carrier=fixed))
        self.assertFalse(picking.carrier_tracking_ref)
        self.assertEqual(picking.carrier_price, 9.0)
        self.assertFalse(picking.logistics_label_ids)
        self.assertFalse(self.sandbox.requests)
        self.assertFalse(
            self.env["logistics.message"].search_count([("res_id", "=", picking.id),
                                                        ("res_model", "=", "stock.picking")])
        )  # fmt: skip
        self.assertFalse(fixed.can_generate_return)
