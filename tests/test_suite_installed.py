"""Cross-module checks on the installed suite."""

from odoo.tests import TransactionCase


class TestSuiteInstalled(TransactionCase):
    def test_every_addon_is_installed_with_an_18_0_version(self):
        modules = self.env["ir.module.module"].search([("name", "=like", "logistics_connector_%")])
        self.assertEqual(
            sorted(modules.mapped("name")),
            [
                "logistics_connector_3pl",
                "logistics_connector_base",
                "logistics_connector_carrier",
                "logistics_connector_edi",
            ],
        )
        for module in modules:
            self.assertEqual(module.state, "installed", module.name)
            self.assertTrue(module.installed_version.startswith("18.0."), module.name)

    def test_queue_job_is_installed_for_the_pipeline(self):
        queue_job = self.env["ir.module.module"].search([("name", "=", "queue_job")])
        self.assertEqual(queue_job.state, "installed")
