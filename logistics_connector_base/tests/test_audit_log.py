import json
import time
import unittest
from datetime import timedelta

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError
from odoo.modules.registry import Registry
from odoo.tests import HttpCase, TransactionCase, get_db_name, new_test_user, tagged
from odoo.tools import config, mute_logger

from ..models import logistics_audit_log
from ..models.logistics_audit_log import GENESIS_HASH, entry_hash
from .common import CommittedWorkMixin, json_rpc


class AuditCase(TransactionCase):
    """Each test works on companies created for it, so their chains start at the genesis."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env["res.company"].create({"name": "Audit Co A"})
        cls.company_b = cls.env["res.company"].create({"name": "Audit Co B"})
        companies = cls.company_a | cls.company_b
        cls.manager = new_test_user(
            cls.env,
            login="lc_audit_manager",
            groups="logistics_connector_base.group_logistics_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, companies.ids)],
        )
        cls.user_a = new_test_user(
            cls.env,
            login="lc_audit_user_a",
            groups="logistics_connector_base.group_logistics_user",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.Audit = cls.env["logistics.audit.log"]

    def setUp(self):
        super().setUp()
        self.use_audit_keys("")  # plain SHA-256 unless a test configures a key

    def use_audit_keys(self, current, previous=""):
        """The server configuration's [logistics_connector] audit keys for this test."""
        section = {
            **config.misc.get("logistics_connector", {}),
            "audit_key": current,
            "audit_previous_keys": previous,
        }
        self.patch(config, "misc", {**config.misc, "logistics_connector": section})

    def entries(self, company):
        """The company's chain, sealed (as it is right after each commit in production)."""
        self.Audit._seal_pending(company.id)
        return self.Audit.search([("company_id", "=", company.id)], order="sequence")

    def tamper(self, sql, params):
        self.env.flush_all()
        self.env.cr.execute(sql, params)
        self.env.invalidate_all()


class TestAuditChain(AuditCase):
    def test_entries_are_chained_per_company(self):
        record = self.Audit.record
        record("send", "A1", company=self.company_a, correlation_id="corr-1")
        record("send", "B1", company=self.company_b)
        record("receive", "A2", company=self.company_a)
        record("retry", "A3", company=self.company_a)
        record("other", "B2", company=self.company_b)

        chain_a, chain_b = self.entries(self.company_a), self.entries(self.company_b)
        self.assertEqual(chain_a.mapped("summary"), ["A1", "A2", "A3"])
        self.assertEqual(chain_a.mapped("sequence"), [1, 2, 3])
        self.assertEqual(chain_b.mapped("sequence"), [1, 2])
        self.assertEqual(chain_a[0].prev_hash, GENESIS_HASH)
        self.assertEqual(chain_a[1].prev_hash, chain_a[0].entry_hash)
        self.assertEqual(chain_a[2].prev_hash, chain_a[1].entry_hash)
        self.assertEqual(chain_b[1].prev_hash, chain_b[0].entry_hash)
        self.assertEqual(len(set(chain_a.mapped("entry_hash"))), 3)
        self.assertEqual(chain_a[0].correlation_id, "corr-1")

        result = self.Audit._verify_chain(self.company_a)
        self.assertTrue(result["ok"])
        self.assertEqual(result["count"], 3)
        self.assertEqual(result["message"], "Chain intact: 3 entries verified")
        self.assertEqual(self.Audit._verify_chain(self.company_b)["count"], 2)

    def test_any_user_records_and_is_named_as_the_actor(self):
        entry = self.Audit.with_user(self.user_a).record("other", "Done by a user")
        self.assertEqual(entry.sudo().user_id, self.user_a)
        self.assertEqual(entry.sudo().company_id, self.company_a, "the user's current company")
        self.assertEqual(entry.with_user(self.user_a).summary, "Done by a user", "users read")

    def test_links_message_document_and_correlation(self):
        partner = self.env["res.partner"].create({"name": "Audited Customer"})
        entry = self.Audit.record(
            "state_change", "Partner touched", record=partner, company=self.company_a
        )
        self.assertEqual((entry.res_model, entry.res_id), ("res.partner", partner.id))
        self.assertEqual(entry.record_name, "Audited Customer")
        action = entry.action_open_document()
        self.assertEqual((action["res_model"], action["res_id"]), ("res.partner", partner.id))
        with self.assertRaises(ValueError):
            self.Audit.record("made_up_event", "Nope")

    def test_secret_keys_are_redacted_before_storage(self):
        entry = self.Audit.record(
            "config_change",
            "Credentials rotated",
            company=self.company_a,
            details={
                "password": "hunter2-very-secret",
                "endpoint": {"api_key": "ak-1234567890", "base_url": "https://3pl.example"},
                "headers": [{"Authorization": "Bearer tok-abcdef"}],
                "client_secret": "",
                "note": "rotated on request of the partner",
            },
        )
        self.assertNotIn("hunter2-very-secret", entry.details)
        self.assertNotIn("ak-1234567890", entry.details)
        self.assertNotIn("tok-abcdef", entry.details)
        details = json.loads(entry.details)
        self.assertEqual(details["password"], "********")
        self.assertEqual(details["endpoint"]["api_key"], "********")
        self.assertEqual(details["endpoint"]["base_url"], "https://3pl.example")
        self.assertEqual(details["client_secret"], "", "an empty secret shows it is not set")
        self.assertEqual(details["note"], "rotated on request of the partner")
        self.assertTrue(self.Audit._verify_chain(self.company_a)["ok"])


class TestAuditDetails(AuditCase):
    def test_urls_in_details_keep_no_user_info_or_query(self):
        entry = self.Audit.record(
            "other",
            "Called the partner",
            company=self.company_a,
            details={"url": "https://ops:pw-123@api.example/v1/orders?api_key=k-456&page=1"},
        )
        self.assertNotIn("pw-123", entry.details)
        self.assertNotIn("k-456", entry.details)
        self.assertIn("api.example/v1/orders", entry.details)


class TestAuditAppendOnly(AuditCase):
    def test_orm_cannot_change_delete_or_forge_entries(self):
        entry = self.Audit.record("send", "Original", company=self.company_a)
        with self.assertRaisesRegex(UserError, "Audit entries cannot be changed"):
            entry.sudo().write({"summary": "Rewritten"})
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            entry.sudo().unlink()
        with self.assertRaisesRegex(UserError, "written by the system only"):
            self.Audit.sudo().create(
                {
                    "company_id": self.company_a.id,
                    "event": "send",
                    "summary": "Forged",
                    "sequence": 2,
                }
            )
        with self.assertRaises(UserError):
            entry.sudo().copy()
        self.assertEqual(entry.summary, "Original")
        self.assertTrue(self.Audit._verify_chain(self.company_a)["ok"])

    def test_rpc_rights_are_read_only_for_everyone(self):
        entry = self.Audit.record("send", "Read me", company=self.company_a)
        for user in (self.user_a, self.manager):
            as_user = entry.with_user(user)
            self.assertEqual(as_user.summary, "Read me")
            with self.assertRaisesRegex(UserError, "cannot be changed"):
                as_user.write({"summary": "x"})
            with self.assertRaises(AccessError):
                as_user.unlink()
            with self.assertRaisesRegex(UserError, "written by the system only"):
                self.Audit.with_user(user).create({"event": "send", "summary": "x"})
            # Whatever the context: entries are appended in SQL by record() only.
            with self.assertRaisesRegex(UserError, "written by the system only"):
                self.Audit.with_user(user).sudo().create(
                    {"event": "send", "summary": "x", "sequence": 99}
                )
            # Even a client that sends the internal context flag has no unlink right.
            with self.assertRaises(AccessError):
                as_user.with_context(_logistics_audit_purge=True).unlink()
        self.assertTrue(self.Audit._verify_chain(self.company_a)["ok"])


@tagged("post_install", "-at_install")
class TestAuditOverRpc(HttpCase):
    def test_record_cannot_be_called_over_json_rpc(self):
        new_test_user(
            self.env,
            login="lc_audit_rpc_user",
            password="lc_audit_rpc_user",
            groups="logistics_connector_base.group_logistics_user",
        )
        self.authenticate("lc_audit_rpc_user", "lc_audit_rpc_user")
        answer = json_rpc(self, "logistics.audit.log", "record", ["resolve", "Forged over RPC"])
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        self.assertIn("cannot be called remotely", answer["error"]["data"]["message"])
        self.assertFalse(
            self.env["logistics.audit.log"].search([("summary", "=", "Forged over RPC")])
        )
        # The same session reads the audit log: only the forging method is closed.
        answer = json_rpc(self, "logistics.audit.log", "search_count", [[]])
        self.assertIsInstance(answer["result"], int)


class TestAuditVerification(AuditCase):
    def _five_entries(self):
        for index in range(1, 6):
            self.Audit.record("send", f"Entry {index}", company=self.company_a)
        return self.entries(self.company_a)

    def test_verify_names_the_first_entry_changed_in_sql(self):
        entries = self._five_entries()
        self.tamper(
            "UPDATE logistics_audit_log SET summary = 'Nothing to see' WHERE id IN %s",
            (tuple(entries[1:4:2].ids),),  # sequences 2 and 4
        )
        result = self.Audit._verify_chain(self.company_a)
        self.assertFalse(result["ok"])
        self.assertEqual(result["entry_id"], entries[1].id)
        self.assertEqual(result["sequence"], 2)
        self.assertEqual(result["count"], 1)
        self.assertIn("content changed", result["reason"])

        action = self.Audit.with_user(self.manager).action_verify_chain()
        params = action["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn(
            f"Chain broken at entry #{entries[1].id} (sequence 2): content changed",
            params["message"],
        )

    def test_verify_detects_a_forged_entry_with_a_recomputed_hash_by_the_next_link(self):
        entries = self._five_entries()
        # A forger who rewrites an entry and recomputes its own hash still breaks the link
        # the next entry holds.
        self.env.cr.execute("SELECT * FROM logistics_audit_log WHERE id = %s", (entries[2].id,))
        row = self.env.cr.dictfetchone()
        row["summary"] = "Forged"
        self.tamper(
            "UPDATE logistics_audit_log SET summary = %s, entry_hash = %s WHERE id = %s",
            (row["summary"], entry_hash(row), entries[2].id),
        )
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual((result["entry_id"], result["sequence"]), (entries[3].id, 4))
        self.assertIn("link missing", result["reason"])
        self.assertEqual(result["count"], 3, "the forged entry itself looks consistent")

    def test_with_an_audit_key_a_forger_without_it_cannot_reseal_an_entry(self):
        self.use_audit_keys("first-audit-key-0123456789")
        entries = self._five_entries()
        self.assertTrue(self.Audit._verify_chain(self.company_a)["ok"])
        self.assertEqual(len(set(entries.mapped("hash_key_id"))), 1)
        self.assertNotIn("first-audit-key", entries[0].hash_key_id)
        self.env.cr.execute("SELECT * FROM logistics_audit_log WHERE id = %s", (entries[2].id,))
        row = self.env.cr.dictfetchone()
        row["summary"] = "Forged"
        self.tamper(
            "UPDATE logistics_audit_log SET summary = %s, entry_hash = %s WHERE id = %s",
            (row["summary"], entry_hash(row), entries[2].id),
        )
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual(result["entry_id"], entries[2].id, "caught at the forged entry itself")
        self.assertIn("content changed", result["reason"])

    def test_a_rotated_audit_key_keeps_verifying_what_it_sealed(self):
        self.use_audit_keys("old-audit-key-0123456789")
        self._five_entries()
        self.use_audit_keys("new-audit-key-9876543210", previous="old-audit-key-0123456789")
        self.Audit.record("send", "After the rotation", company=self.company_a)
        entries = self.entries(self.company_a)
        self.assertEqual(len(set(entries.mapped("hash_key_id"))), 2)
        result = self.Audit._verify_chain(self.company_a)
        self.assertTrue(result["ok"], result)
        self.use_audit_keys("new-audit-key-9876543210")
        result = self.Audit._verify_chain(self.company_a)
        self.assertFalse(result["ok"])
        self.assertIn("add that key to audit_previous_keys", result["reason"])

    def test_verify_detects_removed_entries(self):
        entries = self._five_entries()
        self.tamper("DELETE FROM logistics_audit_log WHERE id = %s", (entries[2].id,))
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual((result["entry_id"], result["sequence"]), (entries[3].id, 4))
        self.assertIn("link missing", result["reason"])

    def test_verify_detects_removed_newest_and_oldest_entries(self):
        entries = self._five_entries()
        self.tamper("DELETE FROM logistics_audit_log WHERE id = %s", (entries[4].id,))
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual(result["entry_id"], entries[3].id, "the last entry left names the gap")
        self.assertIn("newer entries up to sequence 5 were removed", result["reason"])

        self.tamper("DELETE FROM logistics_audit_log WHERE id = %s", (entries[0].id,))
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual(result["entry_id"], entries[1].id)
        self.assertIn("outside the retention purge", result["reason"])

    def test_verify_detects_a_repointed_reference(self):
        backend = self.env["logistics.backend"].create(
            {"name": "Audit Ref 3PL", "code": "audit_ref_3pl", "company_id": self.company_a.id}
        )
        other = self.env["logistics.backend"].create(
            {"name": "Audit Other 3PL", "code": "audit_other_3pl", "company_id": self.company_a.id}
        )
        entry = self.Audit.record("send", "Sent", backend=backend)
        self.assertEqual(entry.company_id, self.company_a, "company taken from the partner")
        self.tamper(
            "UPDATE logistics_audit_log SET backend_id = %s WHERE id = %s", (other.id, entry.id)
        )
        result = self.Audit._verify_chain(self.company_a)
        self.assertEqual(result["entry_id"], entry.id)
        self.assertIn("content changed", result["reason"])

    def test_only_managers_verify(self):
        self.Audit.record("send", "Entry", company=self.company_a)
        with self.assertRaises(AccessError):
            self.Audit.with_user(self.user_a).action_verify_chain()
        action = self.Audit.with_user(self.manager).action_verify_chain()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Audit Co A: Chain intact: 1 entries verified", action["params"]["message"])


class TestAuditRetention(AuditCase):
    def test_purge_removes_the_oldest_prefix_and_keeps_the_chain_verifiable(self):
        real_now = self.env.cr.now()
        self.env.cr._now = real_now - timedelta(days=400)  # the entries' create_date
        for index in range(1, 4):
            self.Audit.record("send", f"Old {index}", company=self.company_a)
        self.Audit.record("send", "Old, other company", company=self.company_b)
        self.env.cr._now = real_now
        for index in range(1, 3):
            self.Audit.record("send", f"Recent {index}", company=self.company_a)
        old = self.entries(self.company_a)[:3]
        anchor = old[-1].entry_hash

        removed = self.Audit._purge_older_than(365)

        self.assertEqual(removed, 4)
        chain = self.entries(self.company_a)
        self.assertEqual(chain.mapped("summary")[:2], ["Recent 1", "Recent 2"])
        self.assertEqual(chain[0].sequence, 4)
        purge = chain[-1]
        self.assertEqual(purge.event, "purge")
        self.assertEqual(json.loads(purge.details)["purged_through_sequence"], 3)
        self.assertEqual(json.loads(purge.details)["anchor_hash"], anchor)
        result = self.Audit._verify_chain(self.company_a)
        self.assertTrue(result["ok"], result["message"])
        self.assertEqual(result["count"], 3)
        # Company B lost its only entry: its purge entry alone continues the chain.
        chain_b = self.entries(self.company_b)
        self.assertEqual(chain_b.mapped("event"), ["purge"])
        self.assertTrue(self.Audit._verify_chain(self.company_b)["ok"])
        # Removing more by hand afterwards is still detected.
        self.tamper("DELETE FROM logistics_audit_log WHERE id = %s", (chain[0].id,))
        self.assertFalse(self.Audit._verify_chain(self.company_a)["ok"])

    def test_purge_goes_in_batches_and_each_cut_verifies(self):
        real_now = self.env.cr.now()
        self.env.cr._now = real_now - timedelta(days=400)
        for index in range(1, 6):
            self.Audit.record("send", f"Old {index}", company=self.company_a)
        self.env.cr._now = real_now
        self.Audit.record("send", "Recent", company=self.company_a)

        removed = []
        for _run in range(4):
            removed.append(self.Audit._purge_older_than(365, batch_size=2))
            result = self.Audit._verify_chain(self.company_a)
            self.assertTrue(result["ok"], result["message"])
        self.assertEqual(removed, [2, 2, 1, 0], "at most 2 per call, until nothing is old")
        chain = self.entries(self.company_a)
        self.assertEqual(chain.mapped("summary")[0], "Recent")
        purges = chain.filtered(lambda entry: entry.event == "purge")
        self.assertEqual(
            [json.loads(entry.details)["purged_through_sequence"] for entry in purges], [2, 4, 5]
        )

    def test_purge_needs_a_sensible_retention(self):
        for days in (0, -5, "30", 1.5, None):
            with self.assertRaises(UserError):
                self.Audit._purge_older_than(days)
        for batch_size in (0, -1, 2.5, True):
            with self.assertRaises(UserError):
                self.Audit._purge_older_than(30, batch_size=batch_size)
        self.Audit.record("send", "Fresh", company=self.company_a)
        self.assertEqual(self.Audit._purge_older_than(30), 0, "nothing that young is purged")
        self.assertEqual(len(self.entries(self.company_a)), 1)


class TestAuditedConfiguration(AuditCase):
    def test_backend_changes_are_audited_old_to_new_with_secrets_redacted(self):
        Backend = self.env["logistics.backend"].with_user(self.manager)
        backend = Backend.create(
            {
                "name": "Mixin 3PL",
                "code": "mixin_3pl",
                "company_id": self.company_a.id,
                "webhook_secret": "whsec_first-secret-value",
            }
        )
        created = self.entries(self.company_a).filtered(lambda e: e.backend_id == backend)
        self.assertEqual(len(created), 1)
        self.assertEqual(created.event, "config_change")
        self.assertEqual(created.user_id, self.manager)
        self.assertIn("created", created.summary)
        self.assertNotIn("first-secret-value", created.details)
        changes = {c["field"]: c for c in json.loads(created.details)["changes"]}
        self.assertEqual(changes["webhook_secret"]["new"], "(set)")
        self.assertEqual(changes["name"]["new"], "Mixin 3PL")

        backend.write(
            {
                "name": "Mixin 3PL East",
                "environment": "production",
                "webhook_secret": "whsec_second-secret-value",
            }
        )
        changed = self.entries(self.company_a)[-1]
        self.assertEqual(changed.backend_id, backend)
        self.assertNotIn("secret-value", changed.details)
        self.assertNotIn("secret-value", changed.summary)
        changes = {c["field"]: c for c in json.loads(changed.details)["changes"]}
        self.assertEqual(
            (changes["name"]["old"], changes["name"]["new"]), ("Mixin 3PL", "Mixin 3PL East")
        )
        self.assertEqual(
            (changes["environment"]["old"], changes["environment"]["new"]), ("Test", "Production")
        )
        self.assertEqual(changes["webhook_secret"]["new"], "(changed)")

        count = len(self.entries(self.company_a))
        backend.write({"name": "Mixin 3PL East"})
        self.assertEqual(len(self.entries(self.company_a)), count, "no change, no entry")

        backend.write({"webhook_secret": False})
        cleared = json.loads(self.entries(self.company_a)[-1].details)["changes"][0]
        self.assertEqual((cleared["old"], cleared["new"]), ("(set)", "(cleared)"))

        backend_id = backend.id
        backend.unlink()
        deleted = self.entries(self.company_a)[-1]
        self.assertIn("deleted", deleted.summary)
        self.assertFalse(deleted.backend_id, "the partner is gone")
        self.assertEqual(deleted.backend_ref, backend_id, "but the entry still names it")
        self.assertTrue(self.Audit._verify_chain(self.company_a)["ok"])

    def test_mapping_changes_are_audited(self):
        backend = self.env["logistics.backend"].create(
            {"name": "Mapping 3PL", "code": "mapping_3pl", "company_id": self.company_a.id}
        )
        mapping = self.env["logistics.mapping"].create(
            {
                "backend_id": backend.id,
                "mapping_type": "warehouse",
                "odoo_value": "WH",
                "partner_value": "P-WH-1",
            }
        )
        mapping.write({"partner_value": "P-WH-2"})
        entry = self.entries(self.company_a)[-1]
        self.assertEqual(entry.backend_id, backend)
        self.assertEqual((entry.res_model, entry.res_id), ("logistics.mapping", mapping.id))
        change = json.loads(entry.details)["changes"][0]
        self.assertEqual((change["old"], change["new"]), ("P-WH-1", "P-WH-2"))


class CommittedAuditCase(CommittedWorkMixin, unittest.TestCase):
    """Real transactions appending to the main company's chain, as workers would. Everything
    committed here is removed again and the chain head restored."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.company_id = env.ref("base.main_company").id
            env["logistics.audit.log"]._seal_pending(self.company_id)
            self.save_audit_head(cr, self.company_id)
        self.entry_ids = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            if self.entry_ids:
                cr.execute(
                    "DELETE FROM logistics_audit_log WHERE id IN %s", (tuple(self.entry_ids),)
                )
            self.restore_audit_head(cr)

    def _record(self, cr, summary):
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].browse(self.company_id)
        entry_id = env["logistics.audit.log"].record("other", summary, company=company).id
        self.entry_ids.append(entry_id)
        return entry_id

    def _sealed(self, entry_id):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT sequence, prev_hash, entry_hash FROM logistics_audit_log WHERE id = %s",
                (entry_id,),
            )
            return cr.fetchone()

    def _head(self):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT last_sequence, last_hash FROM logistics_audit_chain WHERE company_id = %s",
                (self.company_id,),
            )
            return cr.fetchone()

    def _cron_seal(self):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["logistics.audit.log"]._cron_seal_pending()


class TestAuditConcurrentAppends(CommittedAuditCase):
    def test_overlapping_appenders_neither_wait_nor_fork_the_chain(self):
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            cr_b.execute("SELECT 1")  # worker B's transaction (and snapshot) starts first
            first = self._record(cr_a, "Worker A")
            # B appends while A's transaction is still open: a plain insert, no lock to wait on.
            second = self._record(cr_b, "Worker B")
            cr_a.commit()  # each commit seals its own entries right after
            cr_b.commit()
        first_sealed, second_sealed = self._sealed(first), self._sealed(second)
        self.assertTrue(first_sealed[0] and second_sealed[0], "both sealed after their commits")
        self.assertEqual(second_sealed[0], first_sealed[0] + 1)
        self.assertEqual(second_sealed[1], first_sealed[2], "B links to A's entry")
        self.assertEqual(self._head(), (second_sealed[0], second_sealed[2]))


class TestAuditSealAfterCommit(CommittedAuditCase):
    """The seal runs inside commit(), after the business transaction committed: it must neither
    wait nor raise, and what it leaves unsealed the sealing cron seals."""

    def test_a_seal_finding_the_chain_head_locked_skips_and_the_cron_seals_later(self):
        head = self._head()
        with self.registry.cursor() as cr_lock:
            # Another seal (or a purge) holds the company's chain head.
            cr_lock.execute(
                "SELECT 1 FROM logistics_audit_chain WHERE company_id = %s FOR UPDATE",
                (self.company_id,),
            )
            with self.registry.cursor() as cr_worker:
                entry_id = self._record(cr_worker, "Committed while the head is locked")
                started = time.monotonic()
                cr_worker.commit()  # neither waits for the lock nor raises
                elapsed = time.monotonic() - started
            self.assertLess(elapsed, 2, "skipped at once instead of waiting for the lock")
            self.assertEqual(self._sealed(entry_id), (None, None, None), "left for later")
        self._cron_seal()
        sequence, prev_hash, _hash = self._sealed(entry_id)
        self.assertEqual((sequence, prev_hash), (head[0] + 1, head[1]), "next in the chain")

    def test_a_failing_seal_is_logged_and_the_commit_still_succeeds(self):
        with self.registry.cursor() as cr:
            sealed_id = self._record(cr, "Sealed normally")
        sealed = self._sealed(sealed_id)
        # A head one position behind makes the next seal collide with that entry's position:
        # a real database error inside the post-commit seal.
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE logistics_audit_chain SET last_sequence = last_sequence - 1 "
                "WHERE company_id = %s",
                (self.company_id,),
            )
        with (
            self.registry.cursor() as cr_worker,
            mute_logger("odoo.sql_db"),
            self.assertLogs("odoo.addons.logistics_connector_base.models", "WARNING") as logs,
        ):
            entry_id = self._record(cr_worker, "Committed, then the seal fails")
            cr_worker.commit()  # does not raise: the business transaction is committed
        self.assertIn("audit seal failed after commit", logs.output[0])
        self.assertIn("UniqueViolation", logs.output[0])
        self.assertEqual(self._sealed(entry_id), (None, None, None))
        self.assertTrue(self._committed(entry_id), "the business transaction was kept")
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE logistics_audit_chain SET last_sequence = %s, last_hash = %s "
                "WHERE company_id = %s",
                (sealed[0], sealed[2], self.company_id),
            )
        self._cron_seal()
        self.assertEqual(self._sealed(entry_id)[:2], (sealed[0] + 1, sealed[2]))

    def _committed(self, entry_id):
        with self.registry.cursor() as cr:
            cr.execute("SELECT 1 FROM logistics_audit_log WHERE id = %s", (entry_id,))
            return bool(cr.fetchone())


class TestAuditSealPacing(CommittedAuditCase):
    """A busy worker seals at most once per period: the commits in between are sealed together
    when it is over."""

    def test_commits_within_the_period_are_sealed_together_when_it_ends(self):
        logistics_audit_log.SEAL_PERIOD = 0.5  # put back by the case's cleanup
        logistics_audit_log._SEAL_PACER._last_seal.pop(self.registry.db_name, None)
        with self.registry.cursor() as cr:
            first = self._record(cr, "Sealed right after its commit")
        first_sealed = self._sealed(first)
        self.assertTrue(first_sealed[0], "the first commit of a period is sealed at once")
        with self.registry.cursor() as cr:
            second = self._record(cr, "Committed within the period")
        with self.registry.cursor() as cr:
            third = self._record(cr, "Committed within the period too")
        self.assertEqual(self._sealed(second), (None, None, None), "waits for the period's end")
        deadline = time.monotonic() + 10
        while self._sealed(third)[0] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        second_sealed, third_sealed = self._sealed(second), self._sealed(third)
        self.assertEqual(second_sealed[0], first_sealed[0] + 1)
        self.assertEqual(second_sealed[1], first_sealed[2], "linked to the entry before")
        self.assertEqual(third_sealed[0], first_sealed[0] + 2)
        self.assertEqual(third_sealed[1], second_sealed[2])
        self.assertEqual(self._head(), (third_sealed[0], third_sealed[2]))
