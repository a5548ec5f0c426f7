from datetime import UTC, datetime, timedelta

from reviews.auth.throttle import retry_after

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_under_the_limit_is_allowed():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert retry_after(failures, NOW, 5, WINDOW) is None


def test_fifth_failure_blocks_until_the_oldest_leaves_the_window():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 10)]
    assert retry_after(failures, NOW, 5, WINDOW) == 5 * 60 + 1


def test_old_failures_do_not_count():
    failures = [NOW - timedelta(minutes=m) for m in (16, 20, 30, 1, 2)]
    assert retry_after(failures, NOW, 5, WINDOW) is None
