from odoo.tests import TransactionCase


class TestAdapterRegistration(TransactionCase):
    def test_partner_can_use_the_addon_adapter(self):
        adapters = dict(self.env["logistics.backend"]._fields["adapter"].selection)
        self.assertIn("carrier_soap", adapters)
        backend = self.env["logistics.backend"].create(
            {"name": "Sandbox", "kind": "carrier", "adapter": "carrier_soap"}
        )
        self.assertEqual(backend.adapter, "carrier_soap")
