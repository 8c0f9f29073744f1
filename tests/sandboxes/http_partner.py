"""A generic REST partner (3PL/carrier-like) served on loopback for tests and the demo.

It behaves like a real partner rather than a mock: it keeps documents, authenticates, dedups
creations by Idempotency-Key and by business reference, sends Standard Webhooks signed events,
and misbehaves on command (5xx, 429, latency, malformed bodies, dropped connections, "stored
but answered 504").

Partner API (JSON):
    POST /oauth/token                  client_credentials grant (auth kind "oauth2" only)
    GET  /api/v1/ping                  authenticated health check ("Test connection")
    POST /api/v1/<resource>            create (needs "reference"; Idempotency-Key honoured)
    GET  /api/v1/<resource>?reference= list, optionally filtered by reference
    GET  /api/v1/<resource>/<id>       one document
Test controls (no auth, loopback only):
    POST /_control/faults  GET /_control/faults  DELETE /_control/faults
    POST /_control/reset   GET /_control/requests  GET /_control/documents/<resource>
    POST /_control/revoke_tokens  POST /_control/unknown_skus {"skus": [...]}
    POST /_control/webhooks {"url", "type", "data", "msg_id"?}  (sends a signed webhook)
"""

import base64
import binascii
import copy
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import requests
from standardwebhooks.webhooks import Webhook

from .loopback import LoopbackSandbox, LoopbackServer

_logger = logging.getLogger(__name__)

# Larger bodies are refused with 413 so a runaway client cannot exhaust the test process.
MAX_BODY_BYTES = 5 * 1024 * 1024
DEFAULT_TOKEN_EXPIRES_IN = 3600
# Longer than any client timeout in the suite (Odoo's test cases floor them at 10 s).
DEFAULT_LATENCY = 30

_RESOURCE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_QTY_KEYS = ("qty", "quantity", "qty_ordered")

# Options each fault kind accepts ("method" restricts any fault to one HTTP method).
FAULT_KINDS = {
    "status": {"status", "body", "headers"},
    "rate_limit": {"retry_after"},
    "latency": {"seconds"},
    "malformed": {"body"},
    "drop": set(),
    "accept_then_fail": {"status"},
}

_AUTH_KEYS = {
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("header", "value"),
    "oauth2": ("client_id", "client_secret"),
}


class _Headers(dict):
    """Header dict with lower-cased keys and case-insensitive lookups (still plain JSON)."""

    def __init__(self, items=()):
        super().__init__()
        for key, value in items:
            key = key.lower()
            # Repeated headers are folded the way RFC 9110 allows for list-valued fields.
            self[key] = f"{self[key]}, {value}" if key in self else value

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __contains__(self, key):
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass
class _Request:
    method: str
    path: str
    query: dict
    headers: _Headers
    body: bytes
    json: object = None
    json_error: str | None = None
    time: float = field(default_factory=time.time)


@dataclass
class _Reply:
    status: int
    payload: object = None
    raw: bytes | None = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    drop: bool = False


@dataclass
class _Fault:
    kind: str
    remaining: int
    path_prefix: str
    method: str | None
    options: dict

    def matches(self, method, path):
        return path.startswith(self.path_prefix) and self.method in (None, method)

    def as_dict(self):
        return {
            "kind": self.kind,
            "remaining": self.remaining,
            "path_prefix": self.path_prefix,
            "method": self.method,
            **{k: _jsonable(v) for k, v in self.options.items()},
        }


def _jsonable(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _error(status, message, **headers):
    return _Reply(status, {"error": message}, headers=headers)


def _reject_constant(name):
    # NaN/Infinity are not JSON; accepting them would make us echo invalid JSON back.
    raise ValueError(f"invalid JSON constant {name}")


def _parse_json(body):
    """Return (value, error) for a request body."""
    if not body:
        return None, "empty body"
    try:
        return json.loads(body, parse_constant=_reject_constant), None
    except (ValueError, RecursionError) as exc:
        return None, str(exc)[:200] or exc.__class__.__name__


def _is_positive_number(value):
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _same(given, expected):
    return hmac.compare_digest(str(given).encode(), str(expected).encode())


def _as_utc(timestamp):
    if timestamp is None:
        return datetime.now(timezone.utc)
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, timezone.utc)
    if timestamp.tzinfo is None:
        return timestamp.replace(tzinfo=timezone.utc)
    # Webhook.sign() replaces tzinfo rather than converting, so convert first.
    return timestamp.astimezone(timezone.utc)


class _Server(LoopbackServer):
    def __init__(self, port, sandbox):
        self.sandbox = sandbox
        super().__init__(_Handler, port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Answer at once: with Nagle on, small responses wait for the client's delayed ACK.
    disable_nagle_algorithm = True
    server_version = "LogisticsPartnerSandbox/1.0"
    # Idle keep-alive connections must not pin handler threads forever.
    timeout = 60

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    def _handle(self):
        sandbox = self.server.sandbox
        try:
            request = self._read_request()
            if isinstance(request, _Reply):
                reply = request
            else:
                reply = sandbox._dispatch(request)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        except Exception:
            _logger.exception("partner sandbox: error handling %s %s", self.command, self.path)
            reply = _error(500, "sandbox internal error")
        self._send(reply)

    def _read_request(self):
        if self.headers.get("Transfer-Encoding", "identity").lower() != "identity":
            self.close_connection = True
            return _error(411, "Content-Length is required")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return _error(400, "invalid Content-Length")
        if length > MAX_BODY_BYTES:
            # The body stays unread, so the connection cannot be reused.
            self.close_connection = True
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            raise ConnectionError("client closed the connection mid-body")
        url = urlsplit(self.path)
        # An empty POST body is malformed JSON too; an empty GET body is just no body.
        has_body = body or self.command in ("POST", "PUT", "PATCH")
        parsed, error = _parse_json(body) if has_body else (None, None)
        return _Request(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=_Headers(self.headers.items()),
            body=body,
            json=parsed,
            json_error=error,
        )

    def _send(self, reply):
        if reply.drop:
            self.close_connection = True
            return
        if reply.raw is not None:
            body = reply.raw
        elif reply.payload is not None:
            body = json.dumps(reply.payload).encode()
        else:
            body = b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, str(value))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            # The client gave up (e.g. its timeout fired during injected latency).
            self.close_connection = True

    def log_request(self, code="-", size="-"):
        # command/path are unset when the request line itself could not be parsed.
        _logger.info(
            "partner sandbox :%s %s %s -> %s",
            self.server.server_address[1],
            getattr(self, "command", None) or "-",
            getattr(self, "path", None) or "-",
            int(code) if isinstance(code, int) else code,
        )

    def log_message(self, format, *args):
        _logger.warning("partner sandbox :%s %s", self.server.server_address[1], format % args)


class GenericPartnerSandbox(LoopbackSandbox):
    """A stateful REST partner on 127.0.0.1, for tests and the demo.

    auth: None (open), {"kind": "bearer", "token"}, {"kind": "basic", "username", "password"},
    {"kind": "api_key", "header", "value"} or {"kind": "oauth2", "client_id", "client_secret"
    [, "expires_in"]}. webhook_secret: "whsec_..." secret used by send_webhook().
    """

    def __init__(self, port=0, auth=None, webhook_secret=None, *, token_expires_in=None):
        self.auth = self._check_auth(auth)
        self.webhook_secret = webhook_secret
        if token_expires_in is None:
            token_expires_in = (auth or {}).get("expires_in", DEFAULT_TOKEN_EXPIRES_IN)
        self.token_expires_in = token_expires_in
        # Creations listing one of these SKUs are refused with 422 "unknown SKU <sku>".
        self.unknown_skus = set()
        self._port = port
        self._lock = threading.RLock()
        self._requests = []
        self._documents = {}
        self._faults = []
        self._tokens = {}
        self._webhooks_sent = []
        self._server = None
        # Set to wake handlers sleeping on injected latency; replaced by reset() and start().
        self._wakeup = threading.Event()

    @staticmethod
    def _check_auth(auth):
        if auth is None:
            return None
        kind = auth.get("kind")
        if kind not in _AUTH_KEYS:
            raise ValueError(f"unknown auth kind {kind!r}; expected one of {sorted(_AUTH_KEYS)}")
        missing = [key for key in _AUTH_KEYS[kind] if not auth.get(key)]
        if missing:
            raise ValueError(f"auth kind {kind!r} needs {', '.join(missing)}")
        return dict(auth)

    # -- life cycle --------------------------------------------------------------------------

    def start(self):
        """Serve in a daemon thread. A restart reuses the port bound the first time."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._wakeup = threading.Event()
        self._server = _Server(self._port, self)
        self._port = self._server.port
        self._server.start(name=f"partner-sandbox-{self._port}")
        return self

    def stop(self):
        server = self._server
        if server is None:
            return
        self._server = None
        # Handlers sleeping on injected latency give up instead of answering.
        self._wakeup.set()
        server.stop()

    # -- state seen by tests -----------------------------------------------------------------

    @property
    def requests(self):
        """Every request received except /_control ones, oldest first (a copy)."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    def documents(self, resource):
        with self._lock:
            return copy.deepcopy(self._documents.get(resource, []))

    @property
    def webhooks_sent(self):
        with self._lock:
            return [dict(entry) for entry in self._webhooks_sent]

    def set_document_status(self, resource, reference, status):
        """Move a stored document on (e.g. "shipped"), as the partner's own process would."""
        with self._lock:
            for document in self._documents.get(resource, []):
                if document["reference"] == reference or document["id"] == reference:
                    document["status"] = status
                    return copy.deepcopy(document)
        raise KeyError(f"no {resource} document {reference!r}")

    def reset(self):
        """Forget requests, documents, queued faults and unknown SKUs (issued tokens stay).

        Requests still sleeping on injected latency are dropped, so a long latency fault
        never outlives the test that injected it.
        """
        with self._lock:
            self._wakeup.set()
            self._wakeup = threading.Event()
            self._requests.clear()
            self._documents.clear()
            self._faults.clear()
            self._webhooks_sent.clear()
            self.unknown_skus = set()

    def revoke_tokens(self):
        """Invalidate every issued OAuth2 token: clients must fetch a new one."""
        with self._lock:
            self._tokens.clear()

    # -- fault injection ---------------------------------------------------------------------

    def inject(self, kind, count=1, path_prefix="/api/", **options):
        """Queue a fault for the next `count` requests whose path starts with path_prefix.

        kinds: status (status=503, body=None, headers=None), rate_limit (retry_after=1),
        latency (seconds=30, then the request is processed and answered normally, as a slow
        partner would: the document exists even if the client gave up), malformed
        (body=truncated JSON, request not processed), drop (no answer, not processed),
        accept_then_fail (request processed, then status=504).
        method="POST" restricts a fault to one HTTP method. Faults are consumed in order.

        Odoo's test cases raise any requests timeout below 10 s to 10 s, so a latency meant
        to time out an Odoo client must exceed that; reset()/stop() cut the sleep short.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
            raise ValueError("path_prefix must be a path starting with /")
        method = options.pop("method", None)
        unknown = set(options) - FAULT_KINDS[kind]
        if unknown:
            raise ValueError(f"fault {kind!r} does not take {', '.join(sorted(unknown))}")
        status = options.get("status")
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("status must be an HTTP status code")
        for name in ("retry_after", "seconds"):
            value = options.get(name)
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{name} must be a non-negative number")
        fault = _Fault(kind, count, path_prefix, method.upper() if method else None, options)
        with self._lock:
            self._faults.append(fault)
        return fault.as_dict()

    def pending_faults(self):
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def _take_fault(self, method, path):
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if not fault.remaining:
                    self._faults.remove(fault)
                return fault
        return None

    # -- request handling --------------------------------------------------------------------

    def _dispatch(self, request):
        if request.path == "/_control" or request.path.startswith("/_control/"):
            return self._control(request)
        with self._lock:
            # Taken and recorded together so the log order matches fault consumption.
            fault = self._take_fault(request.method, request.path)
            self._requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query,
                    "headers": request.headers,
                    "body": request.body,
                    "json": request.json,
                    "time": request.time,
                    "fault": fault.kind if fault else None,
                }
            )
        if fault is None:
            return self._serve(request)
        options = fault.options
        if fault.kind == "status":
            status = options.get("status", 503)
            body = options.get("body")
            reply = _Reply(status, headers=dict(options.get("headers") or {}))
            if body is None:
                reply.payload = {"error": _reason(status)}
            elif isinstance(body, dict | list):
                reply.payload = body
            else:
                reply.raw = body.encode() if isinstance(body, str) else body
                reply.content_type = "text/plain; charset=utf-8"
            return reply
        if fault.kind == "rate_limit":
            retry_after = options.get("retry_after", 1)
            seconds = str(math.ceil(retry_after))
            return _error(
                429, "rate limit exceeded", **{"Retry-After": seconds, "x-retry-after": seconds}
            )
        if fault.kind == "malformed":
            body = options.get("body", b'{"id": "doc_4f2a", "status": "acce')
            return _Reply(200, raw=body.encode() if isinstance(body, str) else body)
        if fault.kind == "drop":
            return _Reply(0, drop=True)
        if fault.kind == "latency":
            with self._lock:
                wakeup = self._wakeup
            if wakeup.wait(options.get("seconds", DEFAULT_LATENCY)):
                return _Reply(0, drop=True)
            return self._serve(request)
        # accept_then_fail: the effect happens, the answer is lost (a gateway timing out).
        self._serve(request)
        return _error(options.get("status", 504), "upstream timed out")

    def _serve(self, request):
        if request.path == "/oauth/token":
            return self._issue_token(request)
        if request.path == "/api" or request.path.startswith("/api/"):
            problem = self._authenticate(request.headers)
            if problem:
                return _error(401, problem, **self._challenge())
            return self._api(request)
        return _error(404, f"no route for {request.path}")

    def _challenge(self):
        kind = self.auth["kind"]
        if kind == "basic":
            return {"WWW-Authenticate": 'Basic realm="partner-sandbox"'}
        if kind in ("bearer", "oauth2"):
            return {"WWW-Authenticate": 'Bearer realm="partner-sandbox"'}
        return {}

    def _authenticate(self, headers):
        """Return why the request is refused, or None."""
        if self.auth is None:
            return None
        kind = self.auth["kind"]
        if kind == "api_key":
            given = headers.get(self.auth["header"])
            if given is None:
                return f"missing {self.auth['header']} header"
            return None if _same(given, self.auth["value"]) else "invalid API key"
        scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
        credentials = credentials.strip()
        if kind == "basic":
            if scheme.lower() != "basic" or not credentials:
                return "missing Basic credentials"
            user, password = _decode_basic(credentials)
            if user is None:
                return "malformed Basic credentials"
            ok = _same(user, self.auth["username"]) & _same(password, self.auth["password"])
            return None if ok else "invalid username or password"
        if scheme.lower() != "bearer" or not credentials:
            return "missing bearer token"
        if kind == "bearer":
            return None if _same(credentials, self.auth["token"]) else "invalid token"
        with self._lock:
            expires_at = self._tokens.get(credentials)
            if expires_at is None:
                return "invalid or revoked token"
            if time.monotonic() >= expires_at:
                del self._tokens[credentials]
                return "token expired"
        return None

    def _issue_token(self, request):
        if self.auth is None or self.auth["kind"] != "oauth2":
            return _error(404, "this partner does not issue OAuth2 tokens")
        if request.method != "POST":
            return _error(405, "use POST", Allow="POST")
        content_type = request.headers.get("content-type") or ""
        if "json" in content_type:
            form = request.json if isinstance(request.json, dict) else {}
        else:
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            client_id, client_secret = _decode_basic(credentials.strip())
        else:
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
        # RFC 6749 §5.2: client authentication is checked before the grant.
        if not (
            client_id is not None
            and client_secret is not None
            and _same(client_id, self.auth["client_id"])
            & _same(client_secret, self.auth["client_secret"])
        ):
            return _error(401, "invalid_client", **{"WWW-Authenticate": 'Basic realm="oauth"'})
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type")
        token = secrets.token_urlsafe(32)
        expires_in = self.token_expires_in
        with self._lock:
            self._tokens[token] = time.monotonic() + expires_in
        return _Reply(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
            headers={"Cache-Control": "no-store"},
        )

    def _api(self, request):
        parts = request.path.strip("/").split("/")
        if len(parts) < 3 or parts[1] != "v1":
            return _error(404, f"no route for {request.path}")
        resource = parts[2]
        if resource == "ping" and len(parts) == 3:
            if request.method != "GET":
                return _error(405, "use GET", Allow="GET")
            return _Reply(200, {"status": "ok"})
        if not _RESOURCE_RE.match(resource) or len(parts) > 4:
            return _error(404, f"no route for {request.path}")
        if len(parts) == 4:
            if request.method != "GET":
                return _error(405, "use GET", Allow="GET")
            with self._lock:
                for document in self._documents.get(resource, []):
                    if document["id"] == parts[3]:
                        return _Reply(200, copy.deepcopy(document))
            return _error(404, f"{resource} {parts[3]} not found")
        if request.method == "GET":
            reference = request.query.get("reference")
            with self._lock:
                items = [
                    copy.deepcopy(document)
                    for document in self._documents.get(resource, [])
                    if reference is None or document["reference"] == reference
                ]
            return _Reply(200, {"items": items})
        if request.method == "POST":
            return self._create(resource, request)
        return _error(405, "use GET or POST", Allow="GET, POST")

    def _create(self, resource, request):
        if request.json_error:
            return _error(400, f"malformed JSON: {request.json_error}")
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        reference = body.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            return _error(400, "reference is required")
        key = request.headers.get("idempotency-key")
        with self._lock:
            documents = self._documents.setdefault(resource, [])
            by_key = key and next((d for d in documents if d["idempotency_key"] == key), None)
            if by_key and by_key["reference"] != reference:
                # Like Stripe: a key names one operation; reusing it for another is a client bug.
                return _error(
                    422,
                    f"Idempotency-Key {key} was already used for reference {by_key['reference']}",
                )
            # Dedup before validation: a replay must get its stored document, whatever changed.
            existing = by_key or next((d for d in documents if d["reference"] == reference), None)
            if existing:
                return _Reply(200, {**copy.deepcopy(existing), "duplicate": True})
            problem = self._invalid(body)
            if problem:
                return _error(422, problem)
            document = {
                "id": f"{resource[:3]}_{secrets.token_hex(6)}",
                "resource": resource,
                "reference": reference,
                "status": "accepted",
                "idempotency_key": key,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "data": copy.deepcopy(body),
            }
            documents.append(document)
        return _Reply(
            201,
            {"id": document["id"], "reference": reference, "status": "accepted"},
            headers={"Location": f"/api/v1/{resource}/{document['id']}"},
        )

    def _invalid(self, body):
        """Why a well-formed document is refused (422), or None."""
        if "lines" not in body:
            return None
        lines = body["lines"]
        if not isinstance(lines, list) or not lines:
            return "lines must be a non-empty list"
        for number, line in enumerate(lines, 1):
            if not isinstance(line, dict):
                return f"line {number} must be an object"
            sku = line.get("sku")
            if isinstance(sku, str) and sku in self.unknown_skus:
                return f"unknown SKU {sku}"
            for key in _QTY_KEYS:
                if key in line and not _is_positive_number(line[key]):
                    return f"line {number}: {key} must be a positive number"
        return None

    # -- test controls over HTTP (for the demo) ----------------------------------------------

    def _control(self, request):
        parts = request.path.strip("/").split("/")[1:]
        action = parts[0] if parts else ""
        method = request.method
        if request.body and request.json_error:
            return _error(400, f"malformed JSON: {request.json_error}")
        payload = request.json if isinstance(request.json, dict) else {}
        if action == "faults" and len(parts) == 1:
            if method == "GET":
                return _Reply(200, {"items": self.pending_faults()})
            if method == "DELETE":
                self.clear_faults()
                return _Reply(200, {"status": "cleared"})
            if method == "POST":
                options = dict(payload)
                kind = options.pop("kind", None)
                try:
                    return _Reply(201, {"queued": self.inject(kind, **options)})
                except (TypeError, ValueError) as exc:
                    return _error(400, str(exc))
        elif action == "reset" and len(parts) == 1 and method == "POST":
            self.reset()
            return _Reply(200, {"status": "reset"})
        elif action == "revoke_tokens" and len(parts) == 1 and method == "POST":
            self.revoke_tokens()
            return _Reply(200, {"status": "revoked"})
        elif action == "requests" and len(parts) == 1 and method == "GET":
            items = [
                {**entry, "body": entry["body"].decode("utf-8", "replace")}
                for entry in self.requests
            ]
            return _Reply(200, {"items": items})
        elif action == "documents" and len(parts) == 2 and method == "GET":
            return _Reply(200, {"items": self.documents(parts[1])})
        elif action == "unknown_skus" and len(parts) == 1 and method == "POST":
            skus = payload.get("skus")
            if not isinstance(skus, list) or not all(isinstance(s, str) for s in skus):
                return _error(400, "skus must be a list of strings")
            self.unknown_skus = set(skus)
            return _Reply(200, {"unknown_skus": sorted(self.unknown_skus)})
        elif action == "webhooks" and len(parts) == 1 and method == "POST":
            return self._control_webhook(payload)
        else:
            return _error(404, f"no control {request.path}")
        return _error(405, f"method {method} not allowed on {request.path}")

    def _control_webhook(self, payload):
        url, event_type, data = payload.get("url"), payload.get("type"), payload.get("data")
        if not isinstance(url, str) or not isinstance(event_type, str):
            return _error(400, "url and type are required")
        if not isinstance(data, dict):
            return _error(400, "data must be an object")
        try:
            status, text = self.send_webhook(url, event_type, data, msg_id=payload.get("msg_id"))
        except ValueError as exc:
            return _error(400, str(exc))
        except requests.RequestException as exc:
            return _error(502, f"delivery failed: {exc}")
        return _Reply(200, {"status_code": status, "response": text[:2000]})

    # -- webhooks back to Odoo ---------------------------------------------------------------

    def send_webhook(
        self,
        url,
        event_type,
        data,
        *,
        msg_id=None,
        timestamp=None,
        secret=None,
        body_override=None,
        signature_override=None,
        extra_headers=None,
        sign_body_override=False,
        timeout=10,
    ):
        """POST a Standard Webhooks delivery; return (status_code, response_text).

        The body is {"type", "timestamp", "data"}, signed with the standardwebhooks package.
        body_override replaces the bytes sent while the signature still covers the normal
        body (a tampered delivery), unless sign_body_override=True. timestamp (datetime or
        epoch seconds) backdates a delivery; reusing msg_id makes a duplicate delivery.
        Raises requests.RequestException when nothing answers.
        """
        secret = secret or self.webhook_secret
        if not secret and signature_override is None:
            raise ValueError("no webhook secret: pass secret= or construct with webhook_secret=")
        msg_id = msg_id or f"msg_{secrets.token_hex(12)}"
        moment = _as_utc(timestamp)
        body = json.dumps({"type": event_type, "timestamp": moment.isoformat(), "data": data})
        sent = body.encode()
        signed = body
        if body_override is not None:
            sent = body_override
            if sign_body_override:
                signed = body_override.decode()
        if signature_override is None:
            signature = Webhook(secret).sign(msg_id, moment, signed)
        else:
            signature = signature_override
        headers = {
            "Content-Type": "application/json",
            "User-Agent": _Handler.server_version,
            "webhook-id": msg_id,
            "webhook-timestamp": str(math.floor(moment.timestamp())),
            "webhook-signature": signature,
            "x-webhook-topic": event_type,
            **(extra_headers or {}),
        }
        response = requests.post(url, data=sent, headers=headers, timeout=timeout)
        with self._lock:
            self._webhooks_sent.append(
                {
                    "url": url,
                    "msg_id": msg_id,
                    "type": event_type,
                    "status_code": response.status_code,
                    "time": time.time(),
                }
            )
        _logger.info("partner sandbox webhook %s %s -> %s", event_type, url, response.status_code)
        return response.status_code, response.text


def _decode_basic(credentials):
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else (None, None)


def _reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
