"""Sign-in throttling decision, kept pure so that its arithmetic is tested alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_after(
    failures: Sequence[datetime], now: datetime, max_failures: int, window: timedelta
) -> int | None:
    """Seconds to wait before the next try, or None when a try is allowed.

    After `max_failures` failures inside `window`, tries are refused until the
    oldest of the last `max_failures` failures leaves the window.
    """
    recent = sorted(t for t in failures if now - t < window)
    if len(recent) < max_failures:
        return None
    oldest_counted = recent[-max_failures]
    wait = window - (now - oldest_counted)
    return max(1, int(wait.total_seconds()) + 1)
