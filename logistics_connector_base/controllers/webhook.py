import hashlib
import logging

import psycopg2
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_ERRORS_TO_RETRY

from ..lib.errors import DocumentValidationError, LogisticsError
from ..lib.masking import mask_headers
from ..lib.webhook_signature import WebhookVerificationError

_logger = logging.getLogger(__name__)


class LogisticsWebhookController(http.Controller):
    """Webhook intake: authenticate, store the raw delivery, commit, enqueue, answer 202.

    Parsing and business effects happen later in the message's job, so the partner gets its
    answer fast and a bug in an applier can never make a delivery disappear. Every refusal is a
    4xx with a reason (and an audit entry when the partner is known); never a 500."""

    @http.route(
        "/logistics/webhook/<string:token>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        # auth="none" routes default to a read-only cursor; intake must write.
        readonly=False,
        # The raw body is read before Odoo parses forms (ir.http._pre_dispatch).
        logistics_webhook=True,
    )
    def receive(self, token, **_kwargs):
        try:
            return self._receive(token)
        except psycopg2.OperationalError as error:
            if error.pgcode in PG_CONCURRENCY_ERRORS_TO_RETRY:
                # A concurrent duplicate delivery: Odoo retries the request with a fresh
                # snapshot, which then sees the other delivery's row and answers 200.
                raise
            return self._unavailable()
        except Exception:
            return self._unavailable()

    def _unavailable(self):
        # Nothing was committed: the partner keeps the event and retries.
        _logger.exception("Webhook intake failed unexpectedly")
        request.env.cr.rollback()
        return _answer(503, "temporarily unable to store the delivery, retry later")

    def _receive(self, token):
        env = request.env(user=SUPERUSER_ID)
        # Looked up once, when the body was read (ir.http._pre_dispatch).
        backend = env["logistics.backend"].browse(request.httprequest.environ.get(BACKEND_KEY))
        if not backend:
            _logger.warning("Webhook for an unknown token refused")
            return _answer(404, "unknown webhook address")
        limit = body_limit(backend)
        body = request.httprequest.environ.get(RAW_BODY_KEY)
        if body is INCOMPLETE_BODY:
            return _answer(400, "the body is shorter than its Content-Length")
        if body is None:
            declared = request.httprequest.content_length
            size = f"{declared} bytes" if declared is not None else "a chunked body"
            return self._refuse(backend, 413, f"{size} exceeds the limit of {limit} bytes")
        headers = dict(request.httprequest.headers.items())
        try:
            # The adapter owns the format: how a body is verified, split and routed.
            deliveries = backend._get_adapter()._webhook_deliveries(backend, headers, body)
        except WebhookVerificationError as error:
            return self._refuse(backend, error.status or 401, error.reason, body)
        except DocumentValidationError as error:
            return self._refuse(backend, 400, error.message, body)
        except LogisticsError as error:
            return self._misconfigured(backend, error, body)
        return self._store(backend, headers, body, deliveries)

    def _misconfigured(self, backend, error, body):
        """Our own configuration is wrong (e.g. no valid signing secret, no adapter): not the
        sender's fault, so a retryable answer - the partner keeps the event - and a work item
        for the administrator."""
        backend.env["logistics.exception"].raise_exception(
            "configuration_error",
            f"Webhooks from {backend.name} cannot be received",
            f"{error.message} Deliveries are answered 503 and the partner retries them: fix "
            "the partner's configuration.",
            backend=backend,
            severity="high",
        )
        return self._refuse(backend, 503, "webhook intake is not configured for this partner", body)

    def _store(self, backend, headers, body, deliveries):
        """Store each exchange the body carries, raw, then commit once and answer: 202 when
        something new was stored, 200 when all of it had been received before."""
        messages = backend.env["logistics.message"]
        masked_headers = mask_headers(headers)
        correlation_id = headers.get("X-Correlation-Id") or headers.get("X-Correlation-ID")
        created_any = False
        for delivery in deliveries:
            raw = delivery["raw"]
            message, created = messages._create_inbound(
                backend,
                delivery["flow"],
                raw,
                headers=masked_headers,
                event_id=delivery.get("event_id"),
            )
            if not created and message.content_hash != hashlib.sha256(raw).hexdigest():
                request.env.cr.rollback()
                return self._refuse(
                    backend,
                    409,
                    f"event {delivery.get('event_id')} was already delivered with a different body",
                    body,
                )
            if created and correlation_id:
                message.correlation_id = correlation_id[:64]
            created_any = created_any or created
            messages |= message
        request.env.cr.commit()
        if not created_any:
            return _answer(200, "duplicate delivery, already received", message=messages[:1].name)
        return _answer(
            202,
            "accepted",
            message=messages[:1].name,
            **({"messages": messages.mapped("name")} if len(messages) > 1 else {}),
        )

    def _refuse(self, backend, status, reason, body=b""):
        """Answer a refusal. Refusals are counted per partner, answer, reason and source per
        minute; only the first of each minute is audited, and past the limit the sender is
        told to slow down, so a flood costs neither disk nor the audit log's readability."""
        remote_addr = request.httprequest.remote_addr
        refusals = backend.env["logistics.webhook.refusal"]
        count = refusals._count_refusal(backend, status, reason, remote_addr)
        if count > refusals._refusals_per_minute():
            request.env.cr.commit()
            return _answer(
                429,
                "too many refused deliveries from this address, retry in a minute",
                headers={"Retry-After": "60"},
            )
        if count == 1:
            backend.env["logistics.audit.log"].record(
                "webhook_rejected",
                f"Webhook refused ({status}): {reason}"[:250],
                backend=backend,
                details={
                    "status": status,
                    "reason": reason,
                    "remote_addr": remote_addr,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                    "body_size": len(body),
                    "note": "more refusals of this kind this minute are counted in Webhook "
                    "Refusals, not audited one by one",
                },
            )
        request.env.cr.commit()
        return _answer(status, reason)


RAW_BODY_KEY = "logistics_connector.raw_body"
BACKEND_KEY = "logistics_connector.backend_id"
INCOMPLETE_BODY = object()
UNKNOWN_PARTNER_BODY_LIMIT = 1024
INTAKE_BACKEND_FIELDS = [
    "name",
    "code",
    "company_id",
    "environment",
    "adapter",
    "channel_name",
    "max_attempts",
    "inbound_batch_size",
    "webhook_max_body_kb",
    "webhook_secret",
    "webhook_secret_previous",
    "webhook_secret_previous_expiry",
]


def body_limit(backend):
    return max(backend.webhook_max_body_kb, 1) * 1024 if backend else UNKNOWN_PARTNER_BODY_LIMIT


def read_raw_body(token):
    """Read the request body, raw, within the partner's size limit (declared or chunked), and
    keep it for the controller under RAW_BODY_KEY; None there means too large. Called before
    Odoo parses a form body, so the bytes a signature covers are never lost, and an oversized
    body is refused unread."""
    httprequest = request.httprequest
    environ = httprequest.environ
    if RAW_BODY_KEY in environ:
        return  # a retried request (concurrency) reads the same body again
    # With every field the intake reads: one query for the lookup and the reads.
    backend = (
        request.env["logistics.backend"]
        .sudo()
        .search_fetch([("webhook_token", "=", token)], INTAKE_BACKEND_FIELDS, limit=1)
    )
    environ[BACKEND_KEY] = backend.id
    limit = body_limit(backend)
    declared = httprequest.content_length
    body = None
    if declared is None or declared <= limit:
        # Read at most one byte past the limit, also when the sender declares no length
        # (chunked: werkzeug may then cut the stream at the maximum instead of refusing it).
        httprequest.max_content_length = limit + 1
        try:
            body = httprequest.get_data(cache=True, parse_form_data=False)
            if len(body) > limit:
                body = None
        except RequestEntityTooLarge:
            body = None
        except ClientDisconnected:
            body = INCOMPLETE_BODY
    # Odoo must not parse the body into parameters: the adapter reads the raw bytes itself.
    httprequest.form = httprequest.files = ImmutableMultiDict()
    environ[RAW_BODY_KEY] = body


def _answer(status, text, headers=None, **extra):
    return request.make_json_response(
        {"status": "ok" if status < 300 else "error", "detail": text, **extra},
        status=status,
        headers=list((headers or {}).items()),
    )
