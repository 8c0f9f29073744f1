"""Standard Webhooks signatures, checked against the independent `standardwebhooks` package."""

import base64
import time
from datetime import datetime, timezone

import pytest
from standardwebhooks import Webhook

from odoo.addons.logistics_connector_base.lib import webhook_signature as ws
from odoo.addons.logistics_connector_base.lib.errors import ConfigurationError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PREVIOUS = "whsec_" + base64.b64encode(b"previous-secret-of-32-bytes-long").decode()
BODY = b'{"topic":"order.shipped","data":{"order_id":42,"note":"caf\xc3\xa9"}}'


def headers_for(secret, msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp=None, body=BODY):
    return ws.build_headers(secret, msg_id, body, timestamp=timestamp)


def reject(headers, body=BODY, secrets=(SECRET,), **kwargs):
    with pytest.raises(ws.WebhookVerificationError) as caught:
        ws.verify(list(secrets), headers, body, **kwargs)
    return caught.value


def test_reference_library_verifies_our_signature():
    headers = headers_for(SECRET, timestamp=int(time.time()))
    assert Webhook(SECRET).verify(BODY, headers) == {
        "topic": "order.shipped",
        "data": {"order_id": 42, "note": "café"},
    }


def test_we_verify_the_reference_library_signature():
    now = datetime.now(timezone.utc)
    signature = Webhook(SECRET).sign("evt_1", now, BODY.decode())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert ws.verify([SECRET], headers, BODY) == "evt_1"
    assert ws.sign(SECRET, "evt_1", int(now.timestamp()), BODY) == signature


def test_known_vector():
    # Standard Webhooks specification example (secret, id, timestamp, payload -> signature)
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert ws.sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": expected,
    }
    assert ws.verify([SECRET], headers, body, now=1614265330) == "msg_p5jXN8AQM9LWM0D4loKWxJek"


def test_header_names_are_case_insensitive():
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    pairs = [(name.title(), value) for name, value in headers.items()]
    assert ws.verify([SECRET], pairs, BODY, now=1_700_000_000) == headers["webhook-id"]
    upper = {name.upper(): value.encode() for name, value in headers.items()}
    assert ws.verify([SECRET], upper, BODY, now=1_700_000_000) == headers["webhook-id"]


def test_rotation_accepts_the_previous_secret_while_listed():
    headers = headers_for(PREVIOUS, timestamp=1_700_000_000)
    assert ws.verify([SECRET, PREVIOUS], headers, BODY, now=1_700_000_000)
    # once the grace period is over the old secret is no longer offered
    error = reject(headers, now=1_700_000_000)
    assert error.status == 401
    assert "does not match" in error.reason
    # empty slots (no previous secret configured) are ignored
    assert ws.verify([None, "", PREVIOUS], headers, BODY, now=1_700_000_000)


def test_any_listed_signature_may_match():
    good = ws.sign(SECRET, "evt_9", 1_700_000_000, BODY)
    other = ws.sign(PREVIOUS, "evt_9", 1_700_000_000, BODY)
    headers = {
        "webhook-id": "evt_9",
        "webhook-timestamp": "1700000000",
        # an asymmetric v1a entry and a signature made with another key come first
        "webhook-signature": f"v1a,c29tZXRoaW5n {other} {good}",
    }
    assert ws.verify([SECRET], headers, BODY, now=1_700_000_000) == "evt_9"


def test_tampering_is_refused():
    headers = headers_for(SECRET, msg_id="evt_2", timestamp=1_700_000_000)
    error = reject(headers, body=BODY.replace(b"42", b"43"), now=1_700_000_000)
    assert (error.status, error.error_class) == (401, "security")
    assert error.reason == (
        "The webhook signature does not match: the body was altered or the sender uses "
        "another secret."
    )
    # another event id or timestamp under the same signature
    assert reject({**headers, "webhook-id": "evt_3"}, now=1_700_000_000).status == 401
    shifted = {**headers, "webhook-timestamp": "1700000010"}
    assert reject(shifted, now=1_700_000_000).status == 401


def test_timestamp_window():
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    # the edges of the window are accepted
    assert ws.verify([SECRET], headers, BODY, now=1_700_000_300)
    assert ws.verify([SECRET], headers, BODY, now=1_699_999_700)
    old = reject(headers, now=1_700_000_301)
    assert old.status == 401
    assert old.reason.startswith("The webhook timestamp is too old: 301 seconds, the limit is 300")
    future = reject(headers, now=1_699_999_000)
    assert future.status == 401
    assert future.reason.startswith("The webhook timestamp is 1000 seconds in the future")
    assert ws.verify([SECRET], headers, BODY, now=1_700_000_900, tolerance=900)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_are_bad_requests(missing):
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    del headers[missing]
    error = reject(headers, now=1_700_000_000)
    assert error.status == 400
    assert error.reason == f"The {missing} header is missing."


def test_malformed_headers_are_bad_requests():
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    cases = {
        "webhook-timestamp": ("2023-11-14T22:13:20Z", "webhook-timestamp header is malformed"),
        "webhook-signature": ("sha256=abcdef", "webhook-signature header is malformed"),
        "webhook-id": ("evt with spaces", "webhook-id header is malformed"),
    }
    for name, (value, reason) in cases.items():
        error = reject({**headers, name: value}, now=1_700_000_000)
        assert error.status == 400, name
        assert reason in error.reason
    not_base64 = reject({**headers, "webhook-signature": "v1,***"}, now=1_700_000_000)
    assert not_base64.status == 400
    too_long = reject({**headers, "webhook-id": "x" * 300}, now=1_700_000_000)
    assert too_long.status == 400
    assert reject({}, now=1_700_000_000).status == 400


def test_no_secret_configured_is_refused():
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    error = reject(headers, secrets=[None, ""], now=1_700_000_000)
    assert error.status == 401
    assert error.reason == "No webhook secret is configured for this partner."


def test_reasons_never_contain_the_secret():
    headers = headers_for(SECRET, timestamp=1_700_000_000)
    key_text = SECRET.removeprefix("whsec_")
    for error in (
        reject(headers, body=b"tampered", now=1_700_000_000),
        reject(headers, now=1_800_000_000),
        reject({**headers, "webhook-signature": "garbage"}, now=1_700_000_000),
    ):
        for text in (str(error), error.reason, repr(error.to_dict())):
            assert key_text not in text
            assert SECRET not in text


def test_generated_secrets():
    first, second = ws.generate_secret(), ws.generate_secret()
    assert first.startswith("whsec_") and second.startswith("whsec_")
    assert first != second
    assert len(ws.decode_secret(first)) == 32
    assert len(ws.decode_secret(ws.generate_secret(8))) == 24  # never weaker than 24 bytes
    # the reference library accepts our secrets
    headers = headers_for(first, timestamp=int(time.time()))
    Webhook(first).verify(BODY, headers)
    token = ws.generate_token()
    assert len(token) >= 40 and token != ws.generate_token()


def test_decode_secret():
    raw = b"0123456789abcdef0123456789abcdef"
    encoded = base64.b64encode(raw).decode()
    assert ws.decode_secret("whsec_" + encoded) == raw
    assert ws.decode_secret(encoded) == raw  # prefix optional
    assert ws.decode_secret("whsec_" + encoded.rstrip("=")) == raw  # unpadded
    for bad in ("", "whsec_", "whsec_not base64!", None):
        with pytest.raises(ConfigurationError) as caught:
            ws.decode_secret(bad)
        assert "not base64!" not in caught.value.message
