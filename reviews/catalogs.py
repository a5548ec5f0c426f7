"""The message catalogs: extracting the template, the pseudo-locale's catalog, and what
keeps a language's catalog from being complete.

    python -m reviews.catalogs extract   # reviews/translations/messages.pot
    python -m reviews.catalogs pseudo    # reviews/translations/en_Dsrt/LC_MESSAGES/messages.mo

(`make translations` runs both and carries the template into every language.)

The pseudo-locale: every message becomes ⟦accented and 40% longer⟧, with no ASCII
letter left, so a page read in it shows at a glance which text was never marked
for translation (plain English) and which layouts break when a translation runs
longer than English, as German and French do. Placeholders (`%(name)s`, `%d`,
`%%`), HTML tags and entities are kept exactly, so the catalog formats like the
English one. Written straight to the compiled catalog; nothing to commit.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from reviews.languages import PSEUDO, TRANSLATIONS

OPEN, CLOSE = "⟦", "⟧"
# what must come through unchanged: placeholders, tags, entities
KEEP = re.compile(r"%\([^)]+\)[a-z]|%[a-z%]|<[^>]*>|&[#\w]+;")
# every ASCII letter has a stand-in, so a pseudo-translated text holds none: plain
# English left on a page is text that was never marked
PLAIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ACCENTS = "ÅƁÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽåƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýž"
ACCENTED = str.maketrans(PLAIN, ACCENTS)


def pseudo(text: str) -> str:
    if not text:
        return text
    out, at, letters = [], 0, 0
    for kept in KEEP.finditer(text):
        plain = text[at : kept.start()]
        out += [plain.translate(ACCENTED), kept.group()]
        letters += len(plain)
        at = kept.end()
    plain = text[at:]
    out.append(plain.translate(ACCENTED))
    letters += len(plain)
    # 40% longer, in words a line can break between, as a translation's would
    padding = "~" * math.ceil(letters * 0.4)
    words = " ".join(padding[i : i + 6] for i in range(0, len(padding), 6))
    return f"{OPEN}{''.join(out)} {words}{CLOSE}"


def build(template: Path = TRANSLATIONS / "messages.pot") -> Path:
    with template.open("rb") as f:
        source = read_po(f)
    catalog = Catalog(locale="en", domain="messages", fuzzy=False)
    for message in source:
        if not message.id:
            continue
        string: str | tuple[str, ...] = (
            tuple(pseudo(part) for part in message.id)
            if isinstance(message.id, tuple | list)
            else pseudo(message.id)
        )
        catalog.add(message.id, string, context=message.context)
    target = TRANSLATIONS / PSEUDO / "LC_MESSAGES" / "messages.mo"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as f:
        write_mo(f, catalog)
    return target


ROOT = TRANSLATIONS.parent.parent
# what `pybabel extract` reads (babel.cfg says which files are Python and which Jinja);
# folders starting with "_" (templates/_macros) are read too, hidden ones are not
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "lazy_gettext",
    "-k",
    "lazy_ngettext:1,2",
    "--ignore-dirs=.*",
    "--add-location=file",
    "--sort-output",
    "--project",
    "Reviews",
    "--copyright-holder",
    "Reviews",
]


def extract(output: Path = TRANSLATIONS / "messages.pot") -> Path:
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(  # noqa: S603  # the venv's own pybabel, fixed arguments
        [str(pybabel), "-q", *EXTRACT, "-o", str(output), "reviews", "templates"],
        cwd=ROOT,
        check=True,
    )
    return output


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """What keeps `catalog` from being complete against the extracted `template`:
    messages it lacks, leaves untranslated (in any plural form) or marks fuzzy."""
    found = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, context=message.context)
        strings = translated.string if translated is not None else None
        empty = not all(strings) if isinstance(strings, tuple | list) else not strings
        if translated is None or empty:
            found.append(f"untranslated: {message.id!r}")
        elif translated.fuzzy:
            found.append(f"fuzzy: {message.id!r}")
    return found


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "extract":
        print(extract().relative_to(ROOT))
    elif command == "pseudo":
        print(build().relative_to(ROOT))
    else:
        sys.exit("usage: python -m reviews.catalogs extract|pseudo")
