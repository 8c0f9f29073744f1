"""Keep secrets out of logs, captured payloads, audit entries and exception texts."""

import functools
import json
import re
from collections.abc import Mapping
from urllib.parse import quote, quote_plus

MASK = "********"
# Shorter values would mask innocent text everywhere ("1", "abc").
MIN_SECRET_LENGTH = 4

# Header names whose value is always a credential.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
# Any header whose name contains one of these is treated as a credential too.
SENSITIVE_HEADER_FRAGMENTS = ("token", "secret", "password", "key")
# ... except these, which carry no secret and are needed to debug retries.
NON_SECRET_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})

# Mapping keys (lower case, "-" and " " read as "_") whose value is a credential.
SENSITIVE_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "client_secret",
        "private_key",
        "authorization",
        "access_token",
        "refresh_token",
        "id_token",
        "passphrase",
        "webhook_secret",
        "signing_secret",
        "x_api_key",
        "cookie",
    }
)
# Keys ending like this are credentials as well (``ftp_password``, ``shipbob_token``...).
SENSITIVE_KEY_SUFFIXES = (
    "password",
    "passwd",
    "secret",
    "_token",
    "api_key",
    "apikey",
    "private_key",
    "passphrase",
)


def _variants(secrets):
    """Every spelling of each secret that may appear on the wire, longest first."""
    found = set()
    for secret in secrets or ():
        if secret is None:
            continue
        if isinstance(secret, bytes):
            secret = secret.decode("utf-8", "replace")
        secret = str(secret)
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        # raw, form/URL-encoded and JSON-escaped spellings
        found.update({secret, quote(secret, safe=""), quote_plus(secret)})
        found.add(json.dumps(secret)[1:-1])
    # Longest first so that a secret containing another is masked as a whole.
    return sorted((v for v in found if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def _masker(secrets):
    try:
        return _compiled_masker(tuple(secrets or ()))
    except TypeError:  # an unhashable secret: compiled for this call only
        return _compiled_masker.__wrapped__(tuple(secrets or ()))


# The same few partners' secrets mask every exchange: compiled once each.
@functools.lru_cache(maxsize=128)
def _compiled_masker(secrets):
    variants = _variants(secrets)
    if not variants:
        return None, None
    text_re = re.compile("|".join(re.escape(v) for v in variants))
    bytes_re = re.compile(b"|".join(re.escape(v.encode("utf-8")) for v in variants))
    return text_re, bytes_re


def _apply(value, text_re, bytes_re):
    if isinstance(value, str):
        return text_re.sub(MASK, value)
    if isinstance(value, (bytes, bytearray)):
        return bytes_re.sub(MASK.encode(), bytes(value))
    if isinstance(value, Mapping):
        return {key: _apply(item, text_re, bytes_re) for key, item in value.items()}
    if isinstance(value, list):
        return [_apply(item, text_re, bytes_re) for item in value]
    if isinstance(value, tuple):
        return tuple(_apply(item, text_re, bytes_re) for item in value)
    return value


def mask_secrets(value, secrets):
    """Copy of ``value`` with every occurrence of any secret replaced by ``********``.

    Walks str, bytes, dicts (values), lists and tuples; other values are returned as they
    are. Secrets shorter than 4 characters are ignored; URL-encoded and JSON-escaped
    spellings of each secret are masked too.
    """
    text_re, bytes_re = _masker(secrets)
    if text_re is None:
        return value
    return _apply(value, text_re, bytes_re)


def is_sensitive_header(name):
    name = str(name).strip().lower()
    if name in NON_SECRET_HEADERS:
        return False
    if name in SENSITIVE_HEADERS:
        return True
    return any(fragment in name for fragment in SENSITIVE_HEADER_FRAGMENTS)


def _mask_header_value(name, value):
    if value is None or value == "":
        return value
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if str(name).strip().lower() in ("authorization", "proxy-authorization"):
        # keep the scheme: "Bearer ********" still tells which kind of auth was sent
        scheme, sep, _credentials = str(value).partition(" ")
        if sep and scheme.isalpha():
            return f"{scheme} {MASK}"
    return MASK


def mask_headers(headers):
    """Plain dict copy of ``headers`` with credential headers masked.

    ``headers`` is a mapping (a requests ``CaseInsensitiveDict`` too) or a list of
    (name, value) pairs.
    """
    if not headers:
        return {}
    items = headers.items() if isinstance(headers, Mapping) else headers
    masked = {}
    for name, value in items:
        if is_sensitive_header(name):
            value = _mask_header_value(name, value)
        elif isinstance(value, bytes):
            value = value.decode("latin-1")
        masked[str(name)] = value
    return masked


def is_sensitive_key(key):
    key = re.sub(r"[\s\-]+", "_", str(key).strip().lower())
    return key in SENSITIVE_KEYS or key.endswith(SENSITIVE_KEY_SUFFIXES)


def mask_mapping(data):
    """Copy of ``data`` with the values of credential keys masked, at any depth.

    Empty values (None, "", False) are kept so that "not configured" stays visible.
    """
    if isinstance(data, Mapping):
        result = {}
        for key, value in data.items():
            if is_sensitive_key(key) and value not in (None, "", False):
                result[key] = MASK
            else:
                result[key] = mask_mapping(value)
        return result
    if isinstance(data, list):
        return [mask_mapping(item) for item in data]
    if isinstance(data, tuple):
        return tuple(mask_mapping(item) for item in data)
    return data


# scheme://[user[:password]@]host... up to the end of the URL; query and fragment apart
_URL = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s?#]*@)?"
    r"(?P<rest>[^\s?#\"']*)(?P<query>\?[^\s#\"']*)?(?P<fragment>#[^\s\"']*)?"
)


def _mask_url(match):
    userinfo = f"{MASK}@" if match["userinfo"] else ""
    query = f"?{MASK}" if match["query"] and len(match["query"]) > 1 else ""
    return f"{match['scheme']}{userinfo}{match['rest']}{query}"


def mask_urls(data):
    """Copy of ``data`` whose URLs (in any string, at any depth) keep their scheme, host and
    path but lose user info and query string, where keys and tokens hide:
    ``https://ops:pw@api.example/v1?api_key=x`` -> ``https://********@api.example/v1?********``.
    For texts kept long, like audit details; payload archives mask known secrets instead."""
    if isinstance(data, str):
        return _URL.sub(_mask_url, data)
    if isinstance(data, Mapping):
        return {key: mask_urls(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return type(data)(mask_urls(item) for item in data)
    return data
