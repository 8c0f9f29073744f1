"""Tests of the generic loopback partner sandbox itself (no database access).

The pipeline tests trust this sandbox to behave like a real partner, so its auth, dedup, fault
injection and webhook signatures are checked here against real HTTP on 127.0.0.1.
"""

import base64
import json
import socket
import threading
import time
import unittest
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.sandboxes import GenericPartnerSandbox

TIMEOUT = 10
SECRET = "whsec_" + base64.b64encode(b"sandbox-test-secret-0123456789ab").decode()
ORDER = {"reference": "SO001", "lines": [{"sku": "WIDGET", "qty": 2}]}


class SandboxCase(unittest.TestCase):
    """One sandbox per class, reset before each test."""

    sandbox_kwargs = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = GenericPartnerSandbox(**cls.sandbox_kwargs).start()
        cls.addClassCleanup(cls.sandbox.stop)

    def setUp(self):
        super().setUp()
        self.sandbox.reset()

    def url(self, path):
        return self.sandbox.base_url + path

    def get(self, path, **kwargs):
        return requests.get(self.url(path), timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)

    def post(self, path, **kwargs):
        return requests.post(self.url(path), timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)


class TestAuthentication(unittest.TestCase):
    def serve(self, auth, **kwargs):
        sandbox = GenericPartnerSandbox(auth=auth, **kwargs).start()
        self.addCleanup(sandbox.stop)
        return sandbox

    def ping(self, sandbox, **kwargs):
        return requests.get(sandbox.base_url + "/api/v1/ping", timeout=TIMEOUT, **kwargs)

    def token(self, sandbox, **kwargs):
        return requests.post(sandbox.base_url + "/oauth/token", timeout=TIMEOUT, **kwargs)

    def test_open_partner_needs_no_credentials(self):
        response = self.ping(self.serve(None))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})

    def test_bearer(self):
        sandbox = self.serve({"kind": "bearer", "token": "s3cret"})
        self.assertEqual(
            self.ping(sandbox, headers={"Authorization": "Bearer s3cret"}).json(), {"status": "ok"}
        )
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret"}):
            response = self.ping(sandbox, headers=headers)
            self.assertEqual(response.status_code, 401, headers)
            self.assertIn("error", response.json())
            self.assertIn("Bearer", response.headers["WWW-Authenticate"])

    def test_basic(self):
        sandbox = self.serve({"kind": "basic", "username": "acme", "password": "pw:with:colons"})
        self.assertEqual(self.ping(sandbox, auth=("acme", "pw:with:colons")).status_code, 200)
        self.assertEqual(self.ping(sandbox, auth=("acme", "wrong")).status_code, 401)
        self.assertEqual(self.ping(sandbox).status_code, 401)
        garbage = self.ping(sandbox, headers={"Authorization": "Basic %%%not-base64"})
        self.assertEqual(garbage.status_code, 401)
        self.assertEqual(garbage.json(), {"error": "malformed Basic credentials"})

    def test_api_key(self):
        sandbox = self.serve({"kind": "api_key", "header": "Api-Key", "value": "k-123"})
        # Header names are case-insensitive on the wire.
        self.assertEqual(self.ping(sandbox, headers={"api-key": "k-123"}).status_code, 200)
        self.assertEqual(self.ping(sandbox, headers={"Api-Key": "k-999"}).status_code, 401)
        missing = self.ping(sandbox)
        self.assertEqual(missing.status_code, 401)
        self.assertEqual(missing.json(), {"error": "missing Api-Key header"})

    def test_unknown_auth_kind_is_refused_at_construction(self):
        with self.assertRaises(ValueError):
            GenericPartnerSandbox(auth={"kind": "kerberos"})
        with self.assertRaises(ValueError):
            GenericPartnerSandbox(auth={"kind": "bearer"})

    def test_oauth2_client_credentials_in_form_or_basic(self):
        sandbox = self.serve({"kind": "oauth2", "client_id": "cid", "client_secret": "csecret"})
        form = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"}
        by_form = self.token(sandbox, data=form)
        self.assertEqual(by_form.status_code, 200)
        body = by_form.json()
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3600)
        by_basic = self.token(
            sandbox, data={"grant_type": "client_credentials"}, auth=("cid", "csecret")
        )
        self.assertEqual(by_basic.status_code, 200)
        self.assertNotEqual(by_basic.json()["access_token"], body["access_token"])
        for token in (body["access_token"], by_basic.json()["access_token"]):
            headers = {"Authorization": f"Bearer {token}"}
            self.assertEqual(self.ping(sandbox, headers=headers).status_code, 200)
        self.assertEqual(
            self.ping(sandbox, headers={"Authorization": "Bearer made-up"}).status_code, 401
        )

    def test_oauth2_refuses_bad_clients_and_grants(self):
        sandbox = self.serve({"kind": "oauth2", "client_id": "cid", "client_secret": "csecret"})
        wrong = self.token(sandbox, data={"grant_type": "client_credentials"}, auth=("cid", "nope"))
        self.assertEqual(wrong.status_code, 401)
        self.assertEqual(wrong.json(), {"error": "invalid_client"})
        grant = self.token(sandbox, data={"grant_type": "password"}, auth=("cid", "csecret"))
        self.assertEqual(grant.status_code, 400)
        self.assertEqual(grant.json(), {"error": "unsupported_grant_type"})
        self.assertEqual(
            self.token(sandbox, data={"grant_type": "client_credentials"}).status_code, 401
        )

    def test_oauth2_revoked_tokens_answer_401_until_refreshed(self):
        sandbox = self.serve({"kind": "oauth2", "client_id": "cid", "client_secret": "csecret"})
        grant = {"grant_type": "client_credentials"}
        old = self.token(sandbox, data=grant, auth=("cid", "csecret")).json()["access_token"]
        sandbox.revoke_tokens()
        refused = self.ping(sandbox, headers={"Authorization": f"Bearer {old}"})
        self.assertEqual(refused.status_code, 401)
        new = self.token(sandbox, data=grant, auth=("cid", "csecret")).json()["access_token"]
        self.assertEqual(
            self.ping(sandbox, headers={"Authorization": f"Bearer {new}"}).status_code, 200
        )

    def test_oauth2_expires_in_is_configurable(self):
        # expires_in=0: the token is expired as soon as it is issued, without waiting.
        sandbox = self.serve(
            {"kind": "oauth2", "client_id": "cid", "client_secret": "cs", "expires_in": 0}
        )
        token = self.token(sandbox, data={"grant_type": "client_credentials"}, auth=("cid", "cs"))
        self.assertEqual(token.json()["expires_in"], 0)
        expired = self.ping(
            sandbox, headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        self.assertEqual(expired.status_code, 401)
        self.assertEqual(expired.json(), {"error": "token expired"})

    def test_token_endpoint_exists_only_for_oauth2(self):
        sandbox = self.serve({"kind": "bearer", "token": "t"})
        self.assertEqual(
            self.token(sandbox, data={"grant_type": "client_credentials"}).status_code, 404
        )


class TestDocuments(SandboxCase):
    sandbox_kwargs = {"auth": {"kind": "bearer", "token": "tok"}}

    def setUp(self):
        super().setUp()
        self.headers = {"Authorization": "Bearer tok"}

    def create(self, payload, key=None, resource="orders"):
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        return self.post(f"/api/v1/{resource}", json=payload, headers=headers)

    def test_create_then_read_back(self):
        response = self.create(ORDER, key="k1")
        self.assertEqual(response.status_code, 201)
        body = response.json()
        self.assertEqual(set(body), {"id", "reference", "status"})
        self.assertEqual((body["reference"], body["status"]), ("SO001", "accepted"))
        self.assertEqual(response.headers["Location"], f"/api/v1/orders/{body['id']}")
        document = self.get(f"/api/v1/orders/{body['id']}", headers=self.headers).json()
        self.assertEqual(document["data"], ORDER)
        self.assertEqual(document["idempotency_key"], "k1")
        self.assertEqual([d["id"] for d in self.sandbox.documents("orders")], [body["id"]])
        self.assertEqual(self.sandbox.documents("shipments"), [])

    def test_unknown_document_is_404(self):
        response = self.get("/api/v1/orders/ord_nope", headers=self.headers)
        self.assertEqual(response.status_code, 404)
        self.assertIn("error", response.json())

    def test_same_idempotency_key_does_not_create_twice(self):
        first = self.create(ORDER, key="key-1")
        again = self.create(ORDER, key="key-1")
        self.assertEqual(first.status_code, 201)
        self.assertEqual(again.status_code, 200)
        self.assertTrue(again.json()["duplicate"])
        self.assertEqual(again.json()["id"], first.json()["id"])
        self.assertEqual(len(self.sandbox.documents("orders")), 1)

    def test_same_reference_does_not_create_twice_even_with_a_new_key(self):
        first = self.create(ORDER, key="key-1").json()
        for key in ("key-2", None):
            again = self.create(ORDER, key=key)
            self.assertEqual(again.status_code, 200)
            self.assertEqual(again.json()["id"], first["id"])
            self.assertTrue(again.json()["duplicate"])
        self.assertEqual(len(self.sandbox.documents("orders")), 1)

    def test_idempotency_key_reused_for_another_reference_is_refused(self):
        self.create(ORDER, key="key-1")
        other = self.create({**ORDER, "reference": "SO002"}, key="key-1")
        self.assertEqual(other.status_code, 422)
        self.assertIn("key-1", other.json()["error"])
        self.assertEqual(len(self.sandbox.documents("orders")), 1)

    def test_dedup_is_per_resource(self):
        self.assertEqual(self.create(ORDER).status_code, 201)
        self.assertEqual(self.create(ORDER, resource="returns").status_code, 201)

    def test_concurrent_creations_of_one_reference_make_one_document(self):
        statuses = []
        barrier = threading.Barrier(8)

        def send():
            barrier.wait()
            statuses.append(self.create(ORDER).status_code)

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(statuses), [200] * 7 + [201])
        self.assertEqual(len(self.sandbox.documents("orders")), 1)

    def test_lookup_by_reference(self):
        created = self.create(ORDER).json()
        self.create({**ORDER, "reference": "SO002"})
        found = self.get("/api/v1/orders", params={"reference": "SO001"}, headers=self.headers)
        self.assertEqual(found.status_code, 200)
        self.assertEqual([item["id"] for item in found.json()["items"]], [created["id"]])
        none = self.get("/api/v1/orders", params={"reference": "SO999"}, headers=self.headers)
        self.assertEqual(none.json(), {"items": []})
        everything = self.get("/api/v1/orders", headers=self.headers).json()["items"]
        self.assertEqual(len(everything), 2)

    def test_reference_is_required(self):
        for payload in ({"lines": ORDER["lines"]}, {"reference": ""}, {"reference": 12}):
            response = self.create(payload)
            self.assertEqual(response.status_code, 400, payload)
            self.assertEqual(response.json(), {"error": "reference is required"})

    def test_malformed_json_is_400_with_a_reason(self):
        for body in (b'{"reference": "SO1"', b"", b"\xff\xfe", b'{"qty": NaN}', b"[" * 100000):
            response = self.post(
                "/api/v1/orders",
                data=body,
                headers={**self.headers, "Content-Type": "application/json"},
            )
            self.assertEqual(response.status_code, 400, body[:20])
            self.assertTrue(response.json()["error"].startswith("malformed JSON: "))
        not_object = self.create(["SO1"])
        self.assertEqual(not_object.json(), {"error": "request body must be a JSON object"})
        self.assertEqual(self.sandbox.documents("orders"), [])

    def test_semantically_invalid_documents_are_422(self):
        self.sandbox.unknown_skus.add("GHOST")
        cases = {
            "lines must be a non-empty list": {"reference": "A", "lines": []},
            "unknown SKU GHOST": {"reference": "B", "lines": [{"sku": "GHOST", "qty": 1}]},
            "line 1: qty must be a positive number": {
                "reference": "C",
                "lines": [{"sku": "WIDGET", "qty": 0}],
            },
            "line 2 must be an object": {"reference": "D", "lines": [{"sku": "W"}, "W"]},
        }
        for reason, payload in cases.items():
            response = self.create(payload)
            self.assertEqual(response.status_code, 422, payload)
            self.assertEqual(response.json(), {"error": reason})
        self.assertEqual(self.sandbox.documents("orders"), [])

    def test_requests_are_recorded(self):
        self.create(ORDER, key="k1")
        self.get("/api/v1/orders", params={"reference": "SO001"}, headers=self.headers)
        first, second = self.sandbox.requests
        self.assertEqual((first["method"], first["path"]), ("POST", "/api/v1/orders"))
        self.assertEqual(first["json"], ORDER)
        self.assertEqual(json.loads(first["body"]), ORDER)
        self.assertEqual(first["headers"]["Idempotency-Key"], "k1")
        self.assertIsNone(first["fault"])
        self.assertIsInstance(first["time"], float)
        self.assertEqual(second["query"], {"reference": "SO001"})
        self.assertIsNone(second["json"])
        self.sandbox.reset()
        self.assertEqual(self.sandbox.requests, [])

    def test_reset_forgets_documents_and_unknown_skus(self):
        self.sandbox.unknown_skus.add("GHOST")
        self.create(ORDER)
        self.sandbox.reset()
        self.assertEqual(self.sandbox.documents("orders"), [])
        self.assertEqual(self.create({**ORDER, "lines": [{"sku": "GHOST"}]}).status_code, 201)

    def test_set_document_status(self):
        self.create(ORDER)
        self.sandbox.set_document_status("orders", "SO001", "shipped")
        found = self.get("/api/v1/orders", params={"reference": "SO001"}, headers=self.headers)
        self.assertEqual(found.json()["items"][0]["status"], "shipped")
        with self.assertRaises(KeyError):
            self.sandbox.set_document_status("orders", "SO404", "shipped")

    def test_wrong_routes_and_methods(self):
        self.assertEqual(self.get("/api/v2/orders", headers=self.headers).status_code, 404)
        self.assertEqual(self.get("/elsewhere", headers=self.headers).status_code, 404)
        self.assertEqual(self.get("/api/v1/Bad$Name", headers=self.headers).status_code, 404)
        deleted = requests.delete(self.url("/api/v1/orders"), headers=self.headers, timeout=TIMEOUT)
        self.assertEqual(deleted.status_code, 405)
        self.assertEqual(self.post("/api/v1/ping", headers=self.headers).status_code, 405)

    def test_oversized_body_is_413_without_reading_it(self):
        head = (
            "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
            f"Content-Length: {5 * 1024 * 1024 + 1}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", self.sandbox.port), timeout=TIMEOUT) as raw:
            raw.sendall(head.encode())
            self.assertTrue(raw.recv(1024).startswith(b"HTTP/1.1 413 "))

    def test_garbage_on_the_socket_does_not_stop_the_server(self):
        address = ("127.0.0.1", self.sandbox.port)
        with socket.create_connection(address, timeout=TIMEOUT) as raw:
            raw.sendall(b"\x00\x01 not http at all\r\n\r\n")
            # Unparsable as HTTP/1.x, so http.server answers HTML without a status line.
            self.assertIn(b"Bad request", raw.recv(4096))
        with socket.create_connection(address, timeout=TIMEOUT) as raw:
            raw.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: ab\r\n\r\n")
            self.assertTrue(raw.recv(4096).startswith(b"HTTP/1.1 400 "))
        self.assertEqual(self.get("/api/v1/ping", headers=self.headers).status_code, 200)


class TestFaults(SandboxCase):
    def create(self, reference="SO001", key=None, **kwargs):
        headers = {"Idempotency-Key": key} if key else {}
        payload = {**ORDER, "reference": reference}
        return self.post("/api/v1/orders", json=payload, headers=headers, **kwargs)

    def test_status_fault_is_consumed_in_order(self):
        self.sandbox.inject("status", count=2, status=503)
        self.sandbox.inject("status", status=500, body="boom")
        self.assertEqual(self.create().status_code, 503)
        self.assertEqual(self.create().json(), {"error": "Service Unavailable"})
        third = self.create()
        self.assertEqual((third.status_code, third.text), (500, "boom"))
        self.assertEqual(self.create().status_code, 201)
        self.assertEqual(
            [r["fault"] for r in self.sandbox.requests], ["status", "status", "status", None]
        )
        self.assertEqual(self.sandbox.pending_faults(), [])

    def test_fault_matches_path_prefix_and_method(self):
        self.sandbox.inject("status", path_prefix="/api/v1/shipments", status=502)
        self.sandbox.inject("status", method="GET", status=500, body={"error": "db"})
        self.assertEqual(self.create().status_code, 201)
        listed = self.get("/api/v1/orders")
        self.assertEqual((listed.status_code, listed.json()), (500, {"error": "db"}))
        self.assertEqual(self.post("/api/v1/shipments", json=ORDER).status_code, 502)

    def test_rate_limit(self):
        self.sandbox.inject("rate_limit")
        self.sandbox.inject("rate_limit", retry_after=30)
        first, second = self.create(), self.create()
        self.assertEqual((first.status_code, first.headers["Retry-After"]), (429, "1"))
        self.assertEqual((second.status_code, second.headers["Retry-After"]), (429, "30"))
        self.assertEqual(self.sandbox.documents("orders"), [])

    def test_latency_makes_the_client_time_out(self):
        # The sandbox would sleep 30 s; the next reset() wakes it, so nothing waits for it.
        self.sandbox.inject("latency")
        with self.assertRaises(requests.exceptions.ReadTimeout):
            self.create(timeout=0.5)

    def test_reset_drops_requests_sleeping_on_latency(self):
        self.sandbox.inject("latency", seconds=600)
        outcome = []

        def send():
            try:
                outcome.append(self.create().status_code)
            except requests.exceptions.ConnectionError as exc:
                outcome.append(exc)

        client = threading.Thread(target=send)
        client.start()
        # Wait until the request is asleep in the sandbox (no deadline is asserted).
        while not self.sandbox.requests and client.is_alive():
            time.sleep(0.01)
        self.sandbox.reset()
        client.join()
        self.assertIsInstance(outcome[0], requests.exceptions.ConnectionError)
        self.assertEqual(self.sandbox.documents("orders"), [])

    def test_latency_then_a_normal_answer(self):
        self.sandbox.inject("latency", seconds=0.05)
        self.assertEqual(self.create().status_code, 201)

    def test_malformed_body(self):
        self.sandbox.inject("malformed")
        self.sandbox.inject("malformed", body="<html>proxy error</html>")
        for _ in range(2):
            response = self.create()
            self.assertEqual(response.status_code, 200)
            with self.assertRaises(ValueError):
                response.json()
        self.assertEqual(self.sandbox.documents("orders"), [])

    def test_drop_closes_without_an_answer(self):
        self.sandbox.inject("drop")
        with self.assertRaises(requests.exceptions.ConnectionError):
            self.create()
        self.assertEqual(self.sandbox.documents("orders"), [])
        self.assertEqual(self.create().status_code, 201)

    def test_accept_then_fail_stores_the_document(self):
        self.sandbox.inject("accept_then_fail")
        lost = self.create(key="k-1")
        self.assertEqual(lost.status_code, 504)
        # What a client must do on retry: ask whether the first attempt landed.
        found = self.get("/api/v1/orders", params={"reference": "SO001"}).json()["items"]
        self.assertEqual(len(found), 1)
        retry = self.create(key="k-1")
        self.assertEqual(retry.status_code, 200)
        self.assertEqual(retry.json()["id"], found[0]["id"])
        self.assertTrue(retry.json()["duplicate"])

    def test_invalid_injections_fail_fast(self):
        with self.assertRaises(ValueError):
            self.sandbox.inject("explode")
        with self.assertRaises(ValueError):
            self.sandbox.inject("rate_limit", status=500)
        with self.assertRaises(ValueError):
            self.sandbox.inject("status", count=0)
        with self.assertRaises(ValueError):
            self.sandbox.inject("status", status=42)
        self.assertEqual(self.sandbox.pending_faults(), [])


class TestControlEndpoints(SandboxCase):
    sandbox_kwargs = {
        "auth": {"kind": "oauth2", "client_id": "cid", "client_secret": "cs"},
        "webhook_secret": SECRET,
    }

    def bearer(self):
        grant = {"grant_type": "client_credentials"}
        token = self.post("/oauth/token", data=grant, auth=("cid", "cs")).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def test_faults_over_http(self):
        queued = self.post("/_control/faults", json={"kind": "status", "status": 502, "count": 2})
        self.assertEqual(queued.status_code, 201)
        self.assertEqual(self.get("/_control/faults").json()["items"][0]["remaining"], 2)
        headers = self.bearer()  # /oauth/token is outside the default /api/ prefix
        self.assertEqual(self.get("/api/v1/ping", headers=headers).status_code, 502)
        self.post("/_control/faults", json={"kind": "rate_limit", "retry_after": 5})
        self.assertEqual(self.get("/api/v1/ping", headers=headers).status_code, 502)
        limited = self.get("/api/v1/ping", headers=headers)
        self.assertEqual((limited.status_code, limited.headers["Retry-After"]), (429, "5"))
        self.assertEqual(self.get("/api/v1/ping", headers=headers).status_code, 200)
        self.post("/_control/faults", json={"kind": "drop"})
        self.assertEqual(
            requests.delete(self.url("/_control/faults"), timeout=TIMEOUT).status_code, 200
        )
        self.assertEqual(self.get("/_control/faults").json(), {"items": []})

    def test_invalid_fault_requests_are_400(self):
        for body in (
            {"kind": "nope"},
            {"kind": "status", "count": "x"},
            {},
            {"kind": "drop", "x": 1},
        ):
            response = self.post("/_control/faults", json=body)
            self.assertEqual(response.status_code, 400, body)
            self.assertIn("error", response.json())
        broken = self.post("/_control/faults", data=b"{kind")
        self.assertEqual(broken.status_code, 400)

    def test_requests_documents_and_reset_over_http(self):
        headers = self.bearer()
        self.post("/api/v1/receipts", json={"reference": "ASN1"}, headers=headers)
        items = self.get("/_control/requests").json()["items"]
        # Control calls are not recorded: only the token request and the creation are.
        self.assertEqual([item["path"] for item in items], ["/oauth/token", "/api/v1/receipts"])
        self.assertEqual(json.loads(items[1]["body"]), {"reference": "ASN1"})
        documents = self.get("/_control/documents/receipts").json()["items"]
        self.assertEqual([document["reference"] for document in documents], ["ASN1"])
        self.assertEqual(self.post("/_control/reset").json(), {"status": "reset"})
        self.assertEqual(self.get("/_control/documents/receipts").json(), {"items": []})
        self.assertEqual(self.get("/_control/requests").json(), {"items": []})
        self.assertEqual(self.get("/_control/nothing").status_code, 404)

    def test_revoke_tokens_and_unknown_skus_over_http(self):
        headers = self.bearer()
        self.post("/_control/unknown_skus", json={"skus": ["GHOST"]})
        refused = self.post(
            "/api/v1/orders", json={"reference": "X", "lines": [{"sku": "GHOST"}]}, headers=headers
        )
        self.assertEqual(refused.json(), {"error": "unknown SKU GHOST"})
        self.post("/_control/revoke_tokens")
        self.assertEqual(self.get("/api/v1/ping", headers=headers).status_code, 401)

    def test_webhook_over_http(self):
        with WebhookReceiver(SECRET) as receiver:
            answer = self.post(
                "/_control/webhooks",
                json={"url": receiver.url, "type": "order.shipped", "data": {"reference": "SO1"}},
            )
            self.assertEqual(answer.status_code, 200)
            self.assertEqual(answer.json()["status_code"], 204)
            self.assertEqual(receiver.verified[0]["data"], {"reference": "SO1"})
        self.assertEqual(self.post("/_control/webhooks", json={"type": "x"}).status_code, 400)


class WebhookReceiver:
    """A tiny receiver that checks deliveries with standardwebhooks' own verifier."""

    def __init__(self, secret):
        self.verified = []
        self.refused = []
        self.headers = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                receiver.headers.append(headers)
                try:
                    receiver.verified.append(Webhook(secret).verify(body, headers))
                    self.send_response(204)
                except WebhookVerificationError as exc:
                    receiver.refused.append(str(exc))
                    self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class TestWebhooks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = GenericPartnerSandbox(webhook_secret=SECRET)

    def setUp(self):
        super().setUp()
        self.receiver = WebhookReceiver(SECRET).__enter__()
        self.addCleanup(self.receiver.__exit__)

    def send(self, **kwargs):
        data = kwargs.pop("data", {"reference": "SO001", "tracking": "1Z999"})
        return self.sandbox.send_webhook(self.receiver.url, "order.shipped", data, **kwargs)

    def test_delivery_verifies_with_standardwebhooks(self):
        status, _text = self.send(msg_id="msg_1")
        self.assertEqual(status, 204)
        (payload,) = self.receiver.verified
        self.assertEqual(payload["type"], "order.shipped")
        self.assertEqual(payload["data"], {"reference": "SO001", "tracking": "1Z999"})
        datetime.fromisoformat(payload["timestamp"])
        headers = {k.lower(): v for k, v in self.receiver.headers[0].items()}
        self.assertEqual(headers["webhook-id"], "msg_1")
        self.assertTrue(headers["webhook-signature"].startswith("v1,"))
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(self.sandbox.webhooks_sent[-1]["msg_id"], "msg_1")

    def test_timestamps_in_any_timezone_sign_correctly(self):
        local = datetime.now(timezone(timedelta(hours=-5)))
        self.assertEqual(self.send(timestamp=local)[0], 204)
        self.assertEqual(self.send(timestamp=local.timestamp())[0], 204)

    def test_duplicate_delivery_reuses_the_id(self):
        self.send(msg_id="msg_dup")
        self.send(msg_id="msg_dup")
        ids = [headers["webhook-id"] for headers in self.receiver.headers]
        self.assertEqual(ids, ["msg_dup", "msg_dup"])
        self.assertEqual(len(self.receiver.verified), 2)

    def test_tampered_expired_and_forged_deliveries_are_refused(self):
        old = datetime.now(timezone.utc) - timedelta(hours=1)
        attempts = [
            {"body_override": b'{"type": "order.shipped", "data": {"reference": "SO666"}}'},
            {"timestamp": old},
            {"signature_override": "v1," + base64.b64encode(b"x" * 32).decode()},
            {"secret": "whsec_" + base64.b64encode(b"another-secret-0123456789abcdef").decode()},
        ]
        for kwargs in attempts:
            status, _text = self.send(**kwargs)
            self.assertEqual(status, 400, kwargs)
        self.assertEqual(self.receiver.verified, [])
        self.assertEqual(len(self.receiver.refused), 4)

    def test_body_override_can_be_signed(self):
        body = b'{"type": "order.shipped", "data": {"reference": "SO777"}}'
        status, _text = self.send(body_override=body, sign_body_override=True)
        self.assertEqual(status, 204)
        self.assertEqual(self.receiver.verified[0]["data"], {"reference": "SO777"})

    def test_extra_headers(self):
        self.send(extra_headers={"X-Correlation-ID": "corr-1"})
        headers = {k.lower(): v for k, v in self.receiver.headers[0].items()}
        self.assertEqual(headers["x-correlation-id"], "corr-1")

    def test_a_secret_is_required(self):
        with self.assertRaises(ValueError):
            GenericPartnerSandbox().send_webhook(self.receiver.url, "x", {})


class TestLifecycle(unittest.TestCase):
    def test_context_manager_and_restart_on_the_same_port(self):
        sandbox = GenericPartnerSandbox()
        with self.assertRaises(RuntimeError):
            sandbox.base_url  # noqa: B018 - the property raises before start()
        with sandbox:
            self.assertTrue(sandbox.base_url.startswith("http://127.0.0.1:"))
            port = sandbox.port
            url = sandbox.base_url + "/api/v1/orders"
            self.assertEqual(requests.post(url, json=ORDER, timeout=TIMEOUT).status_code, 201)
        self.assertFalse(sandbox.running)
        with self.assertRaises(requests.exceptions.ConnectionError):
            requests.get(url, timeout=TIMEOUT)
        # A partner back from an outage keeps its documents and its address.
        with sandbox:
            self.assertEqual(sandbox.port, port)
            again = requests.post(url, json=ORDER, timeout=TIMEOUT)
            self.assertEqual(again.status_code, 200)
            self.assertTrue(again.json()["duplicate"])

    def test_stop_cuts_keep_alive_connections(self):
        sandbox = GenericPartnerSandbox().start()
        self.addCleanup(sandbox.stop)
        with requests.Session() as session:
            url = sandbox.base_url + "/api/v1/ping"
            self.assertEqual(session.get(url, timeout=TIMEOUT).status_code, 200)
            sandbox.stop()
            with self.assertRaises(requests.exceptions.ConnectionError):
                session.get(url, timeout=TIMEOUT)
