"""The refusals every operation may raise, one hierarchy for the whole product.

Operations raise these and nothing else when they refuse; each surface turns
them into its own answer in one place: `web.failure` and the page error
handler (a flash and a redirect, or the error page), `api.core` (a JSON body
with the status below), `cli` (one line and a non-zero exit). The edge then
rolls the request's transaction back, so a refused operation changes nothing.

Pure: no database, no request; its own messages are translated (reviews.languages:
the request's language, English outside one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reviews.languages import gettext, ngettext


class DomainError(Exception):
    """A refused request. `fields` maps the input it concerns to what is wrong there."""

    status: int = 400
    code: str = "refused"

    def __init__(
        self, message: str, field: str | None = None, *, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, str] = dict(fields or ({field: message} if field else {}))

    @property
    def field(self) -> str | None:
        """The first field concerned (forms show the message beside it)."""
        return next(iter(self.fields), None)


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Invalid(DomainError):
    """Input that is wrong; `fields` names every problem at once."""

    status = 422
    code = "invalid"


class BadParameter(Invalid):
    """A malformed query parameter (`fields` names it)."""

    status = 400
    code = "bad_parameter"


class Conflict(DomainError):
    """The thing changed since the writer read it: `current` is what is stored now."""

    status = 409
    code = "conflict"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        current: Any = None,
        current_version: int | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, field, fields=fields)
        self.current = current
        self.current_version = current_version


class PhaseClosed(DomainError):
    """The cycle's phase (or the object's state) does not allow this now."""

    status = 409
    code = "phase_closed"


def merge(errors: Mapping[str, str]) -> Invalid:
    """One Invalid holding every problem found, for parsers that collect them all."""
    first = next(iter(errors.values()), gettext("Some fields are not valid."))
    message = (
        first
        if len(errors) == 1
        else ngettext(
            "%(num)d field needs attention.", "%(num)d fields need attention.", len(errors)
        )
    )
    return Invalid(message, fields=errors)
