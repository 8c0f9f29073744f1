"""The EDI screens clicked through in a browser (static/tests/tours/logistics_x12_screens_tour.js):
an order release's interchange, its sets, 997 status and segments; the validate tool."""

from odoo.tests import HttpCase, tagged

from .common import X12PartnerCase


@tagged("post_install", "-at_install")
class TestX12ScreensTour(X12PartnerCase, HttpCase):
    def test_an_administrator_follows_a_release_validates_a_sample_and_edits_the_guide(self):
        self.backend.write(
            {
                "name": "EDI tour partner",
                "x12_restriction_ids": [
                    (0, 0, {"kind": "codes", "segment": "W12", "position": 1, "codes": "CC"})
                ],
            }
        )
        self.env.ref("base.user_admin").groups_id |= self.env.ref(
            "logistics_connector_base.group_logistics_manager"
        )
        picking = self.released_delivery([(self.product, 1)])
        self.partner.work_once(ship=False)
        self.poll_and_run()
        release = self.env["logistics.message"].search(
            [("res_id", "=", picking.id), ("flow", "=", "order_release")]
        )
        self.env.invalidate_all()  # the interchange was recorded by the sender's own cursor
        self.assertEqual(release.x12_interchange_ids.ack_state, "accepted")

        self.start_tour(
            f"/odoo/action-logistics_connector_base.logistics_message_action/{release.id}",
            "logistics_connector_edi_screens",
            login="admin",
        )
        added = self.backend.x12_restriction_ids.filtered(lambda r: r.segment == "W06")
        self.assertEqual((added.kind, added.position, added.codes), ("codes", 1, "F"))
        self.assertEqual(self.backend._x12_rules().code_lists["W06-01"], ("F",))
