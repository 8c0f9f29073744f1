"""SoapTransport (zeep) against a SOAP service served by a real loopback HTTP server."""

import base64
import json
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from lxml import etree

from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    TransientError,
)
from odoo.addons.logistics_connector_base.lib.masking import MASK
from odoo.addons.logistics_connector_base.lib.transports.soap import SoapTransport
from tests.sandboxes.loopback import LoopbackServer, free_port

WSDL = str(Path(__file__).parent / "data" / "tracking_service.wsdl")
NS = "urn:logistics-connector:test:tracking"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
HTTP_PASSWORD = "http-pa55word"
API_PASSWORD = "api-pa55word-in-body"


def envelope(body_xml):
    return (
        f'<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:t="{NS}"><soap:Body>{body_xml}'
        f"</soap:Body></soap:Envelope>"
    ).encode()


def fault(code, text):
    return envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring></soap:Fault>"
    )


class SoapHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="text/xml; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        server.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path != "/tracking":
            return self._send(404, b"<html>no such service</html>", "text/html")
        expected = "Basic " + base64.b64encode(f"carrier:{HTTP_PASSWORD}".encode()).decode()
        if server.require_auth and self.headers.get("Authorization") != expected:
            return self._send(401, b"", "text/plain")
        request = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
        operation = etree.QName(request).localname
        if operation == "CancelShipment":
            code = request.findtext(f"{{{NS}}}ShippingCode")
            return self._send(
                200,
                envelope(
                    f"<t:CancelShipmentResponse><t:Cancelled>{str(code == 'SHP-1').lower()}"
                    f"</t:Cancelled></t:CancelShipmentResponse>"
                ),
            )
        number = request.findtext(f"{{{NS}}}TrackingNumber")
        password = request.findtext(f"{{{NS}}}Credentials/{{{NS}}}Password")
        if password != API_PASSWORD:
            return self._send(500, fault("soap:Client", "Authentication failed for user carrier"))
        if number == "UNKNOWN":
            return self._send(500, fault("soap:Client", "Tracking number UNKNOWN does not exist"))
        if number == "CRASH":
            return self._send(502, b"<html><body>Bad gateway</body></html>", "text/html")
        if number == "EMPTY503":
            return self._send(503, b"", "text/plain")
        if number == "SLOW":
            time.sleep(1.5)
        if number == "GARBAGE":
            return self._send(200, b"this is not xml at all")
        events = "".join(
            f"<t:Event><t:Code>{code}</t:Code><t:Description>{text}</t:Description>"
            f"<t:OccurredAt>2025-03-0{day}T10:00:00+00:00</t:OccurredAt>"
            f"{'<t:City>Reno</t:City>' if city else ''}</t:Event>"
            for code, text, day, city in (("PU", "Picked up", 3, True), ("OD", "Out", 4, False))
        )
        return self._send(
            200,
            envelope(
                f"<t:GetTrackingResponse><t:TrackingNumber>{number}</t:TrackingNumber>"
                f"<t:StatusCode>OD</t:StatusCode><t:Events>{events}</t:Events>"
                f"</t:GetTrackingResponse>"
            ),
        )


@pytest.fixture
def soap_server():
    server = LoopbackServer(SoapHandler).start()
    server.calls = []
    server.require_auth = True
    server.endpoint = f"{server.url}/tracking"
    yield server
    server.stop()


def transport_for(server, password=HTTP_PASSWORD, **kwargs):
    return SoapTransport(
        WSDL,
        endpoint_url=server.endpoint,
        auth={"kind": "basic", "username": "carrier", "password": password},
        **kwargs,
    )


def credentials(password=API_PASSWORD):
    return {"UserName": "carrier", "Password": password}


def test_call_returns_plain_python(soap_server):
    transport = transport_for(soap_server, timeout=5)
    result = transport.call("GetTracking", Credentials=credentials(), TrackingNumber="1Z42")
    assert type(result) is dict
    assert result["TrackingNumber"] == "1Z42"
    assert result["StatusCode"] == "OD"
    events = result["Events"]["Event"]
    assert type(events) is list
    assert [(e["Code"], e["City"]) for e in events] == [("PU", "Reno"), ("OD", None)]
    assert isinstance(events[0]["OccurredAt"], datetime)
    # zeep unwraps a reply with a single element
    assert transport.call("CancelShipment", ShippingCode="SHP-1") is True
    assert transport.call("CancelShipment", ShippingCode="SHP-2") is False
    # the endpoint given replaced the WSDL's unreachable address
    assert [c["path"] for c in soap_server.calls] == ["/tracking"] * 3
    assert transport.operations() == ["CancelShipment", "GetTracking"]


def test_exchange_is_captured_with_credentials_masked(soap_server):
    transport = transport_for(soap_server, secrets=["UNIQUE-SECRET-42"])
    transport.call("GetTracking", Credentials=credentials(), TrackingNumber="UNIQUE-SECRET-42x")
    exchange = transport.last_exchange
    request, response = exchange["request"], exchange["response"]
    assert exchange["operation"] == "GetTracking"
    assert request["url"] == soap_server.endpoint
    assert f"<ns0:Password>{MASK}</ns0:Password>" in request["body"]
    assert "<ns0:UserName>carrier</ns0:UserName>" in request["body"]
    assert request["headers"]["SOAPAction"] == '"urn:logistics-connector:test:tracking/GetTracking"'
    assert response["status"] == 200
    assert "<t:StatusCode>OD</t:StatusCode>" in response["body"]
    everything = json.dumps(exchange)
    assert API_PASSWORD not in everything
    assert HTTP_PASSWORD not in everything
    assert "UNIQUE-SECRET-42" not in everything
    # but the partner really received the credentials
    assert API_PASSWORD.encode() in soap_server.calls[-1]["body"]


def test_fault_is_a_business_error(soap_server):
    transport = transport_for(soap_server)
    with pytest.raises(BusinessError) as caught:
        transport.call("GetTracking", Credentials=credentials(), TrackingNumber="UNKNOWN")
    error = caught.value
    assert (
        error.message == "The partner rejected the request: Tracking number UNKNOWN does not exist"
    )
    assert error.details["fault_code"] == "soap:Client"
    assert error.exchange["response"]["status"] == 500
    assert "does not exist" in error.exchange["response"]["body"]


def test_fault_text_is_masked(soap_server):
    transport = transport_for(soap_server)
    wrong = "wrong-api-password"
    with pytest.raises(BusinessError) as caught:
        transport.call("GetTracking", Credentials=credentials(wrong), TrackingNumber="1Z")
    assert (
        caught.value.message
        == "The partner rejected the request: Authentication failed for user carrier"
    )
    assert wrong not in json.dumps(caught.value.exchange)


def test_http_credentials_refused(soap_server):
    transport = transport_for(soap_server, password="not-the-password")
    with pytest.raises(ConfigurationError) as caught:
        transport.call("GetTracking", Credentials=credentials(), TrackingNumber="1Z")
    assert caught.value.status == 401
    assert caught.value.message.startswith("The partner refused the credentials (HTTP 401)")
    assert "not-the-password" not in json.dumps(transport.last_exchange)


def test_server_errors_are_transient(soap_server):
    transport = transport_for(soap_server)
    for number, status in (("CRASH", 502), ("EMPTY503", 503)):
        with pytest.raises(TransientError) as caught:
            transport.call("GetTracking", Credentials=credentials(), TrackingNumber=number)
        assert caught.value.status == status, number
        assert caught.value.exchange["response"]["status"] == status
    with pytest.raises(TransientError, match="with a body that could not be read as SOAP"):
        transport.call("GetTracking", Credentials=credentials(), TrackingNumber="GARBAGE")


def test_timeout_is_transient(soap_server):
    transport = transport_for(soap_server, timeout=0.3)
    with pytest.raises(TransientError) as caught:
        transport.call("GetTracking", Credentials=credentials(), TrackingNumber="SLOW")
    port = soap_server.server_address[1]
    assert caught.value.message == f"127.0.0.1:{port} did not answer within 0.3 seconds."
    assert caught.value.exchange["request"]["body"]


def test_connection_refused_is_transient():
    port = free_port()
    transport = SoapTransport(WSDL, endpoint_url=f"http://127.0.0.1:{port}/tracking")
    with pytest.raises(TransientError) as caught:
        transport.call("CancelShipment", ShippingCode="SHP-1")
    assert caught.value.message == f"Could not reach 127.0.0.1:{port} (connection refused)."


def test_wrong_endpoint_path_is_a_configuration_error(soap_server):
    transport = SoapTransport(WSDL, endpoint_url=soap_server.endpoint.replace("/tracking", "/nope"))
    with pytest.raises(ConfigurationError, match="endpoint was not found"):
        transport.call("CancelShipment", ShippingCode="SHP-1")


def test_wsdl_problems_are_configuration_errors(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        SoapTransport(str(tmp_path / "missing.wsdl")).call("GetTracking")
    assert (
        caught.value.message == f"The WSDL file {str(tmp_path / 'missing.wsdl')!r} was not found."
    )
    broken = tmp_path / "broken.wsdl"
    broken.write_text("<wsdl:definitions this is not xml")
    with pytest.raises(ConfigurationError, match="is not a valid WSDL"):
        SoapTransport(str(broken)).call("GetTracking")
    with pytest.raises(ConfigurationError, match="has no operation 'Teleport'"):
        SoapTransport(WSDL, endpoint_url="http://127.0.0.1:9/x").call("Teleport")
    with pytest.raises(ConfigurationError, match="'none' or 'basic'"):
        SoapTransport(WSDL, auth={"kind": "oauth2"})


def test_request_not_matching_the_wsdl_is_a_business_error(soap_server):
    transport = transport_for(soap_server)
    with pytest.raises(BusinessError, match="does not match the partner's WSDL"):
        transport.call("GetTracking", Credentials=credentials(), Unknown="x")
    # nothing was sent
    assert soap_server.calls == []
