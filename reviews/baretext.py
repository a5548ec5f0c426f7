"""Text a person reads that a template writes outside a translation call.

`bare_text(source)` lists (line, text) for every run of words in a template's HTML,
and every readable attribute (title, aria-label, placeholder, alt, a button's value,
a label, a meta description), written as it is rather than through `_()`,
`gettext`, `ngettext` or a `{% trans %}` block. Jinja's own constructs are taken
out first (an expression or a tag becomes a mark that is not a word), so a
sentence built around `{{ person.name }}` still counts as text. Names that are not
translated (the product's, file formats, protocols) are allowed.

`python -m reviews.baretext [FILE ...]` prints what it finds (every template
unless files are named) and exits 1 if it finds anything; tests/test_translations.py
runs it over every template.
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
MARK = "\x00"  # stands for a Jinja expression or tag
WORD = re.compile(r"[^\W\d_]{2,}")
# read by people, so translated; `value` only on buttons (below)
READABLE = {"title", "aria-label", "placeholder", "alt", "label", "aria-description"}
# elements whose content is not prose: scripts, styles, code and code samples
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp"}
# never translated: the product's name, formats, protocols and standards
UNTRANSLATED = {
    "Reviews",
    "CSV",
    "XLSX",
    "PDF",
    "ZIP",
    "JSON",
    "API",
    "OpenAPI",
    "SCIM",
    "SAML",
    "OpenID",
    "OIDC",
    "SSO",
    "URL",
    "ID",
    "IdP",
    "UTC",
    "ISO",
    "Slack",
    "Microsoft",
    "Teams",
    "HTTP",
    "HTTPS",
    "Bearer",
    "curl",
}


def _flatten(source: str, env: Environment) -> list[tuple[int, str]]:
    """The template as (line, text) pieces with every Jinja construct replaced by MARK
    and the insides of trans blocks dropped (they are translated)."""
    pieces: list[tuple[int, str]] = []
    depth = 0  # inside {% trans %} ... {% endtrans %}
    in_block = False
    block_words: list[str] = []
    for line, kind, value in env.lex(source):
        if kind == "block_begin":
            in_block, block_words = True, []
            continue
        if kind == "block_end":
            in_block = False
            head = block_words[0] if block_words else ""
            if head == "trans":
                depth += 1
            elif head == "endtrans":
                depth -= 1
            if not depth:
                pieces.append((line, MARK))
            continue
        if in_block:
            if kind == "name":
                block_words.append(value)
            continue
        if kind == "data":
            if not depth:
                pieces.append((line, value))
        elif kind in ("variable_begin",) and not depth:
            pieces.append((line, MARK))
    return pieces


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skip = 0  # inside one of SKIPPED

    def _text(self, text: str) -> None:
        words = [w for w in WORD.findall(text.replace(MARK, " ")) if w not in UNTRANSLATED]
        if words:
            self.found.append((self.getpos()[0], " ".join(text.replace(MARK, "…").split())))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skip += 1
        kind = dict(attrs).get("type")
        for name, value in attrs:
            if not value:
                continue
            readable = name in READABLE or (
                name == "value" and tag == "input" and kind in ("submit", "button", "reset")
            )
            if tag == "meta" and name == "content":
                readable = dict(attrs).get("name") == "description"
            if readable:
                self._text(value)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self._text(data)


# Jinja's lexer, with the i18n extension's tags (lexing only: nothing is rendered)
LEXER = Environment(extensions=["jinja2.ext.i18n"])  # noqa: S701


def bare_text(source: str) -> list[tuple[int, str]]:
    pieces = _flatten(source, LEXER)
    text, at = "", 1
    for line, piece in pieces:  # padded so that the parser's lines are the template's
        if line > at:
            text += "\n" * (line - at)
            at = line
        text += piece
        at += piece.count("\n")
    finder = _Finder()
    finder.feed(text)
    finder.close()
    return finder.found


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted(TEMPLATES.rglob("*.html"))
    found = 0
    for path in files:
        for line, text in bare_text(path.read_text()):
            found += 1
            print(f"{path.relative_to(ROOT) if path.is_absolute() else path}:{line}: {text}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
