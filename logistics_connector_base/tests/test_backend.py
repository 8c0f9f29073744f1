import os

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import config

from ..lib.errors import ConfigurationError
from .common import AdapterContractMixin


class TestLogisticsBackend(AdapterContractMixin, TransactionCase):
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

    def test_every_selectable_adapter_has_its_model(self):
        self.assert_every_adapter_has_its_model()

    def _register_code_without_model(self):
        """What an addon that adds a code to the selection but not its model would do."""
        field = self.env["logistics.backend"]._fields["adapter"]
        selection = [*field.selection, ("ghost_rest", "Ghost REST")]
        self.patch(field, "selection", selection)
        self.patch(field, "_selection", dict(selection))

    def test_adapter_without_its_model_is_refused_at_save(self):
        self._register_code_without_model()
        backend = self.env["logistics.backend"].create({"name": "Ghost"})
        with self.assertRaisesRegex(ValidationError, "Ghost REST cannot be used yet"):
            backend.write({"adapter": "ghost_rest"})
            backend.flush_recordset()

    def test_missing_adapter_model_is_a_configuration_error_in_plain_words(self):
        backend = self.env["logistics.backend"].create({"name": "Half uninstalled"})
        # What an addon removed from under a saved partner leaves behind.
        self.env.cr.execute(
            "UPDATE logistics_backend SET adapter = 'ghost_rest' WHERE id = %s", (backend.id,)
        )
        backend.invalidate_recordset(["adapter"])
        with self.assertRaisesRegex(ConfigurationError, "adapter ghost_rest of Half uninstalled"):
            backend._get_adapter()

    def test_partner_addons_extend_the_credential_and_secret_fields(self):
        """What an addon's override of the field roles changes: here the OAuth2 scope plays a
        field an addon adds, read from the server configuration and masked as a secret."""
        endpoint_class = type(self.env["logistics.backend.endpoint"])
        base_credentials = endpoint_class._logistics_credential_fields
        base_secrets = endpoint_class._logistics_secret_field_names
        self.patch(
            endpoint_class,
            "_logistics_credential_fields",
            lambda model: [*base_credentials(model), "scope"],
        )
        self.patch(
            endpoint_class,
            "_logistics_secret_field_names",
            lambda model: {*base_secrets(model), "scope"},
        )
        backend = self.env["logistics.backend"].create(
            {
                "name": "Extended",
                "code": "extended",
                "endpoint_ids": [(0, 0, {"base_url": "https://x.example", "scope": "db-value"})],
            }
        )
        self.assertEqual(backend._get_endpoint()["scope"], "db-value")
        self.assertIn("db-value", backend._secret_values())
        os.environ["LOGISTICS_EXTENDED_TEST_SCOPE"] = "from-the-environment"
        self.addCleanup(os.environ.pop, "LOGISTICS_EXTENDED_TEST_SCOPE")
        self.assertEqual(backend._get_endpoint()["scope"], "from-the-environment")
        self.assertIn("from-the-environment", backend._secret_values())
        self.assertTrue(backend.endpoint_ids._logistics_is_secret("scope"), "audit shows (set)")

    def test_partner_data_goes_to_internal_addresses_only_where_the_server_allows(self):
        backend = self.env["logistics.backend"].create(
            {
                "name": "Internal",
                "code": "internal",
                "endpoint_ids": [(0, 0, {"base_url": "http://169.254.169.254/latest/"})],
            }
        )
        self.patch(config, "misc", {**config.misc, "logistics_connector": {}})
        with self.assertRaisesRegex(ConfigurationError, "inside the server's own networks"):
            backend._rest_transport()
        notification = backend.action_test_connection()
        self.assertEqual(notification["params"]["type"], "danger")
        self.assertIn("allow_internal_endpoints", notification["params"]["message"])
        self.patch(
            config,
            "misc",
            {**config.misc, "logistics_connector": {"allow_internal_endpoints": "True"}},
        )
        self.assertTrue(backend._rest_transport())

    def test_a_production_endpoint_must_use_https(self):
        backend = self.env["logistics.backend"].create({"name": "Plain", "code": "plain"})
        with self.assertRaisesRegex(ValidationError, "must use https"):
            backend.write(
                {
                    "endpoint_ids": [
                        (0, 0, {"environment": "production", "base_url": "http://api.example"})
                    ]
                }
            )
            backend.flush_recordset()
