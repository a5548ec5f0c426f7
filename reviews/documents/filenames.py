"""The names of downloaded files: one rule for every export.

A file is named after what it holds (`zoe-angstrom-2026-h1-review.pdf`), in
lower case ASCII words joined by hyphens, so it reads the same in a browser's
download bar, a mail attachment and a shell. `Content-Disposition` carries the
ASCII name and, for programs that read it, the same name in UTF-8 (RFC 6266).
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote


def slug(*words: str) -> str:
    """ "Zoë Ångström", "2026 H1" -> "zoe-angstrom-2026-h1" (accents dropped, other
    scripts' letters kept out; never empty)."""
    text = " ".join(words)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = "".join(c if c.isalnum() else " " for c in ascii_text.lower())
    return "-".join(cleaned.split()) or "export"


def filename(*words: str, ext: str) -> str:
    return f"{slug(*words)}.{ext}"


def disposition(name: str, *, inline: bool = False) -> dict[str, str]:
    """The header that names a download (`name` is already a slug: ASCII, no quotes)."""
    kind = "inline" if inline else "attachment"
    return {"Content-Disposition": f"{kind}; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"}
