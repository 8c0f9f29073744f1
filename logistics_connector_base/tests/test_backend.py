from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user


class TestLogisticsBackend(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="lc_user", groups="logistics_connector_base.group_logistics_user"
        )

    def test_defaults_and_user_is_read_only(self):
        backend = self.env["logistics.backend"].create({"name": "Acme 3PL"})
        self.assertEqual(backend.company_id, self.env.company)
        self.assertEqual(backend.environment, "test", "a new partner starts on its test endpoints")
        self.assertEqual(backend.with_user(self.user).name, "Acme 3PL")
        with self.assertRaises(AccessError):
            backend.with_user(self.user).write({"environment": "production"})
