"""Retry timing: exponential backoff with cap and jitter, and Retry-After parsing."""

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

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
