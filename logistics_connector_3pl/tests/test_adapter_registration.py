from odoo.tests import TransactionCase


class TestAdapterRegistration(TransactionCase):
    def test_partner_can_use_the_addon_adapter(self):
        adapters = dict(self.env["logistics.backend"]._fields["adapter"].selection)
        self.assertIn("3pl_rest", adapters)
        backend = self.env["logistics.backend"].create(
            {"name": "Sandbox", "kind": "3pl", "adapter": "3pl_rest"}
        )
        self.assertEqual(backend.adapter, "3pl_rest")
