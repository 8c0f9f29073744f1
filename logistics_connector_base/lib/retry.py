"""What happens after a failed attempt: retry (when, with backoff, cap and jitter, and the
partner's Retry-After) or stop (failed or dead, and which exception a person gets). Plain
Python, no database: the message pipeline applies the decision."""

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple

# A partner may ask for a long pause (maintenance), but a typo or a hostile value must not
# park a message for months: a day is the longest wait we accept from Retry-After.
MAX_RETRY_AFTER = 24 * 3600.0


def compute_backoff(attempt, base, cap, jitter, retry_after=None, rng=random):
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    ``base * 2 ** (attempt - 1)``, capped at ``cap``, spread by +/- ``jitter`` (a ratio
    0..1) so that messages failing together do not retry together, and never above
    ``cap``. A partner's ``retry_after`` wins when it is longer, even above ``cap``
    (the partner knows best when it will accept traffic again), but is itself limited
    to :data:`MAX_RETRY_AFTER`.
    """
    attempt = max(int(attempt), 1)
    base = max(float(base), 0.0)
    cap = max(float(cap), 0.0)
    jitter = min(max(float(jitter), 0.0), 1.0)
    # Stop doubling once past the cap: 2 ** 10000 would overflow a float.
    exponent = min(attempt - 1, 64)
    delay = min(cap, base * 2.0**exponent)
    if jitter:
        delay *= 1.0 + rng.uniform(-jitter, jitter)
    delay = min(max(delay, 0.0), cap)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header value, or None when absent or unreadable.

    Accepts delta-seconds (``"120"``, also a decimal such as ``"1.5"``) and an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``); a date in the past gives 0.
    """
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN/inf
            return None
        return max(seconds, 0.0)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), 0.0)


# Error classes (lib.errors) that are tried again until the attempt limit.
RETRIED_ERROR_CLASSES = frozenset({"transient", "internal"})
# Which exception type a failure that stops at once opens, by error class.
EXCEPTION_TYPE_BY_ERROR = {
    "internal": "other",
    "business": "partner_rejected",
    "configuration": "configuration_error",
    "validation": "validation_error",
    "mapping": "mapping_missing",
}


class RetryPolicy(NamedTuple):
    """A partner's retry settings."""

    max_attempts: int
    backoff_base: float
    backoff_cap: float
    backoff_jitter: float


class FailureDecision(NamedTuple):
    """``state`` retry (again in ``delay`` seconds), failed (a person must act now) or dead
    (retries used up); ``exception_type`` is what a stopped message opens."""

    state: str
    delay: float | None = None
    exception_type: str | None = None

    @property
    def dead(self):
        return self.state == "dead"


def decide_after_failure(
    error_class, attempts, policy, *, retry_after=None, direction="outbound", rng=random
):
    """The next state of a message whose attempt number ``attempts`` failed with an error of
    ``error_class`` (``transient``, ``internal``, ``business``, ``configuration``,
    ``validation`` or ``mapping``), under ``policy`` (a :class:`RetryPolicy`).

    Transient and internal errors are retried with backoff until ``policy.max_attempts``, then
    the message is dead: an unreachable partner is a ``service_unavailable`` exception, a bug
    (internal) an ``other`` one. Every other class stops at once (``failed``); a refusal of
    what a partner *sent* us (inbound) is ``document_not_applied``, not the partner refusing.
    """
    if error_class in RETRIED_ERROR_CLASSES:
        if attempts >= policy.max_attempts:
            kind = "other" if error_class == "internal" else "service_unavailable"
            return FailureDecision("dead", exception_type=kind)
        delay = compute_backoff(
            attempts,
            policy.backoff_base,
            policy.backoff_cap,
            policy.backoff_jitter,
            retry_after=retry_after,
            rng=rng,
        )
        return FailureDecision("retry", delay=delay)
    return stop_decision(error_class, direction)


def stop_decision(error_class, direction="outbound"):
    """A message that stops at once (``failed``) and the exception type it opens."""
    kind = EXCEPTION_TYPE_BY_ERROR.get(error_class, "other")
    if kind == "partner_rejected" and direction == "inbound":
        # Not the partner refusing us: what the partner sent cannot be applied here.
        kind = "document_not_applied"
    return FailureDecision("failed", exception_type=kind)
