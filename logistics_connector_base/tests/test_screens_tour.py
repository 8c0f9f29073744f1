"""The screens clicked through in a browser (tours in static/tests/tours/)."""

from odoo import fields
from odoo.tests import tagged

from .common import LogisticsHttpCase


def form_url(action, record):
    return f"/odoo/action-logistics_connector_base.{action}/{record.id}"


@tagged("post_install", "-at_install")
class TestScreensTour(LogisticsHttpCase):
    def missing_mapping_exception(self):
        north = self.env["stock.warehouse"].create({"name": "North", "code": "NRTH"})
        picking = self.make_picking()
        picking.picking_type_id = north.out_type_id
        message = self.release(picking)
        self.assertEqual(message.state, "failed")
        return message.exception_ids

    def test_a_user_reopens_an_exception_of_theirs(self):
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release()
        self.run_jobs()
        exception = message.exception_ids
        exception.user_id = self.user
        exception.with_user(self.user).action_resolve("Sales said it was fine.")
        self.user.password = "lc_user"

        self.start_tour(
            form_url("logistics_exception_action", exception),
            "logistics_connector_exception_reopen",
            login="lc_user",
        )

        self.assertEqual((exception.state, exception.user_id), ("in_progress", self.user))
        events = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual(events.mapped("event")[:2], ["state_change", "reopen"])
        self.assertEqual(events[:2].user_id, self.user)

    def test_a_manager_adds_the_missing_mapping_from_the_exception(self):
        exception = self.missing_mapping_exception()
        self.manager.password = "lc_manager"

        self.start_tour(
            form_url("logistics_exception_action", exception),
            "logistics_connector_exception_add_mapping",
            login="lc_manager",
        )

        mapping = self.env["logistics.mapping"].search(
            [("backend_id", "=", self.backend.id), ("odoo_value", "=", "NRTH")]
        )
        self.assertEqual((mapping.mapping_type, mapping.partner_value), ("warehouse", "SBX-NORTH"))
        self.assertEqual(mapping.create_uid, self.manager)

    def test_the_wire_payload_reads_as_text(self):
        message = self.release()
        self.run_jobs()
        self.assertEqual(message.state, "done")
        self.manager.password = "lc_manager"

        self.start_tour(
            form_url("logistics_message_action", message),
            "logistics_connector_message_payload",
            login="lc_manager",
        )

    def test_the_overview_in_plain_words(self):
        backends = self.env["logistics.backend"]
        alpha = backends.create({"name": "Alpha 3PL", "code": "screens_alpha"})
        picking = self.make_picking()
        # No warehouse mapping for Alpha: the release fails with an exception to handle.
        message = self.env["logistics.message"]._create_outbound(alpha, "order_release", picking)
        self.assertEqual(message.state, "failed")
        bravo = backends.create({"name": "Bravo Carrier", "code": "screens_bravo"})
        bravo.write(
            {
                "breaker_state": "open",
                "breaker_opened_at": fields.Datetime.now(),
                "last_failure_at": fields.Datetime.now(),
                "last_error": "connection refused",
            }
        )
        self.env["logistics.exception"].raise_exception(
            "partner_down", "Bravo Carrier is not answering", "Check its status.", backend=bravo
        )
        self.manager.password = "lc_manager"

        self.start_tour("/odoo", "logistics_connector_overview", login="lc_manager")

    def test_a_manager_on_the_partner_form(self):
        self.manager.password = "lc_manager"

        self.start_tour(
            form_url("logistics_backend_action", self.backend),
            "logistics_connector_partner_form",
            login="lc_manager",
        )

        self.assertEqual(self.backend.environment, "test", "the switch was discarded")
        shown = self.env["logistics.audit.log"].search(
            [("backend_id", "=", self.backend.id), ("summary", "like", "shown to")]
        )
        self.assertEqual(shown.user_id, self.manager)
