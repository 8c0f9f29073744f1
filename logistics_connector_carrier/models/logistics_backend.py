from odoo import api, fields, models

from ..const import CARRIER_FLOWS


class LogisticsBackend(models.Model):
    _inherit = "logistics.backend"

    adapter = fields.Selection(
        selection_add=[("easypost", "EasyPost (REST)"), ("soap_parcel", "ParcelService (SOAP)")],
        ondelete={"easypost": "set default", "soap_parcel": "set default"},
    )
    carrier_ids = fields.One2many(
        "delivery.carrier", "logistics_backend_id", string="Shipping Methods"
    )

    @api.model
    def _logistics_transport_kind(self, adapter):
        if adapter in ("easypost", "soap_parcel"):
            return "rest"
        return super()._logistics_transport_kind(adapter)

    @api.model
    def _demo_sandbox_endpoints(self):
        return [
            *super()._demo_sandbox_endpoints(),
            (
                "logistics_connector_carrier.demo_backend_carrier_endpoint_test",
                "LC_SANDBOX_CARRIER_PORT",
                "",
            ),
            (
                "logistics_connector_carrier.demo_backend_soap_carrier_endpoint_test",
                "LC_SANDBOX_SOAP_PORT",
                "/soap/v1",
            ),
        ]


class LogisticsBackendFlow(models.Model):
    _inherit = "logistics.backend.flow"

    flow = fields.Selection(
        selection_add=CARRIER_FLOWS, ondelete={code: "cascade" for code, _label in CARRIER_FLOWS}
    )
