"""RestTransport against a real HTTP server on 127.0.0.1 started by the test."""

import base64
import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from odoo.addons.logistics_connector_base.lib.errors import (
    BusinessError,
    ConfigurationError,
    TransientError,
)
from odoo.addons.logistics_connector_base.lib.masking import MASK
from odoo.addons.logistics_connector_base.lib.transports.rest import (
    RestTransport,
    clear_token_cache,
)
from tests.sandboxes.loopback import LoopbackServer, free_port

CLIENT_ID = "lc-client"
CLIENT_SECRET = "cl1ent-s3cret-value"
PASSWORD = "b4sic-pa55word"
API_KEY = "ak-0123456789"
BEARER = "static-bearer-token-xyz"


class PartnerState:
    """What the fake partner knows and saw; tests read and steer it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.tokens_issued = []
        self.valid_tokens = set()
        self.token_lifetime = 3600
        self.token_delay = 0.0
        self.revoke_on_issue = False

    def record(self, handler, body):
        entry = {
            "method": handler.command,
            "path": urlsplit(handler.path).path,
            "query": parse_qs(urlsplit(handler.path).query),
            "headers": {k.lower(): v for k, v in handler.headers.items()},
            "body": body,
            "at": time.monotonic(),
        }
        with self.lock:
            self.requests.append(entry)
        return entry

    def hits(self, path):
        return [r for r in self.requests if r["path"] == path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass  # keep test output clean

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        state = self.server.state
        entry = state.record(self, self._body())
        path, query = entry["path"], entry["query"]
        auth = entry["headers"].get("authorization", "")
        if path == "/token":
            return self._token(state, entry, auth)
        if path == "/echo":
            return self._send(
                200,
                {
                    "method": entry["method"],
                    "headers": entry["headers"],
                    "query": query,
                    "body": entry["body"].decode(),
                },
            )
        if path == "/basic":
            expected = "Basic " + base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
            return self._send(200 if auth == expected else 401, {"ok": auth == expected})
        if path == "/bearer":
            ok = auth == f"Bearer {BEARER}"
            return self._send(200 if ok else 401, {"ok": ok})
        if path == "/apikey":
            ok = entry["headers"].get("x-partner-key") == API_KEY
            return self._send(200 if ok else 403, {"ok": ok})
        if path == "/oauth/resource":
            token = auth.removeprefix("Bearer ")
            with state.lock:
                ok = token in state.valid_tokens
            if not ok:
                return self._send(401, {"error": "invalid_token"})
            return self._send(200, {"token": token})
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            headers = {name: values[0] for name, values in query.items()}
            return self._send(status, {"error": f"status {status}", "detail": "x" * 20}, headers)
        if path == "/slow":
            time.sleep(float(query["delay"][0]))
            return self._send(200, {"slow": True})
        if path == "/trickle":
            # A partner that sends its answer a few bytes at a time, each in time.
            chunks = int(query["chunks"][0])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(chunks))
            self.end_headers()
            for _chunk in range(chunks):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.2)
            return None
        if path == "/gzip":
            body = gzip.compress(b"x" * int(query["size"][0]))
            return self._send(200, body, {"Content-Encoding": "gzip"})
        if path == "/big":
            size = int(query["size"][0])
            declared = query.get("declared", ["yes"])[0] == "yes"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declared:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * size)
            return None
        if path == "/text":
            return self._send(200, "<html>gateway says hi</html>", content_type="text/html")
        if path == "/long-error":
            return self._send(422, "E" * 2000, content_type="text/plain")
        if path == "/redirect":
            return self._send(301, b"", {"Location": "https://elsewhere.test/v2/"})
        if path == "/empty":
            return self._send(204)
        return self._send(404, {"error": "not found"})

    def _token(self, state, entry, auth):
        if state.token_delay:
            time.sleep(state.token_delay)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = parse_qs(entry["body"].decode())
        body_ok = form.get("client_id") == [CLIENT_ID] and form.get("client_secret") == [
            CLIENT_SECRET
        ]
        if form.get("grant_type") != ["client_credentials"] or not (auth == expected or body_ok):
            return self._send(401, {"error": "invalid_client"})
        with state.lock:
            token = f"tok-{len(state.tokens_issued) + 1}"
            state.tokens_issued.append({"token": token, "scope": form.get("scope")})
            if not state.revoke_on_issue:
                state.valid_tokens.add(token)
        return self._send(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": state.token_lifetime},
        )


@pytest.fixture
def partner():
    server = LoopbackServer(Handler).start()
    server.state = PartnerState()
    clear_token_cache()
    yield server
    server.stop()
    clear_token_cache()


def oauth(partner, **extra):
    return {
        "kind": "oauth2",
        "token_url": f"{partner.url}/token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **extra,
    }


# -- authentication ---------------------------------------------------------------------------
def test_basic_bearer_and_api_key_auth(partner):
    basic = RestTransport(
        partner.url, auth={"kind": "basic", "username": "ops", "password": PASSWORD}
    )
    assert basic.get("/basic").json() == {"ok": True}
    bearer = RestTransport(partner.url, auth={"kind": "bearer", "token": BEARER})
    assert bearer.get("bearer").json() == {"ok": True}
    key = RestTransport(
        partner.url, auth={"kind": "api_key", "header": "X-Partner-Key", "value": API_KEY}
    )
    assert key.get("/apikey").json() == {"ok": True}
    none = RestTransport(partner.url, auth={"kind": "none"})
    echoed = none.get("/echo").json()
    assert "authorization" not in echoed["headers"]


def test_refused_credentials_are_a_configuration_error(partner):
    wrong = RestTransport(partner.url, auth={"kind": "bearer", "token": "wrong-token"})
    with pytest.raises(ConfigurationError) as caught:
        wrong.get("/bearer")
    assert caught.value.status == 401
    assert caught.value.message.startswith("The partner refused the credentials (HTTP 401)")
    key = RestTransport(
        partner.url, auth={"kind": "api_key", "header": "X-Partner-Key", "value": "nope"}
    )
    with pytest.raises(ConfigurationError) as caught:
        key.get("/apikey")
    assert caught.value.status == 403


def test_auth_configuration_is_checked_up_front():
    with pytest.raises(ConfigurationError, match="Unknown authentication kind 'digest'"):
        RestTransport("https://api.partner.test", auth={"kind": "digest"})
    with pytest.raises(ConfigurationError, match="missing: token_url, client_secret"):
        RestTransport("https://api.partner.test", auth={"kind": "oauth2", "client_id": "x"})
    with pytest.raises(ConfigurationError, match="bearer authentication is missing: token"):
        RestTransport("https://api.partner.test", auth={"kind": "bearer", "token": False})
    for url in ("api.partner.test", "ftp://api.partner.test", "https://", "http://h:99999/x", ""):
        with pytest.raises(ConfigurationError, match="is not valid"):
            RestTransport(url)


def test_oauth2_token_is_cached_process_wide(partner):
    first = RestTransport(partner.url, auth=oauth(partner))
    second = RestTransport(partner.url, auth=oauth(partner))
    assert first.get("/oauth/resource").json() == {"token": "tok-1"}
    assert second.get("/oauth/resource").json() == {"token": "tok-1"}
    assert first.get("/oauth/resource").json() == {"token": "tok-1"}
    assert len(partner.state.tokens_issued) == 1
    # the client authenticated with HTTP Basic, not in the form
    [token_call] = partner.state.hits("/token")
    assert b"client_secret" not in token_call["body"]
    # another scope is another token
    scoped = RestTransport(partner.url, auth=oauth(partner, scope="orders:write"))
    assert scoped.get("/oauth/resource").json() == {"token": "tok-2"}
    assert partner.state.tokens_issued[1]["scope"] == ["orders:write"]


def test_oauth2_client_credentials_in_body(partner):
    transport = RestTransport(partner.url, auth=oauth(partner, client_auth="body"))
    assert transport.get("/oauth/resource").status == 200
    [token_call] = partner.state.hits("/token")
    assert "authorization" not in token_call["headers"]


def test_oauth2_concurrent_first_use_fetches_one_token(partner):
    partner.state.token_delay = 0.2  # make the threads overlap on the token request
    transports = [RestTransport(partner.url, auth=oauth(partner)) for _ in range(5)]
    results = []

    def work(transport):
        results.append(transport.get("/oauth/resource").json()["token"])

    threads = [threading.Thread(target=work, args=(t,)) for t in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["tok-1"] * 5
    assert len(partner.state.tokens_issued) == 1


def test_oauth2_token_refreshed_before_expiry(partner):
    # a one-second token is renewed a tenth of its lifetime before it expires
    partner.state.token_lifetime = 1
    transport = RestTransport(partner.url, auth=oauth(partner))
    assert transport.get("/oauth/resource").json() == {"token": "tok-1"}
    time.sleep(0.95)  # past the renewal point, before the partner would refuse it
    assert transport.get("/oauth/resource").json() == {"token": "tok-2"}
    assert len(partner.state.tokens_issued) == 2


def test_oauth2_refresh_once_on_401_then_retry(partner):
    transport = RestTransport(partner.url, auth=oauth(partner))
    assert transport.get("/oauth/resource").json() == {"token": "tok-1"}
    partner.state.valid_tokens.clear()  # the partner revoked the token early
    assert transport.post("/oauth/resource", json={"a": 1}).json() == {"token": "tok-2"}
    calls = partner.state.hits("/oauth/resource")
    assert [c["headers"]["authorization"] for c in calls] == [
        "Bearer tok-1",
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    # the retried request is the same request
    assert calls[1]["body"] == calls[2]["body"] == b'{"a": 1}'


def test_oauth2_persistent_401_is_a_configuration_error(partner):
    transport = RestTransport(partner.url, auth=oauth(partner))
    partner.state.revoke_on_issue = True  # every token is refused as soon as it is issued
    with pytest.raises(ConfigurationError) as caught:
        transport.get("/oauth/resource")
    assert caught.value.message.startswith("The partner refused the credentials (HTTP 401)")
    # exactly one refresh and one retry, no loop
    assert len(partner.state.hits("/oauth/resource")) == 2
    assert len(partner.state.tokens_issued) == 2


def test_oauth2_bad_client_secret(partner):
    transport = RestTransport(partner.url, auth=oauth(partner, client_secret="wrong-secret-1"))
    with pytest.raises(ConfigurationError) as caught:
        transport.get("/oauth/resource")
    message = caught.value.message
    assert message.startswith(
        "The partner refused the credentials: its token endpoint answered HTTP 401"
    )
    assert "wrong-secret-1" not in message
    assert not partner.state.hits("/oauth/resource")


def test_oauth2_token_endpoint_down_is_transient(partner):
    auth = oauth(partner, token_url=f"http://127.0.0.1:{free_port()}/token")
    with pytest.raises(TransientError) as caught:
        RestTransport(partner.url, auth=auth).get("/oauth/resource")
    assert "connection refused" in caught.value.message


# -- headers ----------------------------------------------------------------------------------
def test_correlation_idempotency_and_default_headers(partner):
    transport = RestTransport(partner.url, default_headers={"X-API-Version": "2026-07"})
    answer = transport.post(
        "/echo",
        json={"reference": "WH/OUT/1"},
        params={"dry": "1"},
        headers={"X-Extra": "yes"},
        correlation_id="corr-123",
        idempotency_key="order-WH/OUT/1",
    ).json()
    headers = answer["headers"]
    assert headers["x-correlation-id"] == "corr-123"
    assert headers["idempotency-key"] == "order-WH/OUT/1"
    assert headers["x-api-version"] == "2026-07"
    assert headers["x-extra"] == "yes"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("odoo-logistics-connector/")
    assert answer["query"] == {"dry": ["1"]}
    assert json.loads(answer["body"]) == {"reference": "WH/OUT/1"}
    plain = transport.get("/echo").json()["headers"]
    assert "x-correlation-id" not in plain and "idempotency-key" not in plain


def test_absolute_urls_and_empty_bodies(partner):
    transport = RestTransport(f"{partner.url}/v2/")
    # a next-page link is followed as given
    assert transport.get(f"{partner.url}/echo").json()["method"] == "GET"
    response = transport.delete(f"{partner.url}/empty")
    assert (response.status, response.content, response.json()) == (204, b"", None)
    assert transport.url_for("orders") == f"{partner.url}/v2/orders"


# -- error classification ---------------------------------------------------------------------
@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 425])
def test_server_errors_are_transient(partner, status):
    transport = RestTransport(partner.url)
    with pytest.raises(TransientError) as caught:
        transport.post(f"/status/{status}", json={})
    error = caught.value
    assert (error.status, error.error_class) == (status, "transient")
    assert error.details["request_sent"] is True
    assert f"(HTTP {status})" in error.message
    assert error.retry_after is None


def test_429_retry_after_seconds_and_date(partner):
    transport = RestTransport(partner.url)
    with pytest.raises(TransientError) as caught:
        transport.get("/status/429", params={"Retry-After": "7"})
    assert caught.value.retry_after == 7.0
    assert caught.value.message.startswith("The partner is rate limiting us (HTTP 429)")
    # ShipBob's header name
    with pytest.raises(TransientError) as caught:
        transport.get("/status/429", params={"x-retry-after": "12"})
    assert caught.value.retry_after == 12.0
    later = time.gmtime(time.time() + 120)
    with pytest.raises(TransientError) as caught:
        transport.get(
            "/status/503", params={"Retry-After": time.strftime("%a, %d %b %Y %H:%M:%S GMT", later)}
        )
    assert 60 < caught.value.retry_after <= 120


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_are_business_errors(partner, status):
    transport = RestTransport(partner.url)
    with pytest.raises(BusinessError) as caught:
        transport.post(f"/status/{status}", json={"x": 1})
    error = caught.value
    assert error.status == status
    assert error.message == (
        f'The partner rejected the request (HTTP {status}): {{"error": "status {status}", '
        f'"detail": "xxxxxxxxxxxxxxxxxxxx"}}'
    )
    assert error.response.json()["error"] == f"status {status}"


def test_long_error_bodies_are_cut(partner):
    with pytest.raises(BusinessError) as caught:
        RestTransport(partner.url).get("/long-error")
    assert caught.value.message.endswith("EEE...")
    assert len(caught.value.message) < 360


def test_accepted_statuses_are_returned(partner):
    response = RestTransport(partner.url).get("/status/404", accept_statuses=(404,))
    assert response.status == 404
    assert not response.ok
    assert response.json() == {"error": "status 404", "detail": "x" * 20}


def test_redirects_are_not_followed(partner):
    with pytest.raises(ConfigurationError) as caught:
        RestTransport(partner.url).post("/redirect", json={})
    assert caught.value.message == (
        "The partner redirected the request (HTTP 301) to https://elsewhere.test/v2/: update "
        "its base URL."
    )


def test_connection_refused_is_transient_and_not_sent():
    port = free_port()
    with pytest.raises(TransientError) as caught:
        RestTransport(f"http://127.0.0.1:{port}").post("/orders", json={})
    error = caught.value
    assert error.message == f"Could not reach 127.0.0.1:{port} (connection refused)."
    assert error.details["request_sent"] is False
    assert error.exchange["response"] is None
    assert error.exchange["request"]["method"] == "POST"


def test_read_timeout_is_transient_and_maybe_sent(partner):
    transport = RestTransport(partner.url, timeout=(2, 0.3))
    with pytest.raises(TransientError) as caught:
        transport.post("/slow", params={"delay": "1.5"}, json={})
    error = caught.value
    port = partner.server_address[1]
    assert error.message == f"127.0.0.1:{port} did not answer within 0.3 seconds."
    # the partner may have acted on it: a retry must check first
    assert error.details["request_sent"] is True


def test_body_that_is_not_json(partner):
    response = RestTransport(partner.url).get("/text")
    assert response.text == "<html>gateway says hi</html>"
    with pytest.raises(TransientError, match="not valid JSON: '<html>gateway says hi</html>'"):
        response.json()


# -- capture and masking ----------------------------------------------------------------------
def test_last_exchange_is_captured_and_masked(partner):
    transport = RestTransport(
        partner.url,
        auth={"kind": "basic", "username": "ops", "password": PASSWORD},
        secrets=["whsec_partner_secret_1"],
    )
    response = transport.post(
        "/echo",
        json={"note": f"pw={PASSWORD}", "hook": "whsec_partner_secret_1"},
        params={"password": PASSWORD},
        correlation_id="corr-9",
    )
    exchange = transport.last_exchange
    assert response.exchange is exchange
    request, answer = exchange["request"], exchange["response"]
    assert request["method"] == "POST"
    assert request["url"] == f"{partner.url}/echo?password={MASK}"
    assert request["headers"]["Authorization"] == f"Basic {MASK}"
    assert request["headers"]["X-Correlation-ID"] == "corr-9"
    assert json.loads(request["body"]) == {"note": f"pw={MASK}", "hook": MASK}
    assert answer["status"] == 200
    assert answer["headers"]["Content-Type"] == "application/json"
    # the partner echoed the credentials back: masked in the captured answer too
    echoed = json.loads(answer["body"])
    assert echoed["headers"]["authorization"] == "Basic " + MASK
    assert exchange["elapsed"] >= 0
    everything = json.dumps(exchange)
    basic = base64.b64encode(f"ops:{PASSWORD}".encode()).decode()
    for secret in (PASSWORD, basic, "whsec_partner_secret_1"):
        assert secret not in everything
    # the real answer is untouched for the adapter
    assert json.loads(response.json()["body"])["note"] == f"pw={PASSWORD}"


def test_oauth_secrets_never_captured(partner):
    transport = RestTransport(partner.url, auth=oauth(partner))
    transport.post("/echo", json={"echo": CLIENT_SECRET})
    everything = json.dumps(transport.last_exchange)
    assert CLIENT_SECRET not in everything
    assert "tok-1" not in everything
    assert transport.last_exchange["request"]["headers"]["Authorization"] == f"Bearer {MASK}"
    key = RestTransport(
        partner.url, auth={"kind": "api_key", "header": "X-Partner-Key", "value": API_KEY}
    )
    with pytest.raises(BusinessError) as caught:
        key.get("/status/400", params={"key": API_KEY})
    assert API_KEY not in json.dumps(caught.value.exchange)
    assert caught.value.exchange["request"]["headers"]["X-Partner-Key"] == MASK


def test_failed_exchange_is_captured(partner):
    transport = RestTransport(partner.url)
    with pytest.raises(TransientError) as caught:
        transport.put("/status/503", json={"a": 1})
    exchange = transport.last_exchange
    assert caught.value.exchange is exchange
    assert exchange["request"]["body"] == '{"a": 1}'
    assert exchange["response"]["status"] == 503


def test_oauth2_tokens_are_not_shared_between_partners_or_databases(partner):
    first = RestTransport(partner.url, auth=oauth(partner), cache_scope=("db1", 1))
    same = RestTransport(partner.url, auth=oauth(partner), cache_scope=("db1", 1))
    other_partner = RestTransport(partner.url, auth=oauth(partner), cache_scope=("db1", 2))
    other_database = RestTransport(partner.url, auth=oauth(partner), cache_scope=("db2", 1))
    tokens = [
        transport.get("/oauth/resource").json()["token"]
        for transport in (first, same, other_partner, other_database)
    ]
    assert tokens == ["tok-1", "tok-1", "tok-2", "tok-3"]


def test_oauth2_rotated_secret_does_not_reuse_the_old_token(partner):
    RestTransport(partner.url, auth=oauth(partner)).get("/oauth/resource")
    rotated = RestTransport(partner.url, auth=oauth(partner, client_secret="the-new-secret"))
    with pytest.raises(ConfigurationError, match="refused the credentials"):
        rotated.get("/oauth/resource")
    assert len(partner.state.hits("/token")) == 2, "the new secret asked for its own token"


def test_a_partner_trickling_its_answer_is_cut_at_the_read_timeout(partner):
    transport = RestTransport(partner.url, timeout=(2, 1))
    started = time.monotonic()
    with pytest.raises(TransientError, match="did not finish its answer within 1 seconds"):
        transport.get("/trickle", params={"chunks": 30})
    assert time.monotonic() - started < 3, "not the 6 s the partner would take"
    assert transport.last_exchange["error"]


@pytest.mark.parametrize("declared", ["yes", "no"])
def test_an_oversized_answer_is_refused(partner, declared):
    transport = RestTransport(partner.url, max_response_bytes=1000)
    with pytest.raises(BusinessError, match="1000 bytes accepted"):
        transport.get("/big", params={"size": 5000, "declared": declared})
    assert transport.get("/big", params={"size": 900, "declared": declared}).content == b"x" * 900


def test_a_compressed_answer_is_bounded_once_unpacked(partner):
    transport = RestTransport(partner.url, max_response_bytes=1000)
    assert transport.get("/gzip", params={"size": 900}).content == b"x" * 900
    with pytest.raises(BusinessError, match="1000 bytes accepted"):
        transport.get("/gzip", params={"size": 10_000_000})
