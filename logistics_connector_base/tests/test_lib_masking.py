"""Secrets never reach captures, logs or exception texts."""

from requests.structures import CaseInsensitiveDict

from odoo.addons.logistics_connector_base.lib.masking import (
    MASK,
    SENSITIVE_KEYS,
    mask_headers,
    mask_mapping,
    mask_secrets,
    mask_urls,
)


def test_mask_secrets_walks_nested_values():
    payload = {
        "note": "login s3cr3t-pass ok",
        "raw": b"<Password>s3cr3t-pass</Password>",
        "items": ["x", ("tuple s3cr3t-pass",), {"deep": "s3cr3t-pass"}],
        "count": 3,
        "flag": None,
    }
    masked = mask_secrets(payload, ["s3cr3t-pass"])
    assert masked == {
        "note": f"login {MASK} ok",
        "raw": f"<Password>{MASK}</Password>".encode(),
        "items": ["x", (f"tuple {MASK}",), {"deep": MASK}],
        "count": 3,
        "flag": None,
    }
    # the original is untouched
    assert payload["note"] == "login s3cr3t-pass ok"


def test_mask_secrets_catches_encoded_spellings():
    secret = 'p@ss w"rd&1'
    form = "client_id=abc&client_secret=p%40ss+w%22rd%261"
    url = "https://x.test/?key=p%40ss%20w%22rd%261"
    json_text = '{"password": "p@ss w\\"rd&1"}'
    masked = mask_secrets([form, url, json_text], [secret])
    assert masked == [
        f"client_id=abc&client_secret={MASK}",
        f"https://x.test/?key={MASK}",
        f'{{"password": "{MASK}"}}',
    ]


def test_mask_secrets_prefers_the_longest_secret():
    masked = mask_secrets("token abcd1234efgh", ["abcd", "abcd1234efgh"])
    assert masked == f"token {MASK}"


def test_short_or_empty_secrets_are_ignored():
    assert mask_secrets("a1 b2 abc", ["a1", "abc", "", None]) == "a1 b2 abc"
    assert mask_secrets({"x": "y"}, []) == {"x": "y"}


def test_mask_headers_masks_credentials_only():
    headers = {
        "Authorization": "Bearer eyJhbGciOi.secret",
        "Proxy-Authorization": "Basic dXNlcjpwYXNz",
        "Cookie": "session=abc",
        "Set-Cookie": "session=abc; HttpOnly",
        "X-Api-Key": "k-123456",
        "X-Auth-Token": "t-123456",
        "X-Client-Secret": "s-123456",
        "Sftp-Password": "pw-123456",
        "shipbob_channel_key": "c-123",
        "Idempotency-Key": "order-42-attempt",
        "X-Correlation-ID": "corr-1",
        "Content-Type": "application/json",
    }
    assert mask_headers(headers) == {
        "Authorization": f"Bearer {MASK}",
        "Proxy-Authorization": f"Basic {MASK}",
        "Cookie": MASK,
        "Set-Cookie": MASK,
        "X-Api-Key": MASK,
        "X-Auth-Token": MASK,
        "X-Client-Secret": MASK,
        "Sftp-Password": MASK,
        "shipbob_channel_key": MASK,
        # needed to debug retries, and no secret
        "Idempotency-Key": "order-42-attempt",
        "X-Correlation-ID": "corr-1",
        "Content-Type": "application/json",
    }


def test_mask_headers_accepts_pairs_and_case_insensitive_dicts():
    pairs = [("authorization", "sometoken"), ("accept", b"text/xml")]
    assert mask_headers(pairs) == {"authorization": MASK, "accept": "text/xml"}
    cid = CaseInsensitiveDict({"X-API-KEY": "abcdef", "Host": "x"})
    assert mask_headers(cid) == {"X-API-KEY": MASK, "Host": "x"}
    assert mask_headers(None) == {}


def test_mask_mapping_masks_credential_keys_at_any_depth():
    config = {
        "base_url": "https://api.test",
        "token_url": "https://api.test/token",
        "username": "ops",
        "password": "hunter22",
        "Client-Secret": "cs-1",
        "oauth": {"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 3600},
        "endpoints": [{"sftp_private_key": "-----BEGIN...", "host_key": "ssh-ed25519 AAAA"}],
        "FTP Password": "pw",
        "api_key": "k",
        "authorization": {"kind": "bearer"},
        "idempotency_key": "order-1",
        "tracking_number": "1Z999",
        "webhook_secret": "",
        "token": None,
    }
    assert mask_mapping(config) == {
        "base_url": "https://api.test",
        "token_url": "https://api.test/token",
        "username": "ops",
        "password": MASK,
        "Client-Secret": MASK,
        "oauth": {"access_token": MASK, "refresh_token": MASK, "expires_in": 3600},
        "endpoints": [{"sftp_private_key": MASK, "host_key": "ssh-ed25519 AAAA"}],
        "FTP Password": MASK,
        "api_key": MASK,
        "authorization": MASK,
        "idempotency_key": "order-1",
        "tracking_number": "1Z999",
        # "not configured" stays visible
        "webhook_secret": "",
        "token": None,
    }


def test_sensitive_keys_cover_the_usual_credentials():
    expected = {
        "password",
        "secret",
        "token",
        "api_key",
        "client_secret",
        "private_key",
        "authorization",
    }
    assert expected <= SENSITIVE_KEYS


def test_urls_lose_user_info_and_query_but_keep_where_they_point():
    details = {
        "url": "https://ops:s3cret@api.partner.example/v1/orders?api_key=abc&page=2#top",
        "note": "called http://api.partner.example/ping?token=zzz then ftp://u@files.example/x",
        "list": ["sftp://bob@sftp.example:22/outbound"],
        "plain": "https://api.partner.example/v1/orders",
        "count": 3,
    }
    masked = mask_urls(details)
    assert masked["url"] == f"https://{MASK}@api.partner.example/v1/orders?{MASK}"
    assert masked["note"] == (
        f"called http://api.partner.example/ping?{MASK} then ftp://{MASK}@files.example/x"
    )
    assert masked["list"] == [f"sftp://{MASK}@sftp.example:22/outbound"]
    assert masked["plain"] == "https://api.partner.example/v1/orders"
    assert masked["count"] == 3
    assert "s3cret" not in str(masked) and "abc" not in str(masked)
