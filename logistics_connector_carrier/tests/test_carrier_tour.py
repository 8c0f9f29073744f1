"""A warehouse user validates a delivery in the browser and gets its label (headless Chromium
tour against the EasyPost-like sandbox)."""

from odoo.tests import new_test_user, tagged

from .common import CarrierHttpCase


@tagged("post_install", "-at_install")
class TestCarrierTour(CarrierHttpCase):
    def test_validate_a_delivery_and_get_its_label(self):
        user = new_test_user(
            self.env,
            login="lc_carrier_tour",
            password="lc_carrier_tour",
            groups="base.group_user,stock.group_stock_user",
        )
        picking = self.make_picking(1.0)
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "logistics_connector_carrier_validate_and_label",
            login=user.login,
        )
        self.assertEqual(picking.state, "done")
        self.assertEqual(len(self.sandbox.labels_bought()), 1)
        self.assertTrue(picking.logistics_label_ids.attachment_id)
