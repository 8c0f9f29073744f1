"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A delivery carries three headers: ``webhook-id`` (the event id, also our dedup key),
``webhook-timestamp`` (unix seconds) and ``webhook-signature``, a space-separated list of
``v1,<base64 HMAC-SHA256>`` entries over ``f"{id}.{timestamp}.{raw body}"``. The key is the
base64 text after the ``whsec_`` prefix of the shared secret.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
import time
from collections.abc import Mapping

from .errors import ConfigurationError, LogisticsError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300
# Sender-chosen ids become dedup keys and log text: keep them short and printable.
MAX_ID_LENGTH = 256
_ID_RE = re.compile(r"^[\x21-\x7e]+$")
_TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}$")


class WebhookVerificationError(LogisticsError):
    """A delivery that must be refused.

    :param reason: plain words for the audit trail and the response body (never a secret)
    :param status: 400 for missing or malformed headers, 401 for a bad signature or a
        timestamp outside the window
    """

    error_class = "security"

    def __init__(self, reason, status):
        super().__init__(reason, status=status)
        self.reason = reason


def decode_secret(secret):
    """HMAC key bytes of a ``whsec_<base64>`` secret (the prefix is optional)."""
    if isinstance(secret, bytes):
        secret = secret.decode("ascii", "replace")
    text = (secret or "").strip()
    if text.startswith(SECRET_PREFIX):
        text = text[len(SECRET_PREFIX) :]
    if not text:
        raise ConfigurationError("The webhook secret is empty.")
    try:
        # some partners hand out unpadded base64
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            "The webhook secret is not valid: expected 'whsec_' followed by base64 text."
        ) from None
    if not key:
        raise ConfigurationError("The webhook secret is empty.")
    return key


def _signature(key, msg_id, timestamp, body):
    if isinstance(body, str):
        body = body.encode("utf-8")
    signed = f"{msg_id}.{timestamp}.".encode() + bytes(body)
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret, msg_id, timestamp, body):
    """The ``v1,<base64>`` signature of ``body`` (raw bytes) for these id and timestamp."""
    digest = _signature(decode_secret(secret), msg_id, int(timestamp), body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def build_headers(secret, msg_id, body, timestamp=None):
    """The three headers of a signed delivery (for our own outbound webhooks and demos)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def _lower_headers(headers):
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {}
    for name, value in items:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        lowered.setdefault(str(name).lower(), value)
    return lowered


def _parse_signatures(header):
    """Decoded v1 signatures; other versions (e.g. v1a, asymmetric) are skipped."""
    found = []
    for entry in header.split():
        version, sep, encoded = entry.partition(",")
        if not sep or version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(secrets, headers, body, now=None, tolerance=DEFAULT_TOLERANCE):
    """Check a delivery and return its ``webhook-id``.

    :param secrets: accepted secrets, the current one first, then a previous one still in
        its rotation grace period; empty entries are ignored
    :param headers: any mapping (or list of pairs) of request headers, names in any case
    :param body: the raw request body, exactly as received
    :raises WebhookVerificationError: status 400 for missing/malformed headers, 401 for a
        timestamp outside ``tolerance`` seconds or a signature that matches no secret
    :raises ConfigurationError: a configured secret is not valid ``whsec_<base64>`` (our
        fault, not the sender's)
    """
    lowered = _lower_headers(headers or {})
    values = {}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        value = (lowered.get(name) or "").strip()
        if not value:
            raise WebhookVerificationError(f"The {name} header is missing.", 400)
        values[name] = value
    msg_id = values["webhook-id"]
    if len(msg_id) > MAX_ID_LENGTH or not _ID_RE.match(msg_id):
        raise WebhookVerificationError(
            "The webhook-id header is malformed: expected up to 256 printable characters "
            "without spaces.",
            400,
        )
    if not _TIMESTAMP_RE.match(values["webhook-timestamp"]):
        raise WebhookVerificationError(
            "The webhook-timestamp header is malformed: expected unix time in whole seconds.",
            400,
        )
    timestamp = int(values["webhook-timestamp"])
    signatures = _parse_signatures(values["webhook-signature"])
    if not signatures:
        raise WebhookVerificationError(
            "The webhook-signature header is malformed: expected 'v1,<base64>' entries.", 400
        )
    now = time.time() if now is None else float(now)
    if timestamp < now - tolerance:
        raise WebhookVerificationError(
            f"The webhook timestamp is too old: {int(now - timestamp)} seconds, the limit is "
            f"{tolerance} (a replayed or long-delayed delivery).",
            401,
        )
    if timestamp > now + tolerance:
        raise WebhookVerificationError(
            f"The webhook timestamp is {int(timestamp - now)} seconds in the future, the limit "
            f"is {tolerance} (check the sender's clock).",
            401,
        )
    keys = [decode_secret(secret) for secret in secrets or () if secret]
    if not keys:
        raise WebhookVerificationError("No webhook secret is configured for this partner.", 401)
    matched = False
    for key in keys:
        expected = _signature(key, msg_id, timestamp, body)
        for candidate in signatures:
            # constant time; keep looping so timing does not reveal which key matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError(
            "The webhook signature does not match: the body was altered or the sender uses "
            "another secret.",
            401,
        )
    return msg_id


def generate_secret(nbytes=32):
    """A new random ``whsec_<base64>`` secret (at least 24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(max(int(nbytes), 24))).decode()


def generate_token(nbytes=32):
    """A random URL-safe token, e.g. for the unguessable part of a webhook URL."""
    return _secrets.token_urlsafe(max(int(nbytes), 16))
