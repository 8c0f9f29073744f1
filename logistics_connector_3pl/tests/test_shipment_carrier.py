"""A shipment confirmed by the 3PL for a delivery order that has a carrier: Odoo must not buy a
label for the parcel the partner already sent (stock_delivery buys one at validation when the
transfer has no tracking number)."""

from odoo.addons.logistics_connector_base.tests.test_appliers_stock import StockAppliersCase


class TestShipmentWithACarrier(StockAppliersCase):
    def test_a_carrier_delivery_shipped_by_the_partner_buys_no_label(self):
        carrier = self.env["delivery.carrier"].create(
            {
                "name": "Label Post",
                "delivery_type": "fixed",
                "fixed_price": 7.0,
                "integration_level": "rate_and_ship",
                "product_id": self.env["product.product"]
                .create({"name": "Label Post shipping", "type": "service"})
                .id,
            }
        )
        self.warehouse.out_type_id.print_label = True
        picking = self.released_delivery([(self.product, 2)])
        picking.carrier_id = carrier
        shipment = self.shipment(
            picking, [self.shipped(picking.move_ids, 2)], tracking_numbers=["1Z-PARTNER"]
        )
        self.assertDone(self.deliver("shipment", shipment))
        self.assertEqual(picking.state, "done")
        self.assertEqual(picking.carrier_tracking_ref, "1Z-PARTNER")
        self.assertFalse(picking.carrier_price, "no label bought from the carrier")
        self.assertFalse(
            picking.message_ids.filtered(lambda m: "Shipment sent to carrier" in (m.body or ""))
        )

    def test_without_a_carrier_the_tracking_number_comes_with_the_partners_date(self):
        picking = self.released_delivery([(self.product, 2)])
        shipment = self.shipment(
            picking, [self.shipped(picking.move_ids, 2)], tracking_numbers=["1Z-A", "1Z-B"]
        )
        self.assertDone(self.deliver("shipment", shipment))
        self.assertEqual(
            (picking.logistics_tracking_ref, picking.carrier_tracking_ref),
            ("1Z-A", "1Z-A,1Z-B"),
        )
        self.assertEqual(picking.logistics_confirmation_ref, "SHP-1")
