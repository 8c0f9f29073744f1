from odoo.tests import TransactionCase


class TestAdapterRegistration(TransactionCase):
    def test_partner_can_use_the_addon_adapter(self):
        adapters = dict(self.env["logistics.backend"]._fields["adapter"].selection)
        self.assertIn("x12_sftp", adapters)
        backend = self.env["logistics.backend"].create(
            {"name": "Sandbox", "kind": "edi", "adapter": "x12_sftp"}
        )
        self.assertEqual(backend.adapter, "x12_sftp")
