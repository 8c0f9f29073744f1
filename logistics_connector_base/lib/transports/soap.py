"""SOAP transport over zeep, with the WSDL shipped as a local file in an addon."""

import os
import threading
import time

import requests
from lxml import etree
from zeep import Client, Plugin, Settings, Transport
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError, XMLParseError, XMLSyntaxError
from zeep.exceptions import ValidationError as ZeepValidationError
from zeep.helpers import serialize_object
from zeep.wsdl import Document

from .. import safe_xml
from ..errors import BusinessError, ConfigurationError, TransientError
from ..masking import MASK, is_sensitive_key, mask_headers, mask_secrets
from .base import SessionTransport
from .rest import MAX_CAPTURE_BYTES, classify_request_exception

# Parsed WSDLs shared by every transport of the process: parsing is the slow part of zeep
# and the files only change with a module upgrade. (path, mtime) -> zeep Document
_wsdl_cache = {}
_wsdl_lock = threading.Lock()


def _capture(body):
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    text = bytes(body[:MAX_CAPTURE_BYTES]).decode("utf-8", "replace")
    return text + (f"... [{len(body)} bytes, cut]" if len(body) > MAX_CAPTURE_BYTES else "")


def _mask_xml(node):
    """Mask the text of elements named like credentials (Password, ApiKey, ...) in place."""
    for element in node.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        if is_sensitive_key(etree.QName(element).localname) and (element.text or "").strip():
            element.text = MASK
    return node


def _sensitive_values(value, found):
    """Collect the values of credential-named parameters (they also reach the envelope)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_sensitive_key(key) and isinstance(item, (str, bytes)):
                found.append(item)
            else:
                _sensitive_values(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _sensitive_values(item, found)
    return found


class _CapturePlugin(Plugin):
    """Copies the outgoing envelope, masked, into the transport's ``last_exchange``."""

    def __init__(self, transport):
        self.transport = transport

    def egress(self, envelope, http_headers, operation, binding_options):
        masked = _mask_xml(safe_xml.fromstring(etree.tostring(envelope)))
        secrets = self.transport.secret_values()
        exchange = self.transport.last_exchange
        exchange["request"] = {
            "method": "POST",
            "url": mask_secrets(binding_options.get("address"), secrets),
            "operation": operation.name,
            "headers": mask_secrets(mask_headers(http_headers), secrets),
            "body": mask_secrets(_capture(etree.tostring(masked, encoding="utf-8")), secrets),
        }
        return envelope, http_headers


class SoapTransport(SessionTransport):
    """Calls operations of a SOAP service described by a local WSDL file.

    :param wsdl_path: path of the WSDL file shipped in an addon (remote WSDLs vanish)
    :param endpoint_url: address to call instead of the WSDL's soap:address (test or
        production endpoint, sandbox)
    :param timeout: seconds for connecting and for each operation
    :param auth: None, ``{"kind": "none"}`` or ``{"kind": "basic", "username", "password"}``
    :param secrets: more values to mask in captures (e.g. a key sent inside the envelope)

    One instance is meant for one worker: ``last_exchange`` describes its latest call.
    """

    def __init__(
        self, wsdl_path, endpoint_url=None, timeout=30, auth=None, verify_tls=True, secrets=()
    ):
        self.wsdl_path = wsdl_path
        self.endpoint_url = endpoint_url or None
        self.timeout = float(timeout)
        self.auth = dict(auth or {"kind": "none"})
        kind = self.auth.get("kind") or "none"
        if kind not in ("none", "basic"):
            raise ConfigurationError(
                f"SOAP partners support 'none' or 'basic' authentication, not {kind!r}."
            )
        if kind == "basic" and not self.auth.get("username"):
            raise ConfigurationError("The partner's basic authentication has no username.")
        self._extra_secrets = [s for s in secrets or () if s]
        self._call_secrets = []
        self.session = requests.Session()
        self.session.verify = verify_tls
        if kind == "basic":
            self.session.auth = (self.auth["username"], self.auth.get("password") or "")
        self.session.hooks["response"].append(self._record_response)
        self.last_exchange = None
        self._client = None
        self._service = None

    def secret_values(self):
        values = [self.auth.get("password"), *self._extra_secrets, *self._call_secrets]
        return [v for v in values if v]

    # -- setup --------------------------------------------------------------------------------
    def _document(self, transport):
        path = os.path.abspath(self.wsdl_path or "")
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            raise ConfigurationError(f"The WSDL file {self.wsdl_path!r} was not found.") from None
        with _wsdl_lock:
            document = _wsdl_cache.get((path, mtime))
            if document is None:
                try:
                    document = Document(
                        path, transport, settings=Settings(strict=True, **safe_xml.ZEEP_SETTINGS)
                    )
                except (ZeepError, etree.LxmlError, OSError, ValueError, KeyError) as exc:
                    raise ConfigurationError(
                        f"The WSDL file {self.wsdl_path!r} is not a valid WSDL "
                        f"({type(exc).__name__}: {str(exc)[:200]})."
                    ) from None
                _wsdl_cache[(path, mtime)] = document
        return document

    def _get_service(self):
        if self._service is not None:
            return self._service
        transport = Transport(
            session=self.session, timeout=self.timeout, operation_timeout=self.timeout
        )
        client = Client(
            self._document(transport),
            transport=transport,
            plugins=[_CapturePlugin(self)],
            settings=Settings(**safe_xml.ZEEP_SETTINGS),
        )
        if not client.wsdl.services:
            raise ConfigurationError(f"The WSDL file {self.wsdl_path!r} defines no service.")
        if self.endpoint_url:
            service = next(iter(client.wsdl.services.values()))
            port = next(iter(service.ports.values()))
            self._service = client.create_service(port.binding.name, self.endpoint_url)
        else:
            self._service = client.service
        self._client = client
        return self._service

    def operations(self):
        """Names of the operations of the WSDL's first service port."""
        self._get_service()
        service = next(iter(self._client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        return sorted(port.binding.all())

    # -- calls --------------------------------------------------------------------------------
    def _record_response(self, response, *args, **kwargs):
        exchange = self.last_exchange
        if exchange is None or response.request.method != "POST":
            return response  # WSDL/XSD downloads are not exchanges
        secrets = self.secret_values()
        body = _capture(response.content)
        if body and body.lstrip().startswith("<"):
            try:
                root = safe_xml.fromstring(response.content)
                body = _capture(etree.tostring(_mask_xml(root), encoding="utf-8"))
            except etree.XMLSyntaxError:
                pass
        exchange["response"] = {
            "status": response.status_code,
            "headers": mask_secrets(mask_headers(response.headers), secrets),
            "body": mask_secrets(body, secrets),
        }
        return response

    def call(self, operation, **params):
        """Call ``operation`` and return its result as plain Python: dicts and lists (zeep
        returns the bare value when the reply holds a single element).

        :raises BusinessError: SOAP fault (the fault string is the message) or parameters
            the WSDL does not accept
        :raises TransientError: network error, timeout, HTTP 5xx without a fault
        :raises ConfigurationError: WSDL missing or invalid, unknown operation, credentials
            refused, wrong endpoint
        """
        service = self._get_service()
        try:
            method = service[operation]
        except (AttributeError, KeyError, ZeepError):
            raise ConfigurationError(
                f"The WSDL {os.path.basename(self.wsdl_path)!r} has no operation {operation!r}."
            ) from None
        self._call_secrets = _sensitive_values(params, [])
        address = self.endpoint_url or "the WSDL address"
        self.last_exchange = exchange = {"operation": operation, "request": None, "response": None}
        started = time.monotonic()
        try:
            result = method(**params)
        except Fault as fault:
            raise self._fault_error(fault, exchange) from None
        except TransportError as exc:
            raise self._attach(self._transport_error(exc, operation), exchange) from None
        except requests.RequestException as exc:
            url = (exchange.get("request") or {}).get("url") or self.endpoint_url or ""
            error = classify_request_exception(exc, url, (self.timeout, self.timeout))
            raise self._attach(error, exchange) from None
        except (ZeepValidationError, TypeError) as exc:
            raise self._attach(
                BusinessError(
                    f"The {operation} request does not match the partner's WSDL: "
                    f"{mask_secrets(str(exc), self.secret_values())[:300]}"
                ),
                exchange,
            ) from None
        except (XMLSyntaxError, XMLParseError) as exc:
            raise self._attach(
                TransientError(
                    f"{address} answered {operation} with XML that could not be read "
                    f"({type(exc).__name__})."
                ),
                exchange,
            ) from None
        finally:
            exchange["elapsed"] = time.monotonic() - started
        return serialize_object(result, target_cls=dict)

    def _attach(self, error, exchange):
        error.exchange = exchange
        exchange["error"] = error.message
        return error

    def _fault_error(self, fault, exchange):
        status = (exchange.get("response") or {}).get("status")
        if fault.code is None and fault.message == "Unknown fault occured" and status:
            # an HTTP error page that happens to be well-formed XML, not a real SOAP fault
            return self._attach(self._status_error(status), exchange)
        text = mask_secrets(fault.message or "SOAP fault without a message", self.secret_values())
        return self._attach(
            BusinessError(
                f"The partner rejected the request: {text}",
                status=status,
                details={"fault_code": fault.code, "fault_string": text},
            ),
            exchange,
        )

    def _transport_error(self, exc, operation):
        status = exc.status_code or None
        if status is None or status < 400:
            return TransientError(
                f"The partner answered {operation} with a body that could not be read as SOAP "
                f"(HTTP {status or 'no status'}).",
                status=status,
            )
        return self._status_error(status)

    @staticmethod
    def _status_error(status):
        if status in (401, 403):
            return ConfigurationError(
                f"The partner refused the credentials (HTTP {status}): check the user and "
                "password of its endpoint.",
                status=status,
            )
        if status in (404, 405):
            return ConfigurationError(
                f"The SOAP endpoint was not found (HTTP {status}): check its URL.", status=status
            )
        if 400 <= status < 500 and status not in (408, 425, 429):
            return BusinessError(
                f"The partner rejected the request (HTTP {status}).", status=status
            )
        return TransientError(
            f"The partner could not process the request (HTTP {status}).", status=status
        )
