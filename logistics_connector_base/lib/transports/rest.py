"""REST transport over requests: authentication, error classification, bounded reads, capture.

The request-rate limit is not here: it is shared by every worker through the database
(logistics.backend._rate_limit_slot)."""

import base64
import hashlib
import json as jsonlib
import os
import re
import threading
import time
import zlib
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from ..errors import BusinessError, ConfigurationError, TransientError
from ..masking import mask_headers, mask_secrets
from ..retry import parse_retry_after
from .base import SessionTransport

USER_AGENT = "odoo-logistics-connector/18.0"
# statuses worth retrying besides 5xx: request timeout, too early, too many requests
TRANSIENT_STATUSES = frozenset({408, 425, 429})
# how much of a partner's error body goes into the message a person reads
EXCERPT_LENGTH = 300
# captured bodies beyond this are cut: a capture is for people, not a backup
MAX_CAPTURE_BYTES = 2 * 1024 * 1024
# answers beyond this are refused, not read: a partner bug must not exhaust a worker's memory
DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
RESPONSE_CHUNK_BYTES = 64 * 1024
# renew an OAuth token this long before it expires (at most a tenth of its lifetime), so it
# does not expire in flight
TOKEN_REFRESH_MARGIN = 60.0
# lifetime assumed when a token response has no expires_in (a 401 refreshes it anyway)
DEFAULT_TOKEN_LIFETIME = 600.0

# OAuth2 client-credentials tokens, shared by every transport of the process:
# (token_url, client_id, scope) -> (access_token, monotonic time to renew it)
_token_cache = {}
_token_locks = {}
_token_registry_lock = threading.Lock()


def clear_token_cache():
    """Forget every cached OAuth2 token (tests, or after changing credentials)."""
    with _token_registry_lock:
        _token_cache.clear()


def _token_lock(key):
    with _token_registry_lock:
        return _token_locks.setdefault(key, threading.Lock())


class RestResponse:
    """What the partner answered: ``status``, ``headers``, ``content`` (bytes), ``elapsed``
    (seconds), ``url`` and the masked ``exchange`` capture."""

    def __init__(self, status, headers, content, elapsed, url, exchange=None):
        self.status = status
        self.headers = CaseInsensitiveDict(headers or {})
        self.content = content or b""
        self.elapsed = elapsed
        self.url = url
        self.exchange = exchange

    @property
    def ok(self):
        return 200 <= self.status < 300

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON (None for an empty body).

        A body that is not JSON is a TransientError: usually a proxy error page or a
        truncated answer, and retrying is safe because requests carry idempotency keys.
        """
        if not self.content.strip():
            return None
        try:
            return jsonlib.loads(self.content)
        except ValueError:
            raise TransientError(
                f"The partner answered HTTP {self.status} with a body that is not valid JSON: "
                f"{_excerpt(self.content)!r}",
                status=self.status,
            ) from None

    def __repr__(self):
        return f"<RestResponse {self.status} {self.url}>"


def _excerpt(content, length=EXCERPT_LENGTH):
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= length else text[: length - 3] + "..."


def _capture_body(body):
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode("utf-8")
    cut = len(body) > MAX_CAPTURE_BYTES
    text = body[:MAX_CAPTURE_BYTES].decode("utf-8", "replace")
    return text + (f"... [{len(body)} bytes, cut]" if cut else "")


def _decoder(content_encoding):
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None


def _socket_of(response):
    """The socket under a streamed requests response (urllib3 2 / http.client), or None."""
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def _check_url(url, what="base URL"):
    try:
        parts = urlsplit(url or "")
        # .port raises ValueError for a port that is not a number or out of range
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        ok = False
    if not ok:
        raise ConfigurationError(
            f"The partner's {what} {url!r} is not valid: it must look like "
            "https://host[:port]/path."
        )


def classify_request_exception(exc, url, timeout, sent=None):
    """LogisticsError for a requests exception; the message names the host, never a
    credential (the URL's query may hold an API key, so it is not quoted).

    :param timeout: (connect, read) seconds, quoted in the message
    :param sent: whether the request reached the partner, when the caller knows
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    where = f"{parts.hostname}:{port or (443 if parts.scheme == 'https' else 80)}"
    details = {"exception": type(exc).__name__}
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigurationError(
            f"The TLS certificate of {where} could not be verified: check the partner's "
            "URL or its certificate.",
            details=details,
        )
    invalid = (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidHeader,
    )
    if isinstance(exc, invalid):
        return ConfigurationError(
            f"The request to {where} is not valid ({type(exc).__name__}): check the URL and "
            "the headers configured for the partner.",
            details=details,
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        details["request_sent"] = False
        message = f"Could not connect to {where} within {timeout[0]:g} seconds."
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        # the partner got the request and may have acted on it
        details["request_sent"] = True
        message = f"{where} did not answer within {timeout[1]:g} seconds."
    elif isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        refused = "refused" in text
        unknown = "name or service not known" in text or "nodename" in text
        if refused or unknown:
            details["request_sent"] = False
        elif sent is not None:
            details["request_sent"] = sent
        if refused:
            reason = "connection refused"
        elif unknown:
            reason = "unknown host name"
        else:
            reason = "connection failed or was dropped"
        message = f"Could not reach {where} ({reason})."
    else:
        message = f"The exchange with {where} failed ({type(exc).__name__})."
    return TransientError(message, details=details)


class RestTransport(SessionTransport):
    """HTTP client for one partner endpoint.

    :param base_url: e.g. ``https://api.partner.example/v2``; relative paths are joined to it
    :param auth: ``{"kind": "none"}``, ``{"kind": "basic", "username", "password"}``,
        ``{"kind": "bearer", "token"}``, ``{"kind": "api_key", "header", "value"}`` or
        ``{"kind": "oauth2", "token_url", "client_id", "client_secret", "scope"}``
        (client credentials; optional ``"client_auth": "basic" | "body"``)
    :param timeout: (connect, read) seconds, or one number for both
    :param secrets: more values to mask in captures (e.g. webhook secrets)
    :param max_response_bytes: a longer answer is refused (BusinessError) without reading it
    :param cache_scope: what OAuth2 tokens are shared within besides the credentials, e.g.
        ``(database, partner id)``: two partners never share a token

    One instance is meant for one worker: ``last_exchange`` describes its latest call.
    """

    def __init__(
        self,
        base_url,
        auth=None,
        timeout=(5, 30),
        verify_tls=True,
        default_headers=None,
        secrets=(),
        max_response_bytes=DEFAULT_MAX_RESPONSE_BYTES,
        cache_scope=None,
    ):
        _check_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.auth = dict(auth or {"kind": "none"})
        self.auth.setdefault("kind", "none")
        self._check_auth()
        if isinstance(timeout, (int, float)):
            timeout = (timeout, timeout)
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.verify_tls = verify_tls
        self.default_headers = dict(default_headers or {})
        self._extra_secrets = [s for s in secrets or () if s]
        self.max_response_bytes = max_response_bytes
        self.cache_scope = cache_scope
        self.session = requests.Session()
        # The environment's proxies and CA bundle are read once here, not on every request
        # (requests re-reads them, and ~/.netrc, per call when trust_env is on).
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if verify_tls is True:
            self.verify_tls = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
        self.session.trust_env = False
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.headers.update(self.default_headers)
        self.last_exchange = None

    # -- setup --------------------------------------------------------------------------------
    def _check_auth(self):
        auth = self.auth
        kind = auth["kind"] or "none"
        required = {
            "none": (),
            "basic": ("username",),
            "bearer": ("token",),
            "api_key": ("value",),
            "oauth2": ("token_url", "client_id", "client_secret"),
        }
        if kind not in required:
            raise ConfigurationError(
                f"Unknown authentication kind {kind!r}: use none, basic, bearer, api_key or oauth2."
            )
        missing = [name for name in required[kind] if not auth.get(name)]
        if missing:
            raise ConfigurationError(
                f"The partner's {kind} authentication is missing: {', '.join(missing)}."
            )
        if kind == "api_key":
            auth["header"] = auth.get("header") or "X-Api-Key"
        if kind == "oauth2":
            _check_url(auth["token_url"], "token URL")

    def secret_values(self):
        """Every credential value this transport knows, for masking."""
        auth = self.auth
        values = [auth.get(name) for name in ("password", "token", "value", "client_secret")]
        if auth["kind"] == "basic":
            # the Authorization header is masked anyway, but a partner may echo it in a body
            pair = f"{auth.get('username')}:{auth.get('password') or ''}"
            values.append(base64.b64encode(pair.encode()).decode())
        if auth["kind"] == "oauth2":
            cached = _token_cache.get(self._token_key())
            if cached:
                values.append(cached[0])
        return [v for v in values + self._extra_secrets if v]

    def url_for(self, path):
        if re.match(r"^https?://", path or ""):
            return path  # absolute, e.g. a next-page link
        return f"{self.base_url}/{(path or '').lstrip('/')}"

    # -- OAuth2 -------------------------------------------------------------------------------
    def _token_key(self):
        """Tokens are shared per credentials and scope: a rotated secret gets a new token,
        two partners (or databases) with the same token URL and client id never share one."""
        auth = self.auth
        secret_hash = hashlib.sha256((auth.get("client_secret") or "").encode()).hexdigest()
        return (
            self.cache_scope,
            auth.get("token_url"),
            auth.get("client_id"),
            auth.get("scope") or "",
            secret_hash,
        )

    def _oauth_token(self, stale=None):
        """A valid access token, from the process-wide cache or the token endpoint.

        ``stale`` is a token the partner just refused: it is dropped unless another thread
        already replaced it.
        """
        key = self._token_key()
        with _token_lock(key):
            cached = _token_cache.get(key)
            if cached and stale is not None and cached[0] == stale:
                cached = None
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = self._fetch_token()
            # renew a little before expiry: 60 s, or a tenth of a short lifetime
            margin = min(TOKEN_REFRESH_MARGIN, lifetime / 10)
            _token_cache[key] = (token, time.monotonic() + lifetime - margin)
            return token

    def _fetch_token(self):
        auth = self.auth
        data = {"grant_type": "client_credentials"}
        if auth.get("scope"):
            data["scope"] = auth["scope"]
        request_auth = None
        if auth.get("client_auth") == "body":
            data.update(client_id=auth["client_id"], client_secret=auth["client_secret"])
        else:
            request_auth = (auth["client_id"], auth["client_secret"])
        try:
            response = self.session.post(
                auth["token_url"],
                data=data,
                auth=request_auth,
                timeout=self.timeout,
                verify=self.verify_tls,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise self._network_error(exc, auth["token_url"], sent=False) from None
        status = response.status_code
        if status >= 500 or status in TRANSIENT_STATUSES:
            raise TransientError(
                f"The partner's token endpoint is unavailable (HTTP {status}).",
                status=status,
                retry_after=self._retry_after(response.headers),
            )
        if status != 200:
            body = mask_secrets(_excerpt(response.content, 200), self.secret_values())
            raise ConfigurationError(
                f"The partner refused the credentials: its token endpoint answered HTTP "
                f"{status} ({body}). Check the client id and secret.",
                status=status,
            )
        try:
            payload = response.json()
            token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(
                "The partner's token endpoint answered without an access_token: check the "
                "token URL."
            ) from None
        try:
            lifetime = float(payload.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
        except (TypeError, ValueError):
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, lifetime

    # -- requests -----------------------------------------------------------------------------
    def _auth_headers(self, token=None):
        auth = self.auth
        kind = auth["kind"]
        if kind == "basic":
            pair = f"{auth['username']}:{auth.get('password') or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        if kind == "bearer":
            return {"Authorization": f"Bearer {auth['token']}"}
        if kind == "api_key":
            return {auth["header"]: auth["value"]}
        if kind == "oauth2":
            return {"Authorization": f"Bearer {token}"}
        return {}

    def request(
        self,
        method,
        path,
        *,
        json=None,
        data=None,
        params=None,
        headers=None,
        correlation_id=None,
        idempotency_key=None,
        accept_statuses=(),
    ):
        """Send one request and return a RestResponse for 2xx (and ``accept_statuses``).

        :param accept_statuses: error statuses the caller handles itself (e.g. 404 when
            asking whether an order exists, 422 for a duplicate reference): returned, not
            raised
        :raises TransientError: network error, timeout, 5xx, 408, 425, 429 (with
            ``retry_after``); ``details["request_sent"]`` tells whether the partner may have
            received the request
        :raises BusinessError: any other 4xx; ``error.response`` holds the answer
        :raises ConfigurationError: 401/403 (after one token refresh for oauth2), bad URL,
            TLS failure, unexpected redirect
        """
        self.last_exchange = None
        url = self.url_for(path)
        _check_url(url, "URL")
        call_headers = dict(headers or {})
        if correlation_id:
            call_headers["X-Correlation-ID"] = str(correlation_id)
        if idempotency_key:
            call_headers["Idempotency-Key"] = str(idempotency_key)
        token = self._oauth_token() if self.auth["kind"] == "oauth2" else None
        response = self._send(method, url, json, data, params, call_headers, token)
        if response.status == 401 and self.auth["kind"] == "oauth2":
            # the token may have been revoked or expired early: one fresh token, one retry
            token = self._oauth_token(stale=token)
            response = self._send(method, url, json, data, params, call_headers, token)
        if response.status in accept_statuses or 200 <= response.status < 300:
            return response
        raise self._status_error(response)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def _send(self, method, url, json, data, params, headers, token):
        all_headers = {**headers, **self._auth_headers(token)}
        try:
            prepared = self.session.prepare_request(
                requests.Request(
                    method.upper(), url, json=json, data=data, params=params, headers=all_headers
                )
            )
        except (requests.RequestException, ValueError) as exc:
            raise ConfigurationError(
                f"Cannot build the request to {mask_secrets(url, self.secret_values())}: "
                f"{type(exc).__name__}."
            ) from None
        secrets = self.secret_values()
        exchange = {
            "request": {
                "method": prepared.method,
                "url": mask_secrets(prepared.url, secrets),
                "headers": mask_secrets(mask_headers(prepared.headers), secrets),
                "body": mask_secrets(_capture_body(prepared.body), secrets),
            },
            "response": None,
        }
        self.last_exchange = exchange
        started = time.monotonic()
        try:
            raw = self.session.send(
                prepared,
                timeout=self.timeout,
                verify=self.verify_tls,
                allow_redirects=False,
                stream=True,
            )
            content = self._read_bounded(raw, url, started)
        except (requests.RequestException, BusinessError, TransientError) as exc:
            exchange["elapsed"] = time.monotonic() - started
            error = exc
            if isinstance(exc, requests.RequestException):
                error = self._network_error(exc, url, sent=None)
            exchange["error"] = error.message
            error.exchange = exchange
            raise error from None
        elapsed = time.monotonic() - started
        exchange["elapsed"] = elapsed
        exchange["response"] = {
            "status": raw.status_code,
            "headers": mask_secrets(mask_headers(raw.headers), secrets),
            "body": mask_secrets(_capture_body(content), secrets),
        }
        return RestResponse(raw.status_code, raw.headers, content, elapsed, url, exchange)

    def _read_bounded(self, raw, url, started):
        """The answer's body, read within the read timeout in total and refused beyond
        max_response_bytes once decompressed.

        The read timeout of requests applies to each socket read, so a partner sending a
        byte now and then could hold a worker for ever; and a small gzip body may unpack to
        gigabytes. So the body is read one socket read at a time, each allowed only what is
        left of the budget, and unpacked here with a bound."""
        limit = self.max_response_bytes
        where = urlsplit(url).hostname
        fp = None
        try:
            declared = int(raw.headers.get("Content-Length") or 0)
            if limit and declared > limit:
                raise self._too_large(where, raw.status_code, limit)
            fp, sock = getattr(raw.raw, "_fp", None), _socket_of(raw)
            if not hasattr(fp, "read1"):
                return raw.content  # not an http.client response: no finer control
            decoder = _decoder(raw.headers.get("Content-Encoding"))
            chunks, size = [], 0
            while True:
                remaining = self.timeout[1] - (time.monotonic() - started)
                if remaining <= 0:
                    raise TransientError(
                        f"{where} did not finish its answer within {self.timeout[1]:g} seconds.",
                        details={"request_sent": True},
                    )
                if sock is not None:
                    sock.settimeout(remaining)
                try:
                    data = fp.read1(RESPONSE_CHUNK_BYTES)
                except TimeoutError:
                    continue  # the budget is spent: answered above
                if decoder is not None:
                    data = decoder.decompress(data, (limit - size + 1) if limit else 0)
                elif not data:
                    break
                size += len(data)
                if limit and size > limit:
                    raise self._too_large(where, raw.status_code, limit)
                chunks.append(data)
                if decoder is not None and not data and (decoder.eof or fp.isclosed()):
                    break
            return b"".join(chunks)
        finally:
            if hasattr(fp, "read1") and (fp.isclosed() or fp.length == 0):
                # Read to its end: the connection goes back to the pool for the next call
                # (keep-alive), as a non-streamed request would.
                fp.close()
                raw.raw.release_conn()
            else:
                raw.close()

    def _too_large(self, where, status, limit):
        return BusinessError(
            f"The answer of {where} is larger than the {limit} bytes accepted: ask the "
            "partner why.",
            status=status,
            details={"request_sent": True},
        )

    def _network_error(self, exc, url, sent):
        return classify_request_exception(exc, url, self.timeout, sent=sent)

    def _retry_after(self, headers):
        # Retry-After is the standard; ShipBob sends x-retry-after
        for name in ("Retry-After", "X-Retry-After"):
            value = parse_retry_after(headers.get(name))
            if value is not None:
                return value
        return None

    def _status_error(self, response):
        status = response.status
        body = mask_secrets(_excerpt(response.content), self.secret_values())
        details = {"body_excerpt": body}
        if status >= 500 or status in TRANSIENT_STATUSES:
            details["request_sent"] = True
            reason = "is rate limiting us" if status == 429 else "could not process the request"
            error = TransientError(
                f"The partner {reason} (HTTP {status}){': ' + body if body else ''}.",
                status=status,
                retry_after=self._retry_after(response.headers),
                details=details,
            )
        elif status in (401, 403):
            error = ConfigurationError(
                f"The partner refused the credentials (HTTP {status}): check the user, "
                "password, token or key of its endpoint.",
                status=status,
                details=details,
            )
        elif 300 <= status < 400:
            location = mask_secrets(response.headers.get("Location") or "?", self.secret_values())
            error = ConfigurationError(
                f"The partner redirected the request (HTTP {status}) to {location}: update "
                "its base URL.",
                status=status,
                details=details,
            )
        else:
            error = BusinessError(
                f"The partner rejected the request (HTTP {status}){': ' + body if body else ''}",
                status=status,
                details=details,
            )
        error.response = response
        error.exchange = response.exchange
        return error
