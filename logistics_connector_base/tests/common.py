"""Shared fixtures: a real loopback partner, a configured partner record, real queue_job jobs."""

import json
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.addons.queue_job.job import Job
from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tools import config
from tests.sandboxes import GenericPartnerSandbox

PARTNER_TOKEN = "sandbox-bearer-t0ken-7f3a9c"
WEBHOOK_SECRET = "whsec_c2VjcmV0LWZvci10aGUtbG9naXN0aWNzLXRlc3RzLTAx"


def json_rpc(case, model, method, args, kwargs=None):
    """Call a model method the way the web client does, in the case's HTTP session."""
    return case.url_open(
        f"/web/dataset/call_kw/{model}/{method}",
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
            }
        ),
        headers={"Content-Type": "application/json"},
    ).json()


class AdapterContractMixin:
    """The plug-in contract every addon's tests check: a selectable adapter has its model."""

    def assert_every_adapter_has_its_model(self):
        selection = self.env["logistics.backend"]._fields["adapter"].selection
        codes = [code for code, _label in selection]
        self.assertIn("generic_rest", codes)
        for code in codes:
            self.assertIn(
                f"logistics.adapter.{code}",
                self.env,
                f"adapter {code} is selectable but has no model logistics.adapter.{code}",
            )


class LogisticsJobsMixin:
    """Runs the jobs queue_job really stored, the way its runner would, minus the HTTP hop."""

    def run_jobs(self, ignore_eta=False, limit=50, only=None):
        """Perform every pending job (those due now, or all with ignore_eta) until none is left
        or `limit` jobs ran; `only` restricts to the jobs of one message. Returns the results."""
        results = []
        for _ in range(limit):
            # Only this test's partner: demo data leaves jobs of its own in the database.
            domain = [
                ("state", "in", ("pending", "enqueued")),
                ("channel", "=", self.backend.channel_name),
            ]
            if only:
                domain.append(("func_string", "=", f"{only!r}._process()"))
            if not ignore_eta:
                domain += ["|", ("eta", "=", False), ("eta", "<=", fields.Datetime.now())]
            record = self.env["queue.job"].search(domain, order="id", limit=1)
            if not record:
                break
            job = Job.load(self.env, record.uuid)
            job.set_started()
            job.store()
            job.perform()
            job.set_done()
            job.store()
            results.append(job.result)
        return results

    def jobs_for(self, message):
        return self.env["queue.job"].search(
            [("func_string", "=", f"{message!r}._process()")],
            order="id",
        )


class PipelineCaseMixin(LogisticsJobsMixin):
    """For test classes that run the pipeline against partners on loopback (the base's and
    every partner addon's): the transports' requests are let through Odoo's test guard, and
    the pipeline's own cursors (attempt log, synchronous exchanges) share the test's
    transaction, as in Odoo's HttpCase."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo 18.0's test guard compares the timeout with a number, but the transports pass
        # (connect, read) tuples, as requests allows.
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.registry.in_test_mode():
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)


class LogisticsCase(PipelineCaseMixin, TransactionCase):
    """A partner record wired to a real GenericPartnerSandbox on loopback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = GenericPartnerSandbox(
            auth={"kind": "bearer", "token": PARTNER_TOKEN}, webhook_secret=WEBHOOK_SECRET
        )
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.backend = cls.env["logistics.backend"].create(
            {
                "name": "Sandbox 3PL",
                "code": "sandbox_3pl",
                "kind": "3pl",
                "adapter": "generic_rest",
                "max_attempts": 3,
                "backoff_base": 10,
                "backoff_cap": 600,
                "backoff_jitter": 0.0,
                "breaker_threshold": 3,
                "breaker_cooldown": 60,
                "connect_timeout": 2,
                "read_timeout": 3,
                "webhook_secret": WEBHOOK_SECRET,
                "endpoint_ids": [
                    (
                        0,
                        0,
                        {
                            "environment": "test",
                            "base_url": cls.sandbox.base_url,
                            "auth_kind": "bearer",
                            "token": PARTNER_TOKEN,
                        },
                    )
                ],
            }
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.env.company.id)], limit=1
        )
        cls.env["logistics.mapping"].create(
            {
                "backend_id": cls.backend.id,
                "mapping_type": "warehouse",
                "odoo_value": cls.warehouse.code,
                "partner_value": "SBX-WH1",
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Ada Customer",
                "street": "1 Loop Road",
                "city": "Localhost",
                "zip": "12345",
                "country_id": cls.env.ref("base.us").id,
            }
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Widget", "default_code": "WIDGET-1", "is_storable": True}
        )
        cls.manager = new_test_user(
            cls.env,
            login="lc_manager",
            groups="logistics_connector_base.group_logistics_manager,stock.group_stock_user",
        )
        cls.user = new_test_user(
            cls.env,
            login="lc_user",
            groups="logistics_connector_base.group_logistics_user,stock.group_stock_user",
        )

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def make_picking(self, quantity=3.0, product=None):
        picking_type = self.warehouse.out_type_id
        product = product or self.product
        return self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": self.customer.id,
                "location_id": picking_type.default_location_src_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": picking_type.default_location_src_id.id,
                            "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                        },
                    )
                ],
            }
        )

    def release(self, picking=None, **kwargs):
        picking = picking or self.make_picking()
        return self.env["logistics.message"]._create_outbound(
            self.backend, "order_release", picking, **kwargs
        )

    def age_breaker(self, seconds):
        """Move the breaker's opening into the past, as if the cool-down had elapsed."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE logistics_backend SET breaker_opened_at = breaker_opened_at - %s WHERE id = %s",
            (timedelta(seconds=seconds), self.backend.id),
        )
        self.backend.invalidate_recordset()


class PartnerPostsMixin:
    """For HttpCase classes whose partners post to Odoo (webhooks): they post without a
    session, so Odoo's database selection points at the test database for the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        previous = config["dbfilter"]
        config["dbfilter"] = f"^{cls.env.cr.dbname}$"
        cls.addClassCleanup(config.__setitem__, "dbfilter", previous)


class LogisticsHttpCase(PartnerPostsMixin, LogisticsCase, HttpCase):
    """A LogisticsCase whose sandbox posts its signed webhooks to the test server."""


def seal_after_every_commit(case):
    """Tests that really commit check the audit chain right after each commit: their seals
    are not paced (see SEAL_PERIOD) for the test's duration."""
    from ..models import logistics_audit_log

    period = logistics_audit_log.SEAL_PERIOD
    logistics_audit_log.SEAL_PERIOD = 0
    case.addCleanup(setattr, logistics_audit_log, "SEAL_PERIOD", period)


class CommittedWorkMixin:
    """For tests whose workers really commit: remember the main company's audit chain head and
    put it back after deleting the test's entries, so the shared database's chain stays whole.
    Each commit's entries are sealed right after it."""

    def setUp(self):
        super().setUp()
        seal_after_every_commit(self)

    def save_audit_head(self, cr, company_id):
        cr.execute(
            "SELECT last_sequence, last_hash FROM logistics_audit_chain WHERE company_id = %s",
            (company_id,),
        )
        self._saved_audit_head = (company_id, cr.fetchone())

    def create_committed_partner(self, registry, values):
        """A partner committed for real (its work is removed again after the test), with the
        audit chain head remembered first. Returns its id."""
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company_id = env.ref("base.main_company").id
            env["logistics.audit.log"]._seal_pending(company_id)
            self.save_audit_head(cr, company_id)
            backend_id = env["logistics.backend"].create(values).id

        def cleanup():
            with registry.cursor() as cr:
                self.delete_partner_and_its_work(cr, backend_id, values["code"])

        self.addCleanup(cleanup)
        return backend_id

    def delete_partner_and_its_work(self, cr, backend_id, code):
        """Remove a committed test partner with its messages, jobs, exceptions and audit
        entries, and put the audit chain head back."""
        cr.execute(
            "DELETE FROM queue_job WHERE func_string LIKE 'logistics.message(%%' AND id IN "
            "(SELECT j.id FROM queue_job j JOIN logistics_message m "
            "ON j.func_string = 'logistics.message(' || m.id || ',)._process()' "
            "WHERE m.backend_id = %s)",
            (backend_id,),
        )
        for table, column in (
            ("mail_activity", "res_model"),
            ("mail_message", "model"),
            ("mail_followers", "res_model"),
        ):
            cr.execute(
                f"DELETE FROM {table} WHERE {column} = 'logistics.exception' AND res_id IN "
                "(SELECT id FROM logistics_exception WHERE backend_id = %s)",
                (backend_id,),
            )
            cr.execute(
                f"DELETE FROM {table} WHERE {column} = 'logistics.backend' AND res_id = %s",
                (backend_id,),
            )
        cr.execute("DELETE FROM logistics_exception WHERE backend_id = %s", (backend_id,))
        cr.execute("DELETE FROM logistics_message WHERE backend_id = %s", (backend_id,))
        cr.execute("DELETE FROM logistics_audit_log WHERE backend_ref = %s", (backend_id,))
        self.restore_audit_head(cr)
        cr.execute("DELETE FROM logistics_backend WHERE id = %s", (backend_id,))
        cr.execute("DELETE FROM queue_job_channel WHERE name = %s", (code,))

    def restore_audit_head(self, cr):
        company_id, head = self._saved_audit_head
        if head:
            cr.execute(
                "UPDATE logistics_audit_chain SET last_sequence = %s, last_hash = %s "
                "WHERE company_id = %s",
                (*head, company_id),
            )
        else:
            cr.execute("DELETE FROM logistics_audit_chain WHERE company_id = %s", (company_id,))
