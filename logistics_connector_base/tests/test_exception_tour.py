from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestExceptionTour(HttpCase):
    def test_manager_walks_an_exception_from_new_to_resolved(self):
        manager = new_test_user(
            self.env,
            login="lc_exc_tour_manager",
            password="lc_exc_tour_manager",
            groups="base.group_user,logistics_connector_base.group_logistics_manager",
        )
        backend = self.env["logistics.backend"].create({"name": "Tour 3PL", "code": "tour_3pl"})
        exception = self.env["logistics.exception"].raise_exception(
            "damaged_goods",
            "Tour: pallet damaged at the 3PL",
            "The 3PL received pallet 12 crushed. Claim the damage with the carrier, then resolve.",
            backend=backend,
        )
        self.assertEqual(exception.state, "new")

        self.start_tour("/odoo", "logistics_connector_exception_resolve", login=manager.login)

        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolution_reason, "Pallet re-packed by the 3PL and shipped.")
        self.assertEqual(exception.resolved_by, manager)
        audit = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual(audit.mapped("event"), ["resolve", "state_change"])
        self.assertEqual(audit.user_id, manager)

    def test_user_works_an_exception_with_the_buttons(self):
        user = new_test_user(
            self.env,
            login="lc_exc_tour_user",
            password="lc_exc_tour_user",
            groups="base.group_user,logistics_connector_base.group_logistics_user",
        )
        backend = self.env["logistics.backend"].create(
            {"name": "Tour Carrier", "code": "tour_carrier"}
        )
        exception = self.env["logistics.exception"].raise_exception(
            "failed_delivery",
            "Tour: parcel returned to sender",
            "The carrier could not deliver: the street number is missing.",
            backend=backend,
        )

        self.start_tour("/odoo", "logistics_connector_exception_user", login=user.login)

        self.assertEqual(exception.state, "resolved")
        self.assertEqual(
            exception.resolution_reason, "Address corrected with the customer and parcel re-sent."
        )
        self.assertEqual((exception.user_id, exception.resolved_by), (user, user))
        audit = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual(audit.mapped("event"), ["resolve", "state_change", "assign"])
        self.assertEqual(audit.user_id, user)
