from .common import LogisticsCase


class TestCorrelationAcrossDocuments(LogisticsCase):
    def test_a_sale_order_and_its_delivery_share_one_story(self):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 2})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        self.assertTrue(order.logistics_correlation_id)
        self.assertEqual(picking.logistics_correlation_id, order.logistics_correlation_id)
        message = self.release(picking)
        self.assertEqual(message.correlation_id, order.logistics_correlation_id)
        self.assertEqual(order.logistics_message_count, 1, "the order's smart button finds it")
        action = order.action_view_logistics_messages()
        self.assertEqual(self.env["logistics.message"].search(action["domain"]), message)

    def test_a_purchase_receipt_shares_the_purchase_order_story(self):
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    (0, 0, {"product_id": self.product.id, "product_qty": 5, "price_unit": 3})
                ],
            }
        )
        order.button_confirm()
        self.assertTrue(order.picking_ids)
        self.assertEqual(order.picking_ids.logistics_correlation_id, order.logistics_correlation_id)

    def test_every_new_picking_gets_its_own_story(self):
        first, second = self.make_picking(), self.make_picking()
        self.assertTrue(first.logistics_correlation_id)
        self.assertNotEqual(first.logistics_correlation_id, second.logistics_correlation_id)
