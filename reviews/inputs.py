"""Reading a request's input the same way whatever surface it came from.

`Fields` wraps a page form's MultiDict or an API JSON object and gives each
action's parser typed values, collecting every problem instead of stopping at
the first; `Fields.check()` then raises one `Invalid` naming them all. The
parsers (`cycles.inputs`, `calibration.inputs`, ...) are the one place an
action's input is decided: WTForms renders forms, it does not decide.

Two differences between the surfaces are settled here and nowhere else:
- A form states every field on every post (an unticked box is absent, so it is
  False); a JSON body states only what it sends, so `has` tells the parser
  whether to keep the current value (PATCH) or take the default (POST).
- Form values are strings (lists come from repeated keys or a text area);
  JSON values are typed, and a value of the wrong type is an error here, not a
  crash further on.

Pure: no database, no request; its messages are translated (reviews.languages: the
request's language, English outside one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from reviews.errors import merge
from reviews.languages import gettext

TRUE_WORDS = frozenset({"y", "yes", "on", "true", "1"})


class Fields:
    def __init__(self, data: Mapping[str, Any], *, form: bool) -> None:
        self.data = data
        self.form = form
        self.errors: dict[str, str] = {}

    @classmethod
    def of_form(cls, data: Mapping[str, Any]) -> Fields:
        return cls(data, form=True)

    @classmethod
    def of_json(cls, data: Mapping[str, Any]) -> Fields:
        return cls(data, form=False)

    def has(self, name: str) -> bool:
        """Whether the input states this field (a form states all of its fields)."""
        return self.form or name in self.data

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def ok(self, *names: str) -> bool:
        return not any(n in self.errors for n in names)

    def check(self) -> None:
        if self.errors:
            raise merge(self.errors)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def text(
        self, name: str, *, max_length: int, required: str | None = None, strip: bool = True
    ) -> str:
        value = self.data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(name, gettext("Write text here."))
            return ""
        value = value.strip() if strip else value
        if len(value) > max_length:
            self.error(name, gettext("Keep this to %(max)d characters or fewer.", max=max_length))
        elif required and not value:
            self.error(name, required)
        return value

    def integer(
        self,
        name: str,
        low: int,
        high: int,
        *,
        required: str | None = None,
        invalid: str | None = None,
    ) -> int | None:
        value = self.data.get(name)
        if value is None or (self.form and str(value).strip() == ""):
            if required:
                self.error(name, required)
            return None
        message = invalid or gettext(
            "Enter a whole number from %(low)d to %(high)d.", low=low, high=high
        )
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(name, message)
            return None
        return value

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if self.form:
            return value is not None and str(value).strip().lower() in TRUE_WORDS
        if not isinstance(value, bool):
            self.error(name, gettext("Use true or false."))
            return False
        return value

    def day(self, name: str, *, required: str | None = None) -> date | None:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, required)
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.error(name, gettext("Enter a date as YYYY-MM-DD."))
        return None

    def choice(
        self,
        name: str,
        choices: Iterable[str],
        *,
        required: str | None = None,
        invalid: str | None = None,
    ) -> str | None:
        allowed = list(choices)
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, required)
            return None
        if not isinstance(value, str) or value not in allowed:
            self.error(
                name, invalid or gettext("Choose one of: %(choices)s.", choices=", ".join(allowed))
            )
            return None
        return value

    def values(self, name: str) -> list[Any]:
        """Every value given for a list field: repeated form keys, or a JSON array."""
        if self.form:
            getlist = getattr(self.data, "getlist", None)
            found = getlist(name) if getlist else [self.data[name]] if name in self.data else []
            return [v for v in found if v != ""]
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(name, gettext("Give a list."))
            return []
        return value

    def ids(self, name: str) -> list[int]:
        out = []
        for value in self.values(name):
            if isinstance(value, str) and value.isdigit() and len(value) < 10:
                out.append(int(value))
            elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
                out.append(value)
            else:
                self.error(name, gettext("Choose from the list."))
        return out

    def words(self, name: str, *, max_length: int) -> list[str]:
        """A list of short strings: a JSON array, or a form's text area of words
        separated by spaces, commas or new lines."""
        if self.form:
            text = self.text(name, max_length=max_length)
            return [w for w in re.split(r"[\s,;]+", text) if w]
        out = []
        for value in self.values(name):
            if not isinstance(value, str) or len(value) > 254:
                self.error(name, gettext("Give a list of short texts."))
                return []
            if value.strip():
                out.append(value.strip())
        return out
