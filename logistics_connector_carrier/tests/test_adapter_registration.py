from odoo.addons.logistics_connector_base.tests.common import AdapterContractMixin
from odoo.tests import TransactionCase


class TestAdapterRegistration(AdapterContractMixin, TransactionCase):
    def test_every_selectable_adapter_has_its_model(self):
        self.assert_every_adapter_has_its_model()
