"""Evidence that a competency rating cites: parsing the form, coverage, unsupported extremes.

Pure. A citation is {"kind": "feedback"|"goal"|"checkin", "id": n} or
{"kind": "link", "url": ..., "title": ...}; a part keeps them per competency
key.  The form posts ``evidence_<key>`` once per chosen item (value
``feedback:12``) and ``evidence_url_<key>`` / ``evidence_title_<key>`` for a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from reviews.languages import gettext

REF_KINDS = ("feedback", "goal", "checkin")
MAX_URL = 500
MAX_TITLE = 200
MAX_PER_COMPETENCY = 20
EXTREMES = (1, 5)

Citation = dict[str, Any]


class MultiDict(Protocol):
    def getlist(self, key: str) -> list[str]: ...

    def get(self, key: str, default: str | None = None) -> str | None: ...

    def __iter__(self) -> Any: ...


def ref(kind: str, item_id: int) -> str:
    return f"{kind}:{item_id}"


def citation_ref(citation: Mapping[str, Any]) -> str | None:
    kind = citation.get("kind")
    return ref(str(kind), int(citation["id"])) if kind in REF_KINDS else None


def parse_evidence(
    form: MultiDict, competency_keys: Sequence[str], allowed: set[str]
) -> tuple[dict[str, list[Citation]], dict[str, str]]:
    """Citations per competency from the posted form, and errors by field name.

    `allowed` holds the refs this writer may cite (what they can see from the
    cycle's period); anything else is refused, so nobody cites what they
    cannot read.
    """
    known = set(competency_keys)
    errors: dict[str, str] = {}
    for name in form:
        for prefix in ("evidence_url_", "evidence_title_", "evidence_"):
            if name.startswith(prefix):
                if name[len(prefix) :] not in known:
                    errors["form"] = gettext(
                        "unknown competency %(key)s in this cycle", key=repr(name[len(prefix) :])
                    )
                break
    evidence: dict[str, list[Citation]] = {}
    for key in competency_keys:
        cited: list[Citation] = []
        for value in dict.fromkeys(form.getlist(f"evidence_{key}")):
            if value not in allowed:
                errors[f"evidence_{key}"] = gettext("Cite only evidence listed here.")
                continue
            kind, _, item_id = value.partition(":")
            cited.append({"kind": kind, "id": int(item_id)})
        url = (form.get(f"evidence_url_{key}") or "").strip()
        title = (form.get(f"evidence_title_{key}") or "").strip()
        if url or title:
            parts = urlsplit(url)
            if not url:
                errors[f"evidence_url_{key}"] = gettext(
                    "Add the link's address, or clear its title."
                )
            elif len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc:
                errors[f"evidence_url_{key}"] = gettext(
                    "Give a web address starting with https:// (or http://)."
                )
            elif not title:
                errors[f"evidence_title_{key}"] = gettext("Give the link a title.")
            elif len(title) > MAX_TITLE:
                errors[f"evidence_title_{key}"] = gettext(
                    "Keep the title under %(max)d characters.", max=MAX_TITLE
                )
            else:
                cited.append({"kind": "link", "url": url, "title": title})
        if len(cited) > MAX_PER_COMPETENCY:
            errors[f"evidence_{key}"] = gettext(
                "Cite at most %(max)d items.", max=MAX_PER_COMPETENCY
            )
        if cited:
            evidence[key] = cited
    return evidence, errors


def coverage(
    competency_keys: Sequence[str], parts: Iterable[Mapping[str, Sequence[Citation]] | None]
) -> dict[str, int]:
    """How many citations back each competency across the given parts."""
    counts = dict.fromkeys(competency_keys, 0)
    for evidence in parts:
        for key, cited in (evidence or {}).items():
            if key in counts:
                counts[key] += len(cited)
    return counts


def unsupported_extremes(
    ratings: Mapping[str, int], parts: Iterable[Mapping[str, Sequence[Citation]] | None]
) -> list[str]:
    """Competencies rated 1 or 5 that no part cites any evidence for."""
    parts = list(parts)
    counts = coverage(list(ratings), parts)
    return [key for key, value in ratings.items() if value in EXTREMES and not counts.get(key)]
