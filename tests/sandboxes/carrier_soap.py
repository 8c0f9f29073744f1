"""A SOAP carrier on loopback: ParcelService v1 (the WSDL shipped in
logistics_connector_carrier/wsdl/), for tests and the demo.

It serves its WSDL (GET ?wsdl), validates every request body against the WSDL's schema and
answers bad input with a SOAP fault naming the problem (soap:Client), refuses wrong credentials
with a fault, reports business problems as Notifications with a severity (ERROR: no shipment;
WARNING: shipment made, with a remark), keeps its shipments per run (findShipment by client
reference: a retry finds an earlier purchase), and misbehaves on command: ``fail(status,
count)`` (HTTP errors, e.g. 503), ``lose_answer()`` (the next shipment is made but the answer
is a 504), ``latency(seconds)``. ``advance(tracking, code)`` moves a parcel on (getTracking).
"""

import base64
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from .loopback import LoopbackServer

WSDL_PATH = (
    Path(__file__).resolve().parents[2]
    / "logistics_connector_carrier"
    / "wsdl"
    / "parcel_service_v1.wsdl"
)
NS = "urn:logistics-connector:parcel-service:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSD = "http://www.w3.org/2001/XMLSchema"
# A parcel to this postal code is refused with an ERROR notification.
UNSERVED_POSTAL_CODE = "00000"
# Heavier parcels are shipped with a WARNING notification (surcharge).
HEAVY_KG = 30
TARIFF = {  # service: (base, per kg, transit days)
    "GROUND": (6.10, 0.85, 4),
    "EXPRESS": (18.40, 2.10, 1),
}
DEMO_SOAP_PORT = 8704
DEMO_SOAP_USER = "demo-soap-user"
DEMO_SOAP_PASSWORD = "demo-soap-password"
DEMO_SOAP_ACCOUNT = "DEMO-ACCOUNT-1"


def _schema():
    wsdl = etree.parse(str(WSDL_PATH))
    schema = wsdl.find(f".//{{{XSD}}}schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def _envelope(body):
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}" '
        f'xmlns:p="{NS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    ).encode()


def _fault(code, text):
    return _envelope(
        f"<soap:Fault><faultcode>soap:{code}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring></soap:Fault>"
    )


def _text(element, name):
    child = element.find(f"{{{NS}}}{name}")
    return child.text if child is not None else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_GET(self):
        if "wsdl" in self.path.lower():
            self._send(200, WSDL_PATH.read_bytes(), "text/xml")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self):
        sandbox = self.server.sandbox
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, reply = sandbox._handle(body, self.headers.get("SOAPAction", ""))
        self._send(status, reply, "text/xml; charset=utf-8")

    def _send(self, status, body, content_type):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True


class SoapCarrierSandbox:
    """``SoapCarrierSandbox(username, password, account).start()``; ``endpoint`` is the URL
    to give the carrier account."""

    def __init__(
        self, username="soap-user", password="soap-secret", account="ACC-1", port=0, auto_advance=0
    ):
        self.credentials = (account, username, password)
        # Seconds between automatic tracking steps of a new parcel (the demo); 0: by hand.
        self.auto_advance = auto_advance
        self._port = port
        self._lock = threading.Lock()
        self._schema = _schema()
        self._server = None
        self.reset()

    def start(self):
        self._server = LoopbackServer(_Handler, port=self._port)
        self._server.sandbox = self
        self._server.start(name="soap-carrier")
        return self

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def endpoint(self):
        return f"{self._server.url}/soap/v1"

    def reset(self):
        with getattr(self, "_lock", threading.Lock()):
            self.shipments = {}
            self.calls = []
            self._faults = []
            self._sequence = 700000000

    # -- simulation --------------------------------------------------------------------------
    def fail(self, status=503, count=1):
        with self._lock:
            self._faults += [("status", status)] * count

    def lose_answer(self):
        with self._lock:
            self._faults.append(("lose_answer", 504))

    def latency(self, seconds, count=1):
        with self._lock:
            self._faults += [("latency", seconds)] * count

    def advance(self, tracking_number, code, description=None, incident=None, signed_by=None):
        with self._lock:
            shipment = next(s for s in self.shipments.values() if s["tracking"] == tracking_number)
            shipment["events"].append(
                {
                    "code": code,
                    "description": description or code,
                    "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "incident": incident,
                    "signed_by": signed_by,
                }
            )

    def labels_bought(self, reference=None):
        with self._lock:
            return [
                s
                for s in self.shipments.values()
                if not s["deleted"] and (reference is None or s["reference"] == reference)
            ]

    # -- SOAP ------------------------------------------------------------------------------------
    def _handle(self, body, action):
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault[0] == "status":
            return fault[1], b"<html><body>Service unavailable</body></html>"
        if fault and fault[0] == "latency":
            time.sleep(fault[1])
        try:
            root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
            request = root.find(f"{{{SOAP_ENV}}}Body")[0]
        except (etree.XMLSyntaxError, TypeError, IndexError):
            return 500, _fault("Client", "The request is not a SOAP 1.1 envelope.")
        operation = etree.QName(request).localname
        with self._lock:
            self.calls.append(operation)
        if not self._schema.validate(request):
            error = self._schema.error_log.last_error
            return 500, _fault(
                "Client", f"Invalid {operation}: {error.message} (line {error.line})"
            )
        credentials = request.find(f"{{{NS}}}Credentials")
        given = tuple(_text(credentials, n) for n in ("AccountNumber", "UserName", "Password"))
        if given != self.credentials:
            return 500, _fault("Client", "Authentication failed: unknown account or password.")
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return 500, _fault("Client", f"Unknown operation {operation}.")
        reply = handler(request)
        if fault and fault[0] == "lose_answer":
            return fault[1], b"<html><body>Gateway Timeout</body></html>"
        return 200, _envelope(reply)

    @staticmethod
    def _notifications(items):
        severity = "SUCCESS"
        order = ["SUCCESS", "NOTE", "WARNING", "ERROR", "FAILURE"]
        xml = ""
        for level, code, text in items:
            if order.index(level) > order.index(severity):
                severity = level
            xml += (
                f"<p:Notification><p:Severity>{level}</p:Severity><p:Code>{code}</p:Code>"
                f"<p:Message>{escape(text)}</p:Message></p:Notification>"
            )
        return f"<p:HighestSeverity>{severity}</p:HighestSeverity>{xml}"

    def _charge(self, service, weight):
        base, per_kg, days = TARIFF[service]
        return round(base + per_kg * weight, 2), days

    def _problems(self, request):
        recipient = request.find(f"{{{NS}}}Recipient")
        if (_text(recipient, "PostalCode") or "").strip() == UNSERVED_POSTAL_CODE:
            return [("ERROR", "RECIPIENT.POSTALCODE", "The recipient's postal code is not served.")]
        return []

    def _op_GetRatesRequest(self, request):
        problems = self._problems(request)
        weight = float(_text(request.find(f"{{{NS}}}Parcel"), "WeightKg"))
        rates = ""
        if not problems:
            for service in TARIFF:
                charge, days = self._charge(service, weight)
                rates += (
                    f"<p:Rate><p:ServiceType>{service}</p:ServiceType><p:TotalCharge>{charge:.2f}"
                    f"</p:TotalCharge><p:Currency>EUR</p:Currency><p:TransitDays>{days}"
                    f"</p:TransitDays></p:Rate>"
                )
        return f"<p:GetRatesReply>{self._notifications(problems)}{rates}</p:GetRatesReply>"

    def _shipment_xml(self, shipment):
        return (
            f"<p:Shipment><p:ClientReference>{escape(shipment['reference'])}</p:ClientReference>"
            f"<p:TrackingNumber>{shipment['tracking']}</p:TrackingNumber>"
            f"<p:ServiceType>{shipment['service']}</p:ServiceType>"
            f"<p:TotalCharge>{shipment['charge']:.2f}</p:TotalCharge><p:Currency>EUR</p:Currency>"
            f"<p:LabelFormat>{shipment['format']}</p:LabelFormat>"
            f"<p:Label>{base64.b64encode(shipment['label']).decode()}</p:Label>"
            f"<p:MasterTrackingNumber>{shipment['master']}</p:MasterTrackingNumber></p:Shipment>"
        )

    def _op_ProcessShipmentRequest(self, request):
        problems = self._problems(request)
        service = _text(request, "ServiceType")
        if service not in TARIFF:
            problems.append(
                ("ERROR", "SERVICE.UNKNOWN", f"Unknown service {service}: use GROUND or EXPRESS.")
            )
        master = _text(request, "MasterTrackingNumber")
        if master and master not in self.shipments:
            problems.append(
                ("ERROR", "MASTER.UNKNOWN", f"No shipment {master} to add this parcel to.")
            )
        if problems:
            return (
                f"<p:ProcessShipmentReply>{self._notifications(problems)}</p:ProcessShipmentReply>"
            )
        weight = float(_text(request.find(f"{{{NS}}}Parcel"), "WeightKg"))
        notes = []
        if weight > HEAVY_KG:
            notes.append(("WARNING", "PARCEL.HEAVY", "A heavy-parcel surcharge applies."))
        reference = _text(request, "ClientReference")
        label_format = _text(request, "LabelFormat")
        with self._lock:
            self._sequence += 1
            tracking = f"PS{self._sequence}"
            charge, _days = self._charge(service, weight)
            label = (
                f"^XA^FO50,50^FDPARCEL SERVICE {tracking}^FS^XZ".encode()
                if label_format == "ZPL"
                else b"%PDF-1.4\n% ParcelService label " + tracking.encode() + b"\n%%EOF\n"
            )
            shipment = {
                "reference": reference,
                "tracking": tracking,
                "service": service,
                "charge": charge + (12.0 if weight > HEAVY_KG else 0.0),
                "format": label_format,
                "label": label,
                "deleted": False,
                "is_return": _text(request, "IsReturn") == "true",
                "master": master or tracking,
                "events": [],
            }
            self.shipments[tracking] = shipment
        self.advance(tracking, "LC", "Label created")
        for number, (code, text) in enumerate(
            (("IT", "In transit"), ("OD", "Out for delivery"), ("DL", "Delivered")), 1
        ):
            if self.auto_advance:
                timer = threading.Timer(
                    self.auto_advance * number, self.advance, (tracking, code, text)
                )
                timer.daemon = True
                timer.start()
        return (
            f"<p:ProcessShipmentReply>{self._notifications(notes)}"
            f"{self._shipment_xml(shipment)}</p:ProcessShipmentReply>"
        )

    def _op_FindShipmentRequest(self, request):
        reference = _text(request, "ClientReference")
        with self._lock:
            found = [
                s
                for s in self.shipments.values()
                if s["reference"] == reference and not s["deleted"]
            ]
        if not found:
            return f"<p:FindShipmentReply>{self._notifications([])}</p:FindShipmentReply>"
        return (
            f"<p:FindShipmentReply>{self._notifications([])}{self._shipment_xml(found[-1])}"
            "</p:FindShipmentReply>"
        )

    def _op_DeleteShipmentRequest(self, request):
        tracking = _text(request, "TrackingNumber")
        with self._lock:
            shipment = self.shipments.get(tracking)
            moving = shipment and any(e["code"] != "LC" for e in shipment["events"])
            if shipment and not moving:
                shipment["deleted"] = True
        if not shipment:
            problems = [("ERROR", "SHIPMENT.UNKNOWN", f"No shipment {tracking}.")]
        elif moving:
            problems = [("ERROR", "SHIPMENT.IN_TRANSIT", "The parcel is already on its way.")]
        else:
            problems = []
        return f"<p:DeleteShipmentReply>{self._notifications(problems)}</p:DeleteShipmentReply>"

    def _op_GetTrackingRequest(self, request):
        tracking = _text(request, "TrackingNumber")
        with self._lock:
            shipment = self.shipments.get(tracking)
            events = list(shipment["events"]) if shipment else []
        if not shipment:
            problems = [("ERROR", "TRACKING.UNKNOWN", f"No parcel {tracking}.")]
            return f"<p:GetTrackingReply>{self._notifications(problems)}</p:GetTrackingReply>"
        xml = "".join(
            f"<p:Event><p:StatusCode>{e['code']}</p:StatusCode>"
            f"<p:Description>{escape(e['description'])}</p:Description>"
            f"<p:OccurredAt>{e['at']}</p:OccurredAt><p:City>Lyon</p:City>"
            f"<p:CountryCode>FR</p:CountryCode>"
            + (f"<p:IncidentCode>{e['incident']}</p:IncidentCode>" if e["incident"] else "")
            + (f"<p:SignedBy>{escape(e['signed_by'])}</p:SignedBy>" if e["signed_by"] else "")
            + "</p:Event>"
            for e in events
        )
        return (
            f"<p:GetTrackingReply>{self._notifications([])}<p:TrackingNumber>{tracking}"
            f"</p:TrackingNumber><p:StatusCode>{events[-1]['code']}</p:StatusCode>{xml}"
            "</p:GetTrackingReply>"
        )


def start_soap_demo(port=None, auto_advance=20):
    """The demo SOAP carrier (scripts/run) on 127.0.0.1:8704 with the demo credentials; its
    parcels move on by themselves every ``auto_advance`` seconds (Odoo polls them)."""
    return SoapCarrierSandbox(
        DEMO_SOAP_USER,
        DEMO_SOAP_PASSWORD,
        DEMO_SOAP_ACCOUNT,
        port=port or DEMO_SOAP_PORT,
        auto_advance=auto_advance,
    ).start()
