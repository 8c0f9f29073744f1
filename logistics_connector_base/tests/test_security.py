import base64
import json
import logging
import os

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from .common import PARTNER_TOKEN, WEBHOOK_SECRET, LogisticsCase, LogisticsHttpCase, json_rpc


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class TestAccess(LogisticsCase):
    def test_user_cannot_read_credentials_through_the_orm(self):
        backend = self.backend.with_user(self.user)
        self.assertEqual(backend.name, "Sandbox 3PL", "users see the partner itself")
        for secret_field in ("webhook_secret", "webhook_secret_previous", "webhook_token"):
            with self.assertRaises(AccessError):
                backend.read([secret_field])
        with self.assertRaises(AccessError):
            self.backend.endpoint_ids.with_user(self.user).read(["token"])
        self.assertNotIn("webhook_secret", backend.read()[0], "not in a default read either")
        self.assertEqual(self.backend.endpoint_ids.with_user(self.manager).token, PARTNER_TOKEN)

    def test_user_cannot_configure_partners_or_mappings(self):
        with self.assertRaises(AccessError):
            self.backend.with_user(self.user).write({"max_attempts": 9})
        with self.assertRaises(AccessError):
            self.env["logistics.mapping"].with_user(self.user).create(
                {
                    "backend_id": self.backend.id,
                    "mapping_type": "uom",
                    "odoo_value": "Units",
                    "partner_value": "EA",
                }
            )

    def test_configuration_changes_are_audited_with_secrets_redacted(self):
        self.backend.with_user(self.manager).write({"max_attempts": 7})
        self.backend.endpoint_ids.with_user(self.manager).write({"token": "rotated-token-123456"})
        entries = self.env["logistics.audit.log"].search(
            [("event", "=", "config_change"), ("backend_id", "=", self.backend.id)]
        )
        text = json.dumps(entries.read(["summary", "details"]), default=str)
        self.assertIn("max_attempts", text)
        self.assertNotIn("rotated-token-123456", text)
        self.assertNotIn(PARTNER_TOKEN, text)

    def test_multi_company_isolation(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other_user = new_test_user(
            self.env,
            login="lc_other_co",
            groups="logistics_connector_base.group_logistics_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        message = self.release()
        Backend = self.env["logistics.backend"].with_user(other_user)
        self.assertFalse(Backend.search([("id", "=", self.backend.id)]))
        self.assertFalse(
            self.env["logistics.message"].with_user(other_user).search([("id", "=", message.id)])
        )
        self.assertFalse(
            self.env["logistics.mapping"]
            .with_user(other_user)
            .search([("backend_id", "=", self.backend.id)])
        )
        own = Backend.create({"name": "Other Co partner", "code": "other_co_partner"})
        self.assertEqual(own.company_id, other_company)


@tagged("post_install", "-at_install")
class TestSecretsNeverStored(LogisticsHttpCase):
    def test_no_secret_in_payloads_logs_chatter_or_audit(self):
        collector = _Collect()
        root = logging.getLogger()
        previous_level = root.level
        root.addHandler(collector)
        root.setLevel(logging.DEBUG)
        try:
            # Outbound: success, a transient failure, a rejection and a connection test.
            self.sandbox.inject("status", status=503)
            self.release()
            self.run_jobs(ignore_eta=True)
            self.sandbox.unknown_skus = {"WIDGET-1"}
            self.release()
            self.run_jobs()
            self.backend.action_test_connection()
            # Inbound: a good and a forged delivery, then a configuration change.
            url = f"{self.base_url()}/logistics/webhook/{self.backend.sudo().webhook_token}"
            self.sandbox.send_webhook(
                url,
                "t",
                {
                    "schema": "tracking_event/1",
                    "tracking_number": "X",
                    "status": "in_transit",
                    "occurred_at": "2026-11-20T10:00:00Z",
                },
            )
            self.sandbox.send_webhook(url, "t", {"x": 1}, secret="whsec_" + "QUJD" * 8)
            self.run_jobs()
            self.backend.endpoint_ids.write({"token": PARTNER_TOKEN + "-v2"})
        finally:
            root.removeHandler(collector)
            root.setLevel(previous_level)

        secrets = [PARTNER_TOKEN, WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_")]
        haystacks = {"log records": "\n".join(collector.lines)}
        messages = self.env["logistics.message"].search([("backend_id", "=", self.backend.id)])
        self.assertGreaterEqual(len(messages), 3)
        for message in messages.with_context(bin_size=False):
            for field_name in ("wire_request", "wire_response"):
                raw = message[field_name]
                haystacks[f"{message.name} {field_name}"] = (
                    base64.b64decode(raw).decode(errors="replace") if raw else ""
                )
            haystacks[f"{message.name} headers"] = json.dumps(message.wire_headers)
            haystacks[f"{message.name} error"] = message.error_message or ""
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "logistics.message"), ("res_id", "in", messages.ids)]
        )
        for attachment in attachments:
            haystacks[f"attachment {attachment.id}"] = attachment.raw.decode(errors="replace")
        chatter = self.env["mail.message"].search(
            [("model", "in", ("logistics.backend", "logistics.message", "logistics.exception"))]
        )
        haystacks["chatter"] = json.dumps(
            chatter.read(["body", "subject"]), default=str
        ) + json.dumps(chatter.tracking_value_ids.read(), default=str)
        attempts = self.env["logistics.message.attempt"].search(
            [("message_id", "in", messages.ids)]
        )
        haystacks["attempts"] = json.dumps(attempts.read(["outcome", "error_message"]), default=str)
        jobs = self.env["queue.job"].search([("channel", "=", self.backend.channel_name)])
        haystacks["jobs"] = json.dumps(
            jobs.read(["name", "func_string", "result", "exc_info", "exc_message"]), default=str
        )
        haystacks["partner health"] = self.backend.last_error or ""
        audit = self.env["logistics.audit.log"].search([])
        haystacks["audit"] = json.dumps(audit.read(), default=str)
        exceptions = self.env["logistics.exception"].search([("backend_id", "=", self.backend.id)])
        haystacks["exceptions"] = json.dumps(exceptions.read(["name", "description"]), default=str)
        self.assertTrue(haystacks["log records"], "logging was captured")
        for where, text in haystacks.items():
            for secret in secrets:
                self.assertNotIn(secret, text, f"a secret leaked into {where}")


class TestCredentialsFromServerConfig(LogisticsCase):
    def test_environment_variable_wins_over_the_database(self):
        self.backend.endpoint_ids.token = "stale-database-token"
        key = "LOGISTICS_SANDBOX_3PL_TEST_TOKEN"
        os.environ[key] = PARTNER_TOKEN
        self.addCleanup(os.environ.pop, key, None)
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])

    def test_a_signing_secret_from_the_configuration_is_rotated_there(self):
        key = "LOGISTICS_SANDBOX_3PL_TEST_WEBHOOK_SECRET"
        os.environ[key] = WEBHOOK_SECRET
        self.addCleanup(os.environ.pop, key, None)
        self.assertEqual(self.backend._webhook_secrets(), [WEBHOOK_SECRET])
        with self.assertRaises(UserError):
            self.backend.action_rotate_webhook_secret()

    def test_configuration_file_section_is_read(self):
        self.backend.endpoint_ids.token = "stale-database-token"
        section = config.misc.setdefault("logistics_connector", {})
        section["sandbox_3pl.test.token"] = PARTNER_TOKEN
        self.addCleanup(section.pop, "sandbox_3pl.test.token", None)
        self.assertEqual(self.backend._get_endpoint()["token"], PARTNER_TOKEN)
        self.assertIn(PARTNER_TOKEN, self.backend._secret_values(), "masked like any secret")
        result = self.backend.action_test_connection()
        self.assertEqual(result["params"]["type"], "success", result["params"]["message"])


@tagged("post_install", "-at_install")
class TestSecretsOverRpc(LogisticsHttpCase):
    def rpc(self, model, method, args, kwargs=None):
        return json_rpc(self, model, method, args, kwargs)

    def test_a_user_gets_no_secret_over_json_rpc(self):
        self.user.password = "lc-user-password"
        self.env.flush_all()
        self.authenticate("lc_user", "lc-user-password")
        answer = self.rpc("logistics.backend", "read", [[self.backend.id], ["webhook_secret"]])
        self.assertIn("error", answer)
        self.assertNotIn(WEBHOOK_SECRET, json.dumps(answer))
        answer = self.rpc("logistics.backend", "read", [[self.backend.id]])
        self.assertEqual(answer["result"][0]["name"], "Sandbox 3PL")
        self.assertNotIn("webhook_secret", answer["result"][0])
        self.assertNotIn(WEBHOOK_SECRET, json.dumps(answer))
        answer = self.rpc("logistics.backend.endpoint", "search_read", [[]], {"fields": ["token"]})
        self.assertIn("error", answer)
        self.assertNotIn(PARTNER_TOKEN, json.dumps(answer))

    def test_messages_are_not_made_or_exchanged_over_rpc(self):
        self.manager.password = "lc-manager-password"
        self.env.flush_all()
        self.authenticate("lc_manager", "lc-manager-password")
        document = {"schema": "order_release/1", "reference": "RPC-1"}
        for method, args in (
            ("_create_outbound", [self.backend.id, "order_release", None, document]),
            ("_create_inbound", [self.backend.id, "webhook", "{}"]),
            ("_exchange_now", [self.backend.id, "order_release", None, document]),
        ):
            answer = self.rpc("logistics.message", method, args)
            self.assertIn("Private methods", answer["error"]["data"]["message"], method)
        self.assertFalse(
            self.env["logistics.message"].search([("backend_id", "=", self.backend.id)])
        )


class TestLogisticsUserWithoutInventoryRights(LogisticsCase):
    def test_messages_and_exceptions_open_and_name_their_document_safely(self):
        clerk = new_test_user(
            self.env, login="lc_clerk", groups="logistics_connector_base.group_logistics_user"
        )
        picking = self.make_picking()
        self.sandbox.unknown_skus = {"WIDGET-1"}
        message = self.release(picking)
        self.run_jobs()
        exception = message.exception_ids
        self.assertTrue(exception)
        self.assertFalse(picking.with_user(clerk).has_access("read"))
        expected = f"Transfer #{picking.id}"
        for record in (message, exception):
            fields_read = record.with_user(clerk).read(["name", "document_name"])[0]
            self.assertEqual(fields_read["document_name"], expected)
        self.assertEqual(message.document_name, picking.display_name, "who may read sees it")
