"""Languages: which locale a page, an e-mail or a PDF is written in, and the catalogs.

Every text a person reads is marked for translation (`_` in templates, `gettext`,
`ngettext` and `lazy_gettext` from here in Python) and formatted by Babel for the
locale (dates, numbers, percentages). The locale of a request is, in order:

1. the person's own choice (`Person.locale`, on the language page), if it is offered;
2. the best match for the browser's `Accept-Language` among the offered ones;
3. the deployment's default, `LANGUAGE` (`REVIEWS_LANGUAGE`, "en" unless set).

What reaches someone who is not at the keyboard (an e-mail, a PDF made by a job) is
written in *their* locale: `person_locale(person)` with `force_locale`, never the
sender's.

Offered languages are English and every catalog compiled under
`reviews/translations/<locale>/LC_MESSAGES/` (`make translations`), narrowed by
`LANGUAGES` (`REVIEWS_LANGUAGES`, comma-separated) when set. The pseudo-locale
`en_Dsrt` is offered only when `PSEUDO_LOCALE` is on (the tests): its catalog, made
by `python -m reviews.catalogs pseudo` from the extracted template, wraps every string in
brackets, accents its letters and makes it 40% longer, and Babel formats its dates
in the Deseret alphabet, so a string left unmarked or a date formatted by hand
stands out on any page, and so does a layout that breaks with longer text.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import flask_babel
from babel import Locale, UnknownLocaleError
from flask import current_app, has_request_context, request
from flask_babel import (
    Babel,
    LazyString,
    force_locale,
    get_locale,
    gettext,
    lazy_gettext,
    lazy_ngettext,
    ngettext,
    pgettext,
)

__all__ = [
    "PSEUDO",
    "LazyString",
    "force_locale",
    "get_locale",
    "gettext",
    "in_sentence",
    "lazy_gettext",
    "lazy_ngettext",
    "ngettext",
    "number",
    "offered",
    "percent",
    "person_locale",
    "person_locale_of",
    "pgettext",
]

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT = "en"
PSEUDO = "en_Dsrt"  # English in the Deseret alphabet: Babel's data, our catalog
PSEUDO_NAME = "⟦Ƥšéûđö-ļöçåļé ~~~~⟧"  # its name written in itself

babel = Babel()


def compiled() -> list[str]:
    """Locales with a compiled catalog on disk, sorted."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.mo"))


def parse(code: str) -> Locale | None:
    try:
        return Locale.parse(code.strip().replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None


def check_languages(wanted: Iterable[str], default: str, pseudo: bool) -> tuple[list[str], str]:
    """The offered locales and the default, from the configuration; ValueError names what
    is wrong (a code Babel does not know, or a language without a catalog)."""
    available = {DEFAULT, *(c for c in compiled() if c != PSEUDO)}
    codes = []
    for code in wanted:
        locale = parse(code)
        if locale is None:
            raise ValueError(f"{code!r} is not a language code Babel knows (e.g. en, de, fr)")
        name = str(locale)
        if name not in available:
            raise ValueError(
                f"{name} has no compiled catalog under reviews/translations "
                f"(have: {', '.join(sorted(available))}; run make translations)"
            )
        if name not in codes:
            codes.append(name)
    if not codes:
        codes = sorted(available, key=lambda c: (c != DEFAULT, c))
    default_locale = parse(default)
    if default_locale is None or str(default_locale) not in codes:
        raise ValueError(f"the default language {default!r} is not among {', '.join(codes)}")
    if pseudo:
        codes.append(PSEUDO)
    return codes, str(default_locale)


def offered() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def language_names() -> list[tuple[str, str]]:
    """(code, the language's name in itself) of each offered locale."""
    names = []
    for code in offered():
        locale = Locale.parse(code)
        # each language by its own name; the pseudo-locale's, in itself too
        name = PSEUDO_NAME if code == PSEUDO else (locale.display_name or code)
        names.append((code, name[:1].upper() + name[1:]))
    return names


# The formats English pages keep: the product writes "28 Nov 2026" and 14:05, as
# British English does (Babel's "en" is American: "Nov 28, 2026").
FORMATS = {DEFAULT: "en_GB"}


def formatting_locale() -> Locale:
    """The locale Babel formats dates and numbers in for this request (or job)."""
    # outside any app (a unit test of a formatter) get_locale() has nothing to read
    locale = str(get_locale() or DEFAULT)
    return Locale.parse(FORMATS.get(locale, locale))


_SCRIPT_MESSAGES: dict[str, dict[str, str]] = {}


def script_messages() -> dict[str, str]:
    """The texts static/app.js shows, in the page's language (base.html puts them in a
    <meta> the script reads); made once per language."""
    locale = str(get_locale())
    if locale not in _SCRIPT_MESSAGES:
        _SCRIPT_MESSAGES[locale] = _script_messages()
    return _SCRIPT_MESSAGES[locale]


def _script_messages() -> dict[str, str]:
    return {
        "draft_saved": gettext("Draft saved at %(time)s", time="%(time)s"),
        "not_saved_yet": gettext("Not saved yet: %(problem)s", problem="%(problem)s"),
        "not_saved": gettext("Not saved: %(problem)s", problem="%(problem)s"),
        "connection_failed": gettext(
            "Not saved: the connection failed. Your text is still here; try again."
        ),
        "unsaved": gettext("Unsaved changes…"),
        "add_person": gettext("Add a person to the list"),
        "matching_people": gettext("Matching people"),
        "one_matches": gettext("1 person matches; use the arrow keys to choose."),
        "many_match": gettext(
            "%(count)s people match; use the arrow keys to choose.", count="%(count)s"
        ),
        "nobody_matches": gettext("Nobody matches."),
        "rated_of": gettext("%(rated)s of %(total)s", rated="%(rated)s", total="%(total)s"),
        # a quotation inside a sentence, in the language's quotation marks
        "quoted": gettext("“%(text)s”", text="%(text)s"),
    }


def name_of(code: str) -> str:
    return dict(language_names()).get(code, code)


def browser_locale() -> str:
    """The offered locale the browser's Accept-Language asks for, else the default."""
    codes = offered()
    best = request.accept_languages.best_match([c.replace("_", "-") for c in codes] + codes)
    return best.replace("-", "_") if best else str(current_app.config["LANGUAGE"])


def refresh() -> None:
    """Choose the request's locale again (after the person changed theirs)."""
    flask_babel.refresh()


def person_locale(person: Any) -> str:
    """The locale a message or document for `person` is written in: their choice when it
    is still offered, else the deployment's default (not the sender's)."""
    return person_locale_of(getattr(person, "locale", None))


def person_locale_of(choice: str | None) -> str:
    """`person_locale` from the stored choice alone (`Person.locale`)."""
    if choice and choice in offered():
        return str(choice)
    return str(current_app.config["LANGUAGE"])


def select_locale() -> str:
    from flask_login import current_user

    if not has_request_context():
        return str(current_app.config["LANGUAGE"])
    choice = getattr(current_user, "locale", None)
    if choice and choice in offered():
        return str(choice)
    return browser_locale()


def page_language() -> dict[str, str]:
    """`lang` and `dir` for the page's <html>, and the locale its dates are formatted in
    (for app.js)."""
    locale = get_locale()
    return {
        "page_lang": str(locale).replace("_", "-"),
        "page_dir": locale.text_direction,
        "format_locale": str(formatting_locale()).replace("_", "-"),
    }


def number(value: Any, pattern: str = "#,##0.###") -> str:
    """A number as the reader's locale writes it, to a Babel pattern: "0.0" one decimal
    (3.5 / 3,5), "+0.00;-0.00" a signed one, "0" a whole number. The `num` filter."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, format=pattern, locale=formatting_locale()))


def percent(share: Any) -> str:
    """A share (0.91) as the reader's locale writes a percentage: "91%", "91 %", "91 %".
    The `percent` filter."""
    from babel.numbers import format_percent

    return str(format_percent(share, locale=formatting_locale()))


# languages that write nouns with a capital inside a sentence too
CAPITALISED_NOUNS = {"de", "lb"}


def in_sentence(label: Any) -> str:
    """A label ("Self-review", "Selbsteinschätzung") as it reads inside a sentence: its
    first letter lowered, unless the language capitalises nouns (German)."""
    text = str(label)
    locale = get_locale()
    if locale is not None and locale.language in CAPITALISED_NOUNS:
        return text
    if text[1:2].isupper():  # an acronym ("HR review") keeps its capitals
        return text
    return text[:1].lower() + text[1:]


def init_app(app: Any) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config["LANGUAGE"]
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(page_language)
    app.add_template_global(language_names)
    app.add_template_global(offered)
    app.add_template_global(script_messages)
    app.add_template_filter(in_sentence)
    app.add_template_filter(number, "num")
    app.add_template_filter(percent)
