import hashlib
import json
import logging

from werkzeug.exceptions import ClientDisconnected

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..lib.errors import LogisticsError
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
    )
    def receive(self, token, **_kwargs):
        try:
            return self._receive(token)
        except Exception:
            # Nothing was committed: the partner keeps the event and retries.
            _logger.exception("Webhook intake failed unexpectedly")
            request.env.cr.rollback()
            return _answer(503, "temporarily unable to store the delivery, retry later")

    def _receive(self, token):
        env = request.env(user=SUPERUSER_ID)
        backend = env["logistics.backend"].search([("webhook_token", "=", token)], limit=1)
        if not backend:
            _logger.warning("Webhook for an unknown token refused")
            return _answer(404, "unknown webhook address")
        limit = max(backend.webhook_max_body_kb, 1) * 1024
        declared = request.httprequest.content_length
        if declared is None:
            # Without a declared length the body could only be bounded by reading it.
            return self._refuse(backend, 411, "a Content-Length header is required")
        if declared > limit:
            return self._refuse(backend, 413, f"body of {declared} bytes exceeds {limit} bytes")
        try:
            body = request.httprequest.get_data(cache=False)
        except ClientDisconnected:
            return _answer(400, "the body is shorter than its Content-Length")
        headers = dict(request.httprequest.headers.items())
        adapter = backend._get_adapter()
        try:
            event_id = adapter._verify_webhook(backend, headers, body)
        except WebhookVerificationError as error:
            return self._refuse(backend, error.status or 401, error.reason, body)
        except LogisticsError as error:
            # Our own configuration is wrong (e.g. no valid signing secret): not the sender's
            # fault, so a retryable answer - the partner keeps the event - and a work item.
            backend.env["logistics.exception"].raise_exception(
                "configuration_error",
                f"{backend.name}: webhooks cannot be verified",
                f"{error.message} Deliveries are answered 503 and the partner retries them: "
                "fix the partner's webhook settings.",
                backend=backend,
                severity="high",
            )
            return self._refuse(backend, 503, "webhook verification is not configured", body)
        try:
            json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            return self._refuse(backend, 400, f"body is not valid JSON ({reason})", body)
        message, created = env["logistics.message"].create_inbound(
            backend,
            "webhook",
            body,
            headers=mask_headers(headers),
            event_id=event_id,
        )
        if not created:
            if message.content_hash != hashlib.sha256(body).hexdigest():
                return self._refuse(
                    backend,
                    409,
                    f"webhook-id {event_id} was already delivered with a different body",
                    body,
                )
            return _answer(200, "duplicate delivery, already received", message=message.name)
        correlation_id = headers.get("X-Correlation-Id") or headers.get("X-Correlation-ID")
        if correlation_id:
            message.correlation_id = correlation_id[:64]
        request.env.cr.commit()
        return _answer(202, "accepted", message=message.name)

    def _refuse(self, backend, status, reason, body=b""):
        backend.env["logistics.audit.log"].record(
            "webhook_rejected",
            f"Webhook refused ({status}): {reason}"[:250],
            backend=backend,
            details={
                "status": status,
                "reason": reason,
                "remote_addr": request.httprequest.remote_addr,
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "body_size": len(body),
            },
        )
        request.env.cr.commit()
        return _answer(status, reason)


def _answer(status, text, **extra):
    return request.make_json_response(
        {"status": "ok" if status < 300 else "error", "detail": text, **extra}, status=status
    )
