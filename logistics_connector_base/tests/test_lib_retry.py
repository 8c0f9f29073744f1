"""The retry/failure decision, backoff timing and Retry-After parsing (pure functions)."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from odoo.addons.logistics_connector_base.lib.retry import (
    MAX_RETRY_AFTER,
    FailureDecision,
    RetryPolicy,
    compute_backoff,
    decide_after_failure,
    parse_retry_after,
    stop_decision,
)

POLICY = RetryPolicy(max_attempts=3, backoff_base=10, backoff_cap=600, backoff_jitter=0.0)


def test_backoff_doubles_from_base():
    delays = [compute_backoff(attempt, base=10, cap=1000, jitter=0) for attempt in range(1, 6)]
    assert delays == [10, 20, 40, 80, 160]


def test_backoff_is_capped_and_survives_huge_attempts():
    assert compute_backoff(8, base=10, cap=600, jitter=0) == 600
    assert compute_backoff(10_000, base=10, cap=600, jitter=0) == 600


def test_attempt_below_one_counts_as_first():
    assert compute_backoff(0, base=5, cap=100, jitter=0) == 5
    assert compute_backoff(-3, base=5, cap=100, jitter=0) == 5


def test_jitter_spreads_within_ratio():
    rng = random.Random(42)
    delays = [compute_backoff(3, base=10, cap=1000, jitter=0.25, rng=rng) for _ in range(300)]
    assert all(30 <= delay <= 50 for delay in delays)
    # really spread on both sides of the nominal 40 s, not a constant
    assert min(delays) < 35 < 45 < max(delays)


def test_jitter_never_exceeds_cap():
    rng = random.Random(7)
    delays = [compute_backoff(12, base=10, cap=300, jitter=0.5, rng=rng) for _ in range(200)]
    assert all(150 <= delay <= 300 for delay in delays)
    assert min(delays) < 300


def test_retry_after_wins_when_longer_even_above_cap():
    assert compute_backoff(1, base=10, cap=60, jitter=0, retry_after=120) == 120
    # a shorter Retry-After does not shorten our own backoff
    assert compute_backoff(3, base=10, cap=600, jitter=0, retry_after=5) == 40


def test_retry_after_is_limited_to_a_day():
    delay = compute_backoff(1, base=10, cap=60, jitter=0, retry_after=90 * 24 * 3600)
    assert delay == MAX_RETRY_AFTER == 86400


def test_parse_delta_seconds():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(b"30") == 30.0
    # a negative wait means "now"
    assert parse_retry_after("-5") == 0.0


def test_parse_http_date():
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    # a naive "now" is read as UTC
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now.replace(tzinfo=None)) == 60
    # a date already past gives 0, not a negative wait
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0


def test_parse_http_date_against_the_clock():
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    value = parse_retry_after(when.strftime("%a, %d %b %Y %H:%M:%S GMT"))
    assert 3500 < value <= 3600


def test_parse_unreadable_values():
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None
    assert parse_retry_after("Wed, 99 Foo 2015 07:28:00 GMT") is None


# -- the decision after a failed attempt --------------------------------------------------------
@pytest.mark.parametrize("error_class", ["transient", "internal"])
def test_retried_errors_wait_with_backoff_until_the_limit(error_class):
    assert decide_after_failure(error_class, 1, POLICY) == FailureDecision("retry", delay=10)
    assert decide_after_failure(error_class, 2, POLICY) == FailureDecision("retry", delay=20)


def test_partner_retry_after_wins_when_longer():
    decision = decide_after_failure("transient", 1, POLICY, retry_after=90)
    assert decision == FailureDecision("retry", delay=90)


def test_an_unreachable_partner_ends_dead_as_service_unavailable():
    decision = decide_after_failure("transient", 3, POLICY)
    assert decision == FailureDecision("dead", exception_type="service_unavailable")
    assert decision.dead


def test_a_bug_ends_dead_as_other_not_as_the_partner_down():
    # Also when a crashed worker left more committed attempts than the limit.
    assert decide_after_failure("internal", 5, POLICY) == FailureDecision(
        "dead", exception_type="other"
    )


@pytest.mark.parametrize(
    "error_class, exception_type",
    [
        ("business", "partner_rejected"),
        ("configuration", "configuration_error"),
        ("validation", "validation_error"),
        ("mapping", "mapping_missing"),
        ("something new", "other"),
    ],
)
def test_other_errors_stop_at_once_whatever_the_attempt(error_class, exception_type):
    for attempt in (1, 3, 9):
        decision = decide_after_failure(error_class, attempt, POLICY)
        assert decision == FailureDecision("failed", exception_type=exception_type)
        assert not decision.dead


def test_a_refused_inbound_document_is_not_the_partner_refusing_us():
    assert decide_after_failure("business", 1, POLICY, direction="inbound") == FailureDecision(
        "failed", exception_type="document_not_applied"
    )
    assert stop_decision("business", "outbound").exception_type == "partner_rejected"


def test_jitter_comes_from_the_given_random_source():
    policy = POLICY._replace(backoff_jitter=0.5)
    first = decide_after_failure("transient", 2, policy, rng=random.Random(7))
    again = decide_after_failure("transient", 2, policy, rng=random.Random(7))
    assert first == again and 10 <= first.delay <= 30
