import unittest
import uuid
from datetime import timedelta

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tests import Form, HttpCase, TransactionCase, get_db_name, new_test_user, tagged
from odoo.tools import mute_logger

from .common import json_rpc, seal_after_every_commit


class ExceptionCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Exceptions Co B"})
        cls.backend = cls.env["logistics.backend"].create(
            {"name": "Exc 3PL", "code": "exc_3pl", "company_id": cls.company.id}
        )
        cls.backend_b = cls.env["logistics.backend"].create(
            {"name": "Exc 3PL B", "code": "exc_3pl_b", "company_id": cls.company_b.id}
        )
        cls.user = new_test_user(
            cls.env,
            login="lc_exc_user",
            groups="logistics_connector_base.group_logistics_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.colleague = new_test_user(
            cls.env,
            login="lc_exc_colleague",
            groups="logistics_connector_base.group_logistics_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            login="lc_exc_user_b",
            groups="logistics_connector_base.group_logistics_user",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="lc_exc_manager",
            groups="logistics_connector_base.group_logistics_manager",
            company_id=cls.company.id,
            company_ids=[(6, 0, (cls.company | cls.company_b).ids)],
        )
        cls.desk = cls.env["logistics.team"].create(
            {
                "name": "Warehouse Desk",
                "user_id": cls.user.id,
                "member_ids": [(6, 0, (cls.user | cls.colleague).ids)],
            }
        )
        cls.stockout_rule = cls.env["logistics.exception.rule"].create(
            {
                "sequence": 1,
                "exception_type": "stockout",
                "backend_id": cls.backend.id,
                "team_id": cls.desk.id,
                "severity": "critical",
                "sla_hours": 4,
            }
        )
        cls.customer = cls.env["res.partner"].create({"name": "Exception Customer"})
        cls.Exception = cls.env["logistics.exception"]

    def raise_stockout(self, record=None, **kwargs):
        return self.Exception.raise_exception(
            "stockout",
            "WIDGET-1 is out of stock at the 3PL",
            "The 3PL has 0 of WIDGET-1. Replenish the 3PL or split the order.",
            backend=self.backend,
            record=record if record is not None else self.customer,
            **kwargs,
        )


class TestRaiseAndDeduplicate(ExceptionCase):
    def test_a_repeating_open_problem_counts_instead_of_duplicating(self):
        first = self.raise_stockout(correlation_id="corr-42")
        self.assertEqual(first.occurrence_count, 1)
        self.assertEqual(first.state, "new")
        self.assertEqual(first.correlation_id, "corr-42")
        self.assertEqual((first.res_model, first.res_id), ("res.partner", self.customer.id))
        self.assertEqual(first.document_name, "Exception Customer")

        again = self.Exception.raise_exception(
            "stockout",
            "WIDGET-1 is still out of stock",
            "Still 0 of WIDGET-1 at the 3PL.",
            backend=self.backend,
            record=self.customer,
        )
        self.assertEqual(again, first)
        self.assertEqual(first.occurrence_count, 2)
        self.assertEqual(first.description, "Still 0 of WIDGET-1 at the 3PL.")
        self.assertEqual(first.name, "WIDGET-1 is out of stock at the 3PL", "summary kept")
        self.assertTrue(
            first.message_ids.filtered(lambda m: "Happened again (2 times now)" in (m.body or ""))
        )
        self.assertEqual(
            self.Exception.search_count([("dedup_key", "=", first.dedup_key)]), 1, "no duplicate"
        )

        other_document = self.env["res.partner"].create({"name": "Another Customer"})
        self.assertNotEqual(self.raise_stockout(record=other_document), first)

        first.action_resolve(reason="Replenished")
        reopened = self.raise_stockout()
        self.assertNotEqual(reopened, first, "a closed problem that comes back is a new one")
        self.assertEqual(reopened.occurrence_count, 1)

    def test_a_repeat_escalates_severity_but_never_lowers_it(self):
        exception = self.Exception.raise_exception(
            "partner_down", "Partner down", "No answer.", backend=self.backend, severity="medium"
        )
        self.Exception.raise_exception(
            "partner_down", "Partner down", "No answer.", backend=self.backend, severity="critical"
        )
        self.assertEqual(exception.severity, "critical")
        self.Exception.raise_exception(
            "partner_down", "Partner down", "No answer.", backend=self.backend, severity="low"
        )
        self.assertEqual(exception.severity, "critical")
        self.assertEqual(exception.occurrence_count, 3)

    def test_explicit_dedup_key_and_bad_arguments(self):
        one = self.Exception.raise_exception(
            "other", "Odd file", "Look at it.", backend=self.backend, dedup_key="file:x.csv"
        )
        two = self.Exception.raise_exception(
            "validation_error",
            "Odd file",
            "Look at it.",
            backend=self.backend,
            dedup_key="file:x.csv",
        )
        self.assertEqual(one, two)
        with self.assertRaises(ValueError):
            self.Exception.raise_exception("no_such_type", "x", "y")
        with self.assertRaises(ValueError):
            self.Exception.raise_exception("other", "x", "y", severity="apocalyptic")

    def test_any_user_can_raise_but_not_create_by_hand(self):
        exception = self.Exception.with_user(self.user).raise_exception(
            "address_invalid", "Bad ZIP", "Fix the ZIP of the customer.", backend=self.backend
        )
        self.assertEqual(exception.with_user(self.user).name, "Bad ZIP")
        with self.assertRaises(AccessError):
            self.Exception.with_user(self.user).create({"name": "Typed by hand"})


class TestMessagesWithoutDocument(ExceptionCase):
    """Failed exchanges that concern no business document (e.g. webhook deliveries)."""

    def failed_message(self, reference):
        # An invalid document fails at once and opens its exception; no record is involved.
        message = self.env["logistics.message"]._create_outbound(
            self.backend,
            "order_release",
            document={"schema": "order_release/1", "reference": reference},
            idempotency_key=f"exc-nodoc-{reference}",
            enqueue=False,
        )
        self.assertEqual(message.state, "failed")
        self.assertFalse(message.res_id)
        return message

    def test_each_message_has_its_own_exception_closed_by_its_own_success(self):
        first, second = self.failed_message("NODOC-1"), self.failed_message("NODOC-2")
        exception_1 = self.Exception.search([("message_id", "=", first.id)])
        exception_2 = self.Exception.search([("message_id", "=", second.id)])
        self.assertEqual(len(exception_1), 1)
        self.assertEqual(len(exception_2), 1)
        self.assertNotEqual(exception_1, exception_2, "same partner and flow, still two problems")
        self.assertEqual(exception_1.occurrence_count, 1)
        self.assertEqual(exception_1.message_id, first, "not taken over by the later message")

        # The same message failing again counts on its own exception.
        again = self.Exception.raise_exception(
            exception_1.exception_type, "Failed again", "Still invalid.", message=first
        )
        self.assertEqual(again, exception_1)
        self.assertEqual(exception_1.occurrence_count, 2)

        # The second message going through closes its exception only.
        self.Exception._resolve_for_messages(second, "NODOC-2 went through")
        self.assertEqual(exception_2.state, "resolved")
        self.assertEqual(exception_1.state, "new", "the first message still failed")

    def test_messages_about_the_same_document_still_count_on_one_exception(self):
        first, second = self.failed_message("DOC-1"), self.failed_message("DOC-2")
        exception = self.Exception.raise_exception(
            "partner_rejected", "Order rejected", "Fix it.", message=first, record=self.customer
        )
        again = self.Exception.raise_exception(
            "partner_rejected", "Order rejected", "Fix it.", message=second, record=self.customer
        )
        self.assertEqual(again, exception)
        self.assertEqual(exception.occurrence_count, 2)
        self.assertEqual(exception.message_id, second, "points at the latest exchange")


class TestDirectWrites(ExceptionCase):
    """What the form or an RPC client may write; the rest goes through the buttons."""

    def test_a_user_only_reassigns_and_works_it_through_the_buttons(self):
        exception = self.raise_stockout()
        dedup_key = exception.dedup_key
        as_user = exception.with_user(self.colleague)
        self.assertFalse(as_user.can_edit_details)
        with self.assertRaisesRegex(UserError, "Use Start, Resolve or Ignore"):
            as_user.write({"state": "resolved", "resolution_reason": "Typed over RPC"})
        with self.assertRaisesRegex(UserError, "Use Start, Resolve or Ignore"):
            as_user.write({"state": "in_progress"})
        message = self.env["logistics.message"]._create_outbound(
            self.backend,
            "order_release",
            document={"schema": "order_release/1", "reference": "FORGE-1"},
            idempotency_key="exc-forge-1",
            enqueue=False,
        )
        for field_name, value in (
            ("occurrence_count", 99),
            ("company_id", self.company_b.id),
            ("message_id", message.id),
            ("dedup_key", "forged"),
            ("severity", "low"),
            ("sla_deadline", fields.Datetime.now() + timedelta(days=30)),
        ):
            with self.assertRaisesRegex(AccessError, "Only Logistics Managers can change"):
                as_user.write({field_name: value})
        self.assertEqual(
            (exception.state, exception.occurrence_count, exception.company_id),
            ("new", 1, self.company),
        )
        self.assertEqual((exception.severity, exception.dedup_key), ("critical", dedup_key))
        self.assertFalse(exception.message_id)

        other_team = self.env["logistics.team"].create({"name": "Customer Care"})
        as_user.write({"user_id": self.colleague.id, "team_id": other_team.id})
        self.assertEqual((exception.user_id, exception.team_id), (self.colleague, other_team))
        as_user.message_post(body="Called the 3PL, waiting for their count.")

        as_user.action_start()
        as_user.action_resolve(reason="The 3PL found the stock.")
        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolved_by, self.colleague)
        audit = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual(audit.mapped("event"), ["resolve", "state_change"])
        self.assertEqual(audit.user_id, self.colleague)

    def test_a_manager_edits_the_details_but_not_the_life_cycle(self):
        exception = self.raise_stockout()
        as_manager = exception.with_user(self.manager)
        self.assertTrue(as_manager.can_edit_details)
        as_manager.write({"severity": "low", "name": "Only 2 short, not out of stock"})
        self.assertEqual(exception.severity, "low")
        with self.assertRaisesRegex(UserError, "Use Start, Resolve or Ignore"):
            as_manager.write({"state": "ignored", "resolution_reason": "Typed over RPC"})
        with self.assertRaisesRegex(UserError, "Use Resolve or Ignore"):
            exception.sudo().write({"state": "resolved"})  # system code says why too
        self.assertEqual(exception.state, "new")


@tagged("post_install", "-at_install")
class TestExceptionOverRpc(HttpCase):
    def test_raise_exception_cannot_be_called_over_json_rpc(self):
        new_test_user(
            self.env,
            login="lc_exc_rpc_user",
            password="lc_exc_rpc_user",
            groups="logistics_connector_base.group_logistics_user",
        )
        self.authenticate("lc_exc_rpc_user", "lc_exc_rpc_user")
        answer = json_rpc(
            self,
            "logistics.exception",
            "raise_exception",
            ["other", "Forged over RPC", "Nothing happened."],
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertIn("cannot be called remotely", answer["error"]["data"]["message"])
        self.assertFalse(self.env["logistics.exception"].search([("name", "=", "Forged over RPC")]))
        # The same session reads exceptions: only the forging method is closed.
        answer = json_rpc(self, "logistics.exception", "search_count", [[]])
        self.assertIsInstance(answer["result"], int)


class TestRouting(ExceptionCase):
    def test_first_matching_rule_sets_team_assignee_severity_sla_and_activity(self):
        before = fields.Datetime.now()
        exception = self.raise_stockout()
        after = fields.Datetime.now()
        self.assertEqual(exception.team_id, self.desk)
        self.assertEqual(exception.user_id, self.user, "team leader")
        self.assertEqual(exception.severity, "critical", "rule override")
        self.assertTrue(before + timedelta(hours=4) <= exception.sla_deadline)
        self.assertTrue(exception.sla_deadline <= after + timedelta(hours=4))
        activity = exception.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertIn("Handle: WIDGET-1 is out of stock", activity.summary)
        self.assertTrue(exception.with_user(self.user).search([("id", "=", exception.id)]))

    def test_rule_user_then_leader_then_member_who_works_in_the_company(self):
        self.stockout_rule.user_id = self.colleague
        self.assertEqual(self.raise_stockout().user_id, self.colleague)
        self.stockout_rule.user_id = False
        self.desk.user_id = self.user_b  # the leader does not work in this company
        other = self.env["res.partner"].create({"name": "Customer 2"})
        exception = self.raise_stockout(record=other)
        self.assertIn(exception.user_id, self.user | self.colleague, "a member of the company")

    def test_unmatched_exceptions_fall_to_the_catch_all_rule(self):
        catch_all = self.env.ref("logistics_connector_base.logistics_exception_rule_catch_all")
        exception = self.Exception.raise_exception(
            "customs_hold",
            "Held at customs",
            "Send the invoice to the broker.",
            backend=self.backend,
        )
        self.assertEqual(exception.team_id, catch_all.team_id)
        self.assertEqual(exception.severity, "high", "default severity of the type")
        # A rule of another company or partner does not match.
        self.env["logistics.exception.rule"].create(
            {"sequence": 0, "company_id": self.company_b.id, "team_id": self.desk.id}
        )
        self.env["logistics.exception.rule"].create(
            {"sequence": 0, "backend_id": self.backend_b.id, "team_id": self.desk.id}
        )
        exception = self.Exception.raise_exception(
            "damaged_goods", "Damaged pallet", "Claim with the carrier.", backend=self.backend
        )
        self.assertEqual(exception.team_id, catch_all.team_id)

    def test_no_rule_means_no_assignee_and_a_default_deadline(self):
        self.env["logistics.exception.rule"].search([]).active = False
        exception = self.Exception.raise_exception(
            "other", "Something odd", "Have a look.", backend=self.backend
        )
        self.assertFalse(exception.user_id)
        self.assertFalse(exception.activity_ids)
        self.assertTrue(exception.sla_deadline)

    def test_negative_sla_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "negative number of hours"):
            self.stockout_rule.sla_hours = -1


class TestSlaAndSearch(ExceptionCase):
    def test_overdue_is_computed_and_searchable(self):
        late = self.raise_stockout()
        on_time = self.raise_stockout(record=self.env["res.partner"].create({"name": "C2"}))
        closed_late = self.raise_stockout(record=self.env["res.partner"].create({"name": "C3"}))
        past = fields.Datetime.now() - timedelta(hours=1)
        (late | closed_late).write({"sla_deadline": past})
        closed_late.action_ignore(reason="Customer cancelled")
        self.assertTrue(late.is_overdue)
        self.assertFalse(on_time.is_overdue)
        self.assertFalse(closed_late.is_overdue, "closed exceptions are never overdue")
        scope = [("id", "in", (late | on_time | closed_late).ids)]
        self.assertEqual(self.Exception.search([*scope, ("is_overdue", "=", True)]), late)
        self.assertEqual(
            self.Exception.search([*scope, ("is_overdue", "=", False)]), on_time | closed_late
        )
        self.assertEqual(self.Exception.search([*scope, ("is_overdue", "!=", False)]), late)
        self.assertGreaterEqual(late.age_hours, 0.0)
        self.assertTrue(late.age_display)

    def test_my_and_my_team_filters(self):
        mine = self.raise_stockout()  # routed to self.user, leader of the desk
        self.Exception.raise_exception(
            "customs_hold", "Held", "Call the broker.", backend=self.backend
        )  # catch-all team
        as_colleague = self.Exception.with_user(self.colleague)
        my_team = as_colleague.search(
            self.env["logistics.team"].with_user(self.colleague)._my_team_domain()
        )
        self.assertEqual(my_team, mine)
        self.assertEqual(
            self.Exception.with_user(self.user).search([("user_id", "=", self.user.id)]), mine
        )


class TestWorkingExceptions(ExceptionCase):
    def test_start_then_resolve_with_a_reason(self):
        exception = self.raise_stockout(correlation_id="corr-resolve")
        exception.user_id = False
        as_user = exception.with_user(self.colleague)
        as_user.action_start()
        self.assertEqual(exception.state, "in_progress")
        self.assertEqual(exception.user_id, self.colleague, "starting takes it")

        with self.assertRaisesRegex(UserError, "Use Start, Resolve or Ignore"):
            as_user.write({"state": "resolved"})  # e.g. an inline edit, without a reason
        action = as_user.action_resolve()
        self.assertEqual(action["res_model"], "logistics.exception.resolve")
        with self.assertRaisesRegex(UserError, "Say why"):
            as_user.action_resolve(reason="   ")
        self.assertEqual(exception.state, "in_progress")

        wizard_form = Form(
            self.env["logistics.exception.resolve"]
            .with_user(self.colleague)
            .with_context(**action["context"])
        )
        wizard_form.reason = "Stock moved from WH2 and order re-released."
        wizard_form.save().action_apply()

        self.assertEqual(exception.state, "resolved")
        self.assertEqual(exception.resolution_reason, "Stock moved from WH2 and order re-released.")
        self.assertEqual(exception.resolved_by, self.colleague)
        self.assertTrue(exception.resolved_at)
        self.assertFalse(exception.activity_ids, "the assignee's to-do is done")
        audit = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception.id)]
        )
        self.assertEqual(audit.mapped("event"), ["resolve", "state_change"])
        self.assertEqual(audit[0].user_id, self.colleague)
        self.assertEqual(audit[0].correlation_id, "corr-resolve")
        with self.assertRaisesRegex(UserError, "already closed"):
            exception.action_ignore(reason="too late")

    def test_ignore_needs_a_reason_too(self):
        exception = self.raise_stockout()
        self.assertEqual(exception.action_ignore()["context"]["default_mode"], "ignore")
        with self.assertRaises(UserError):
            exception._close("ignored", "")
        exception.with_user(self.user).action_ignore(reason="Known partner quirk")
        self.assertEqual(exception.state, "ignored")
        self.assertTrue(
            self.env["logistics.audit.log"].search(
                [
                    ("event", "=", "ignore"),
                    ("res_model", "=", "logistics.exception"),
                    ("res_id", "=", exception.id),
                ]
            )
        )

    def test_bulk_resolve_and_assign_through_the_server_actions(self):
        customers = self.env["res.partner"].create([{"name": f"Bulk {i}"} for i in range(3)])
        exceptions = self.Exception.browse(
            [self.raise_stockout(record=customer).id for customer in customers]
        )
        exceptions[0].action_resolve(reason="Done earlier")
        context = {"active_model": "logistics.exception", "active_ids": exceptions.ids}

        assign = self.env.ref(
            "logistics_connector_base.logistics_exception_action_server_assign_to_me"
        )
        assign.with_user(self.colleague).with_context(**context).run()
        self.assertEqual(exceptions[1:].mapped("user_id"), self.colleague)
        self.assertEqual(exceptions[1:].activity_ids.user_id, self.colleague, "to-dos follow")
        self.assertEqual(exceptions[0].user_id, self.user, "closed ones are left alone")

        resolve = self.env.ref("logistics_connector_base.logistics_exception_action_server_resolve")
        action = resolve.with_user(self.colleague).with_context(**context).run()
        wizard = (
            self.env["logistics.exception.resolve"]
            .with_user(self.colleague)
            .with_context(**action["context"])
            .create({"reason": "Stock arrived"})
        )
        self.assertEqual(wizard.exception_count, 3)
        wizard.action_apply()
        self.assertEqual(set(exceptions.mapped("state")), {"resolved"})
        self.assertEqual(exceptions[1:].mapped("resolution_reason"), ["Stock arrived"] * 2)
        self.assertEqual(exceptions[0].resolution_reason, "Done earlier")

    def test_retry_and_replay_need_a_message(self):
        exception = self.raise_stockout()
        with self.assertRaisesRegex(UserError, "not linked to a message"):
            exception.with_user(self.manager).action_retry()
        with self.assertRaisesRegex(UserError, "not linked to a message"):
            exception.with_user(self.manager).action_replay()
        with self.assertRaisesRegex(UserError, "not linked to a message"):
            exception.action_open_message()

    def test_retry_from_the_exception_retries_its_message(self):
        message = self.env["logistics.message"]._create_outbound(
            self.backend,
            "order_release",
            document={"schema": "order_release/1", "reference": "BROKEN-1"},
            idempotency_key="exc-retry-1",
            correlation_id="corr-retry",
            enqueue=False,
        )
        self.assertEqual(message.state, "failed", "an invalid document fails at once")
        exception = self.Exception.search([("message_id", "=", message.id)])
        self.assertEqual(len(exception), 1)
        self.assertEqual(exception.correlation_id, "corr-retry")
        self.assertEqual(exception.action_open_message()["res_id"], message.id)

        with self.assertRaisesRegex(UserError, "not allowed to replay"):
            exception.with_user(self.user).action_replay()  # managers only
        exception.with_user(self.user).action_retry()  # operations staff may
        self.assertEqual(message.state, "queued")
        self.assertEqual(exception.state, "in_progress")
        retry = self.env["logistics.audit.log"].search(
            [("event", "=", "retry"), ("message_id", "=", message.id)]
        )
        self.assertEqual(retry.user_id, self.user)
        self.assertEqual(retry.correlation_id, "corr-retry")

    def test_open_document(self):
        exception = self.raise_stockout()
        action = exception.with_user(self.user).action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", self.customer.id))
        bare = self.Exception.raise_exception("other", "No document", "x", backend=self.backend)
        with self.assertRaisesRegex(UserError, "not linked to a document"):
            bare.action_open_document()

    def test_message_retry_success_can_close_its_exceptions(self):
        message = self.env["logistics.message"]._create_outbound(
            self.backend,
            "order_release",
            document={"schema": "order_release/1", "reference": "BROKEN-2"},
            idempotency_key="exc-auto-1",
            enqueue=False,
        )
        closed = self.Exception._resolve_for_messages(message, "Delivered on retry")
        self.assertEqual(len(closed), 1)
        self.assertEqual(closed.state, "resolved")
        self.assertEqual(closed.resolution_reason, "Delivered on retry")


class TestMultiCompany(ExceptionCase):
    def test_users_only_see_their_companies_exceptions(self):
        exception_a = self.raise_stockout()
        exception_b = self.Exception.raise_exception(
            "failed_delivery", "Parcel returned", "Call the customer.", backend=self.backend_b
        )
        self.assertEqual(exception_b.company_id, self.company_b)
        scope = [("id", "in", (exception_a | exception_b).ids)]
        self.assertEqual(self.Exception.with_user(self.user_b).search(scope), exception_b)
        self.assertEqual(self.Exception.with_user(self.user).search(scope), exception_a)
        with self.assertRaises(AccessError):
            exception_a.with_user(self.user_b).read(["name"])
        with self.assertRaises(AccessError):
            exception_a.with_user(self.user_b).action_resolve(reason="not mine")
        self.assertEqual(exception_a.state, "new")
        # Audit entries follow the same wall.
        exception_b.with_user(self.user_b).action_start()
        audit = self.env["logistics.audit.log"].search(
            [("res_model", "=", "logistics.exception"), ("res_id", "=", exception_b.id)]
        )
        self.assertEqual(audit.company_id, self.company_b)
        self.assertFalse(audit.with_user(self.user).search([("id", "=", audit.id)]))

    def test_teams_and_rules_of_other_companies_are_hidden(self):
        team_b = self.env["logistics.team"].create(
            {"name": "B Desk", "company_id": self.company_b.id}
        )
        self.assertFalse(
            self.env["logistics.team"].with_user(self.user).search([("id", "=", team_b.id)])
        )
        self.assertTrue(
            self.env["logistics.team"].with_user(self.user_b).search([("id", "=", team_b.id)])
        )
        shared = self.env.ref("logistics_connector_base.logistics_team_operations")
        self.assertTrue(shared.with_user(self.user_b).name, "a team without company is shared")


class TestConcurrentRaise(unittest.TestCase):
    """Two workers reporting the same problem at once: one exception, two occurrences."""

    def setUp(self):
        super().setUp()
        seal_after_every_commit(self)
        self.registry = Registry(get_db_name())
        self.key = f"race:{uuid.uuid4().hex}"
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["logistics.exception"].search([("dedup_key", "=", self.key)]).unlink()

    def _raise(self, cr, text):
        env = api.Environment(cr, SUPERUSER_ID, {})
        exception = env["logistics.exception"].raise_exception(
            "other", "Race", text, dedup_key=self.key
        )
        return exception.id

    def test_a_stale_transaction_retries_and_then_counts_an_occurrence(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            cr_b.execute("SELECT 1")  # worker B's snapshot predates A's commit
            first_id = self._raise(cr_a, "seen by A")
            cr_a.commit()
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(psycopg2.errors.SerializationFailure) as caught,
            ):
                self._raise(cr_b, "seen by B")
            self.assertEqual(caught.exception.pgcode, "40001", "retried by Odoo and queue_job")
            cr_b.rollback()
            second_id = self._raise(cr_b, "seen by B, retried")
            cr_b.commit()
        self.assertEqual(second_id, first_id)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT occurrence_count, description FROM logistics_exception "
                "WHERE dedup_key = %s",
                (self.key,),
            )
            self.assertEqual(cr.fetchall(), [(2, "seen by B, retried")])
