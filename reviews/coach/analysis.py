"""The feedback coach: findings on one piece of written feedback, offline and explained.

Pure: a compiled lexicon (``reviews/coach/<language>.json``) and a text in,
findings out.  Each finding names its span, a category, why it matters and
what to write instead; the word lists name the research they come from.
Advice only: nothing here ever blocks a submission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

CATEGORIES = {
    "vague": "Vague",
    "personality": "Personality, not behaviour",
    "gendered": "Gender-coded",
    "age": "Age-coded",
    "absolute": "Absolute",
    "hedging": "Hedging",
    "mismatch": "Rating and text disagree",
    "too_short": "Too short for the rating",
}
SHORT_WORDS = 12  # an extreme rating needs more than this to explain it
WORD = re.compile(r"[a-z][a-z'-]*")


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    category: str
    explanation: str
    suggestion: str
    source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "label": CATEGORIES[self.category],
            "explanation": self.explanation,
            "suggestion": self.suggestion,
            "source": self.source,
        }


@dataclass(frozen=True)
class Lexicon:
    terms: dict[str, dict[str, Any]]
    pattern: re.Pattern[str]
    exceptions: re.Pattern[str] | None
    evidence: re.Pattern[str]
    positive: frozenset[str]
    negative: frozenset[str]
    negators: frozenset[str]
    sources: dict[str, str]


def _alternation(phrases: list[str]) -> str:
    # Longest first, so that "keep up the good work" wins over "good work".
    escaped = [re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True)]
    return r"(?<![\w-])(?:" + "|".join(escaped) + r")(?![\w-])"


def compile_lexicon(data: dict[str, Any]) -> Lexicon:
    terms = {t["term"].lower(): t for t in data["terms"]}
    exceptions = [e.lower() for t in data["terms"] for e in t.get("except", [])]
    sentiment = data["sentiment"]
    return Lexicon(
        terms=terms,
        pattern=re.compile(_alternation(list(terms)), re.IGNORECASE),
        exceptions=re.compile(_alternation(exceptions), re.IGNORECASE) if exceptions else None,
        evidence=re.compile(_alternation(data["evidence_markers"]) + r"|\d", re.IGNORECASE),
        positive=frozenset(sentiment["positive"]),
        negative=frozenset(sentiment["negative"]),
        negators=frozenset(sentiment["negators"]),
        sources=data.get("sources", {}),
    )


@cache
def lexicon(language: str = "en") -> Lexicon:
    text = resources.files("reviews.coach").joinpath(f"{language}.json").read_text("utf-8")
    return compile_lexicon(json.loads(text))


def has_evidence(text: str, lex: Lexicon | None = None) -> bool:
    """Whether the text names a time, an example, an event or an effect."""
    return bool((lex or lexicon()).evidence.search(text))


PERSONAL = ("personality", "gendered", "age")


def text_quality(texts: Iterable[str]) -> tuple[int, int, int]:
    """(non-empty texts, texts naming evidence, personality-type words) of a part's
    written texts: the figures calibration shows per manager."""
    lex = lexicon()
    written = [t for t in texts if t and t.strip()]
    evidence = sum(1 for t in written if has_evidence(t, lex))
    personal = sum(1 for t in written for f in analyse(t) if f.category in PERSONAL)
    return len(written), evidence, personal


def sentiment(text: str, lex: Lexicon) -> tuple[int, int]:
    """(positive, negative) word counts; a negator flips the next word ("not clear")."""
    positive = negative = 0
    flip = False
    for word in WORD.findall(text.lower()):
        if word in lex.negators:
            flip = True
            continue
        if word in lex.positive:
            negative, positive = (negative + 1, positive) if flip else (negative, positive + 1)
        elif word in lex.negative:
            positive, negative = (positive + 1, negative) if flip else (positive, negative + 1)
        flip = False
    return positive, negative


def analyse(text: str, rating: int | None = None, language: str = "en") -> list[Finding]:
    lex = lexicon(language)
    text = text or ""
    findings: list[Finding] = []
    excluded = [m.span() for m in lex.exceptions.finditer(text)] if lex.exceptions else []
    evidence = has_evidence(text, lex)
    for match in lex.pattern.finditer(text):
        start, end = match.span()
        if any(a <= start and end <= b for a, b in excluded):
            continue
        term = lex.terms[re.sub(r"\s+", " ", match.group(0).lower())]
        if term["category"] == "vague" and evidence:
            continue  # generic words are fine next to a concrete example
        findings.append(
            Finding(
                start,
                end,
                term["category"],
                term["explanation"],
                term["suggestion"],
                lex.sources.get(term.get("source", "")),
            )
        )
    words = len(WORD.findall(text.lower()))
    if rating in (1, 5) and words < SHORT_WORDS:
        findings.append(
            Finding(
                0,
                len(text),
                "too_short",
                f"A rating of {rating} is the edge of the scale; {words} word"
                f"{'s' if words != 1 else ''} cannot explain it.",
                "Give the situation, what the person did and its effect, with an example.",
            )
        )
    if rating is not None and words:
        positive, negative = sentiment(text, lex)
        if rating >= 4 and negative and not positive:
            findings.append(
                Finding(
                    0,
                    len(text),
                    "mismatch",
                    f"The rating is {rating} but the text names only problems.",
                    "Either explain what earned the high rating or revisit it.",
                )
            )
        elif rating <= 2 and positive and not negative:
            findings.append(
                Finding(
                    0,
                    len(text),
                    "mismatch",
                    f"The rating is {rating} but the text is only praise.",
                    "Name what fell short, or revisit the rating.",
                )
            )
    findings.sort(key=lambda f: (f.start, f.end))
    return findings
