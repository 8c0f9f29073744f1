"""The release clicked through in a browser (static/tests/tours/logistics_3pl_release_tour.js)."""

from .common import ThreePLCase


class TestReleaseTour(ThreePLCase):
    def test_a_blocked_delivery_is_sent_from_its_form_which_shows_its_status(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Zed No Zip",
                "street": "9 Quay",
                "city": "Antwerp",
                "country_id": self.env.ref("base.be").id,
            }
        )
        picking = self.delivery([(self.widget, 1)], partner=customer)
        self.assertEqual(picking.logistics_status, "release_blocked")
        customer.zip = "2000"

        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "logistics_connector_3pl_release",
            login="admin",
        )

        self.assertEqual(picking.logistics_status, "released")
        self.run_jobs()
        self.assertEqual(picking.logistics_status, "acknowledged")
        self.assertEqual(
            self.sandbox.order(picking.name)["recipient"]["address"]["zip_code"], "2000"
        )
