import base64
import json
from pathlib import Path

from odoo import api, fields, models
from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    DocumentValidationError,
)
from odoo.addons.logistics_connector_base.lib.transports.soap import SoapTransport

from ..const import SOAP_STATUS

WSDL_PATH = str(Path(__file__).resolve().parent.parent / "wsdl" / "parcel_service_v1.wsdl")
CARRIER_NAME = "ParcelService"
DEFAULT_SERVICE = "GROUND"


class LogisticsBackendEndpoint(models.Model):
    _inherit = "logistics.backend.endpoint"

    carrier_account_number = fields.Char(
        help="The shipper account at a SOAP carrier, sent in each request with the user name "
        "and password.",
    )

    @api.model
    def _logistics_credential_fields(self):
        return [*super()._logistics_credential_fields(), "carrier_account_number"]


class LogisticsAdapterSoapParcel(models.AbstractModel):
    """A carrier speaking ParcelService v1 over SOAP (the WSDL shipped in wsdl/): rates, one
    processShipment per parcel with a client reference that findShipment looks up on a retry,
    deleteShipment, getTracking (polled). Credentials travel in the envelope (account number,
    user name, password of the endpoint); faults and ERROR notifications become plain words."""

    _name = "logistics.adapter.soap_parcel"
    _inherit = "logistics.adapter"
    _description = "ParcelService (SOAP)"

    # ---- outbound ----------------------------------------------------------------------------
    @api.model
    def _send(self, message, resend=False):
        handler = getattr(self, f"_send_{message.flow}", None)
        if handler is None:
            raise ConfigurationError(
                self.env._("The ParcelService adapter cannot send %(flow)s.", flow=message.flow)
            )
        backend = message.backend_id
        transport = self._transport(backend)
        with self._exchange(message, transport):
            answer = handler(backend, transport, message.canonical_payload or {}, resend)
        if answer.get("shipment_id"):
            message.write({"external_id": answer["shipment_id"]})
        return answer

    @api.model
    def _transport(self, backend):
        endpoint = backend._get_endpoint()
        backend._check_destination(endpoint["base_url"], self.env._("SOAP endpoint"))
        return SoapTransport(
            WSDL_PATH,
            endpoint_url=endpoint["base_url"],
            timeout=backend._timeouts()[1],
            secrets=backend._secret_values(),
        )

    @api.model
    def _credentials(self, backend):
        endpoint = backend._get_endpoint()
        missing = [
            label
            for label, key in (
                (self.env._("Carrier Account Number"), "carrier_account_number"),
                (self.env._("Username"), "username"),
                (self.env._("Password"), "password"),
            )
            if not endpoint.get(key)
        ]
        if missing:
            raise ConfigurationError(
                self.env._(
                    "The %(env)s endpoint of %(name)s lacks %(missing)s: complete it on the "
                    "Endpoints tab.",
                    env=backend.environment,
                    name=backend.name,
                    missing=", ".join(missing),
                )
            )
        return {
            "AccountNumber": endpoint["carrier_account_number"],
            "UserName": endpoint["username"],
            "Password": endpoint["password"],
        }

    @api.model
    def _address(self, address):
        return {
            "Name": address.get("name"),
            "Company": address.get("company") or None,
            "Street": address.get("street"),
            "Street2": address.get("street2") or None,
            "City": address.get("city"),
            "State": address.get("state") or None,
            "PostalCode": address.get("zip") or None,
            "CountryCode": address.get("country"),
            "Phone": address.get("phone") or None,
        }

    @api.model
    def _parcel(self, document):
        parcel = (document.get("extensions") or {}).get("parcel") or {}
        values = {"WeightKg": parcel.get("weight_kg")}
        for side, key in (("length", "LengthCm"), ("width", "WidthCm"), ("height", "HeightCm")):
            if parcel.get(f"{side}_mm"):
                values[key] = round(float(parcel[f"{side}_mm"]) / 10, 1)
        return values

    @api.model
    def _checked(self, reply, what):
        """A reply whose HighestSeverity is ERROR or FAILURE refused the request: its
        notifications are the reason. Warnings are returned for the caller to keep."""
        notifications = reply.get("Notification") or []
        if reply.get("HighestSeverity") in ("ERROR", "FAILURE"):
            reasons = "; ".join(
                f"{n.get('Message')} ({n.get('Code')})"
                for n in notifications
                if n.get("Severity") in ("ERROR", "FAILURE")
            )
            raise BusinessError(
                self.env._("The carrier refused %(what)s: %(reasons)s", what=what, reasons=reasons)
            )
        return [n.get("Message") for n in notifications if n.get("Severity") == "WARNING"]

    @api.model
    def _send_rate(self, backend, transport, document, resend):
        reply = transport.call(
            "getRates",
            Credentials=self._credentials(backend),
            Shipper=self._address(document.get("ship_from") or document["ship_to"]),
            Recipient=self._address(document["ship_to"]),
            Parcel=self._parcel(document),
        )
        self._checked(reply, self.env._("the rate request"))
        return {
            "rates": [
                {
                    "carrier": CARRIER_NAME,
                    "service": rate["ServiceType"],
                    "amount": float(rate["TotalCharge"]),
                    "currency": rate["Currency"],
                    "delivery_days": rate["TransitDays"],
                    "delivery_date": None,
                }
                for rate in reply.get("Rate") or []
            ]
        }

    @api.model
    def _send_label(self, backend, transport, document, resend):
        credentials = self._credentials(backend)
        shipment = None
        if resend:
            found = transport.call(
                "findShipment", Credentials=credentials, ClientReference=document["reference"]
            )
            shipment = found.get("Shipment")
        warnings = []
        if not shipment:
            extensions = document.get("extensions") or {}
            reply = transport.call(
                "processShipment",
                Credentials=credentials,
                ClientReference=document["reference"],
                ServiceType=(document.get("carrier") or {}).get("service") or DEFAULT_SERVICE,
                Shipper=self._address(document.get("ship_from") or document["ship_to"]),
                Recipient=self._address(document["ship_to"]),
                Parcel=self._parcel(document),
                LabelFormat=extensions.get("label_format") or "PDF",
                IsReturn=bool(extensions.get("is_return")),
                MasterTrackingNumber=extensions.get("master_tracking_number") or None,
            )
            warnings = self._checked(reply, self.env._("the shipment"))
            shipment = reply.get("Shipment")
        if not shipment:
            raise BusinessError(self.env._("The carrier made no shipment and said nothing why."))
        return {
            "shipment_id": shipment["TrackingNumber"],
            "reference": shipment["ClientReference"],
            "tracking_number": shipment["TrackingNumber"],
            "carrier": CARRIER_NAME,
            "service": shipment["ServiceType"],
            "cost": float(shipment["TotalCharge"]),
            "currency": shipment["Currency"],
            "label_format": shipment["LabelFormat"],
            "label_base64": base64.b64encode(shipment["Label"]).decode(),
            "tracker_id": shipment["TrackingNumber"],
            "public_url": None,
            "warnings": warnings,
            "master_tracking_number": shipment.get("MasterTrackingNumber"),
        }

    @api.model
    def _send_label_cancel(self, backend, transport, document, resend):
        tracking = (document.get("extensions") or {}).get("tracking_number")
        if not tracking:
            raise DocumentValidationError(self.env._("No tracking number to cancel."))
        reply = transport.call(
            "deleteShipment", Credentials=self._credentials(backend), TrackingNumber=tracking
        )
        self._checked(reply, self.env._("the cancellation of %(tracking)s", tracking=tracking))
        return {"shipment_id": tracking, "refund_status": "refunded"}

    # ---- tracking by polling -----------------------------------------------------------------
    @api.model
    def _fetch_tracker(self, backend, tracker_id):
        transport = self._transport(backend)
        reply = transport.call(
            "getTracking", Credentials=self._credentials(backend), TrackingNumber=tracker_id
        )
        self._checked(reply, self.env._("the tracking request"))
        events = [
            {
                "code": event["StatusCode"],
                "description": event["Description"],
                "at": event["OccurredAt"].isoformat(),
                "city": event.get("City"),
                "country": event.get("CountryCode"),
                "incident": event.get("IncidentCode"),
                "signed_by": event.get("SignedBy"),
            }
            for event in reply.get("Event") or []
        ]
        body = {"tracking_number": reply.get("TrackingNumber") or tracker_id, "events": events}
        return json.dumps(body, sort_keys=True).encode(), None

    @api.model
    def _decode(self, message):
        body = self._parse_json(message._raw_payload(), self.env._("tracking answer"))
        tracking = body.get("tracking_number")
        documents = []
        for event in body.get("events") or []:
            status, reason = SOAP_STATUS.get(event["code"], ("exception", event["code"]))
            documents.append(
                {
                    "schema": "tracking_event/1",
                    "tracking_number": tracking,
                    "event_id": f"{tracking}:{event['at']}:{event['code']}",
                    "carrier": CARRIER_NAME,
                    "status": status,
                    "partner_status": event["code"],
                    "reason": event.get("incident") or reason,
                    "description": event.get("description"),
                    "occurred_at": event["at"],
                    "signed_by": event.get("signed_by"),
                    "location": {"city": event.get("city"), "country": event.get("country")},
                }
            )
        return documents

    # ---- administration ----------------------------------------------------------------------
    @api.model
    def _test_connection(self, backend):
        transport = self._transport(backend)
        reply = transport.call(
            "findShipment", Credentials=self._credentials(backend), ClientReference="ping"
        )
        self._checked(reply, self.env._("the connection test"))
        return self.env._("The carrier accepted the credentials.")
