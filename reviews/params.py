"""Query parameters, read one way on every page and API call.

A parameter that is absent takes its default; one that is present but
malformed (`?manager=abc`, `?to=notadate`, `?page=0`) is refused with a 400
naming it (`errors.BadParameter`), never quietly ignored: a filter dropped
without a word returns everything, which reads as an answer. A page that
declares its parameters (`only`) refuses any other, such as a `?page=3` from
before the list paged by links.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import request

from reviews.errors import BadParameter
from reviews.languages import gettext

MAX_ID = 2**31 - 1


def _given(name: str) -> str | None:
    value = request.args.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def integer(
    name: str, *, low: int = 0, high: int = MAX_ID, default: int | None = None
) -> int | None:
    value = _given(name)
    if value is None:
        return default
    if not value.isdigit() or len(value) > 10 or not low <= int(value) <= high:
        raise BadParameter(
            gettext(
                "The parameter “%(name)s” must be a whole number from %(low)d to %(high)d.",
                name=name,
                low=low,
                high=high,
            ),
            name,
        )
    return int(value)


def page(name: str = "page") -> int:
    return integer(name, low=1, high=100_000, default=1) or 1


def day(name: str) -> date | None:
    value = _given(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(
            gettext("The parameter “%(name)s” must be a date written YYYY-MM-DD.", name=name),
            name,
        ) from None


def choice(name: str, choices: Iterable[str], default: str | None = None) -> str | None:
    allowed = list(choices)
    value = _given(name)
    if value is None:
        return default
    if value not in allowed:
        raise BadParameter(
            gettext(
                "The parameter “%(name)s” must be one of: %(choices)s.",
                name=name,
                choices=", ".join(allowed),
            ),
            name,
        )
    return value


def text(name: str, *, max_length: int) -> str:
    value = _given(name) or ""
    if len(value) > max_length:
        raise BadParameter(
            gettext(
                "The parameter “%(name)s” must be at most %(max)d characters.",
                name=name,
                max=max_length,
            ),
            name,
        )
    return value


def only(*names: str, paged_by_links: bool = False) -> None:
    """Refuse a parameter the page does not take (400, naming it): a misspelt filter
    would otherwise show every row as if it were what was asked for. On a list that
    pages by links (`paged_by_links`), a page number from an older link is taken only
    when it asks for the first page, which is what the list shows."""
    for name, value in request.args.items(multi=True):
        if name in names:
            continue
        if paged_by_links and name == "page":
            if value.strip() in ("", "1"):
                continue
            raise BadParameter(
                gettext(
                    "The parameter “page” is no longer taken: this list goes from page to "
                    "page by its links to the next and previous pages."
                ),
                name,
            )
        takes = ", ".join(f"“{n}”" for n in names)
        raise BadParameter(
            gettext(
                "This page takes no parameter “%(name)s”; it takes %(takes)s.",
                name=name,
                takes=takes,
            ),
            name,
        )
