"""The feedback coach: findings on one piece of written feedback, offline and explained.

Pure: a compiled lexicon (``reviews/coach/<language>.json``) and a text in,
findings out.  Each finding names its span, a category, why it matters, what
to write instead and the research it comes from.  Advice only: nothing here
ever blocks a submission.

The text is read as words, not strings: it is split into sentences, clauses
and tokens (contractions opened, hyphens and joined spellings both accepted),
each token reduced to its Snowball stem and every pronoun to one placeholder,
so "set in his ways" matches "set in their ways" and "old-school" matches "old
school".  On top of that:

* **Descriptors of the person** (the personality, gender-coded and age-coded
  words of frame "person") count only where they describe someone: after a
  copula with a person as subject ("she is very emotional", "comes across as
  dominant"), before a person noun ("a warm presence"), or opening a clause
  with the subject left out ("Too aggressive in code reviews").  An action or a
  thing is left alone: "she led the migration", "aggressive caching", "her
  emotional intelligence", "pushed back aggressively".
* **Vague praise or criticism** is flagged unless its sentence (or the next)
  gives a concrete example: an artefact (a migration, an RFC, an incident), a
  specific time (a month, a weekday, Q3, last sprint) or a quantified effect
  (a number with a unit, "from 40 to 9", "halved").  Incidental words ("when",
  "may", "helped") or a bare digit are not an example.
* **Rating and text disagree** counts praise and problems with negation scope
  ("not a single missed deadline" is praise) and resolution ("fixed the paging
  problem", "turned around the failing service" are praise too).

Each text is read with the lexicon of its own language (`language_of`: English or
German, by the function words it uses; the writer's language when that does not
decide).  German needs more grammar than English, switched on by its lexicon:
single words are matched on stems (emotional, emotionale, emotionalen); the copula
may come before the subject ("In Meetings ist sie oft aggressiv") or after the
descriptor ("kann sie ziemlich stur sein"); a capitalised word after an article,
a possessive or an adjective is a noun, not a name ("Die Ziele waren ehrgeizig");
a compound is read by its last part ("Kundeneskalation" is an escalation); and
a problem fixed at the end of the clause counts as praise ("hat die instabilen
Tests behoben").  The findings' texts come from the lexicon; the labels and the
rating messages are translated for the reader (outside a request: English).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reviews.coach.lexicon import (
    PRONOUN,
    Lexicon,
    Term,
    Token,
    at,
    language_of,
    lexicon,
    phrase_at,
    read,
)
from reviews.coach.person import describes_person
from reviews.languages import gettext, lazy_gettext, ngettext

__all__ = [
    "CATEGORIES",
    "Finding",
    "analyse",
    "has_evidence",
    "language_of",
    "lexicon",
    "text_quality",
]

CATEGORIES = {
    "vague": lazy_gettext("Vague"),
    "personality": lazy_gettext("Personality, not behaviour"),
    "gendered": lazy_gettext("Gender-coded"),
    "age": lazy_gettext("Age-coded"),
    "absolute": lazy_gettext("Absolute"),
    "hedging": lazy_gettext("Hedging"),
    "mismatch": lazy_gettext("Rating and text disagree"),
    "too_short": lazy_gettext("Too short for the rating"),
}
SHORT_WORDS = 12  # an extreme rating needs more than this to explain it
RESOLUTION_REACH = 12  # words after "fixed", "removed", ... (in the clause) count as solved


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
            "label": str(CATEGORIES[self.category]),
            "explanation": self.explanation,
            "suggestion": self.suggestion,
            "source": self.source,
        }


# Concrete examples ---------------------------------------------------------------------


def _sentence_evidence(tokens: Sequence[Token], lex: Lexicon) -> set[int]:
    """Sentences that give a concrete example: an artefact, a specific time, or a
    quantified effect."""
    found: set[int] = set()
    for i, t in enumerate(tokens):
        if t.sentence not in found and _exampleat(tokens, i, lex):
            found.add(t.sentence)
    return found


def _exampleat(tokens: Sequence[Token], i: int, lex: Lexicon) -> bool:
    t = tokens[i]
    n = len(tokens)
    nxt = tokens[i + 1] if i + 1 < n and tokens[i + 1].sentence == t.sentence else None
    prev = tokens[i - 1] if i and tokens[i - 1].sentence == t.sentence else None
    if t.kind == "pct":
        return prev is not None and prev.kind == "num"  # 30%
    if t.kind == "num":
        value = t.low.replace(",", "")
        return (
            (nxt is not None and _quantity_follows(tokens, i, lex))  # 9 minutes, 40 to 9
            or (value.isdigit() and len(value) == 4 and value[:2] in ("19", "20"))  # a year
            or (prev is not None and prev.kind == "word" and prev.low in lex.number_labels)
            or (nxt is not None and nxt.low in lex.months)  # 3 May
        )
    if t.kind != "word":
        return False
    return (
        (t.low in lex.number_words and _quantity_follows(tokens, i, lex))  # two weeks
        or t.low in lex.months
        or t.low in lex.days
        or t.low in lex.change_words
        or (t.low == "may" and _is_the_month(tokens, i))
        or phrase_at(tokens, i, lex.artefacts) is not None
        or phrase_at(tokens, i, lex.markers) is not None
        or (bool(lex.artefact_heads) and t.stem.endswith(lex.artefact_heads))  # Kundeneskalation
    )


def _quantity_follows(tokens: Sequence[Token], i: int, lex: Lexicon) -> bool:
    """A number (token i) followed by a unit, at most one word between ("four extra
    shifts"), or by "%"; or "from N to M"."""
    sentence = tokens[i].sentence
    for j in (i + 1, i + 2):
        if j >= len(tokens) or tokens[j].sentence != sentence:
            return False
        t = tokens[j]
        if t.kind == "pct" or (t.kind == "word" and t.stem in lex.units):
            return True
        if t.kind == "word" and t.low in lex.range_words and j + 1 < len(tokens):
            return tokens[j + 1].kind == "num" or tokens[j + 1].low in lex.number_words
        if t.kind != "word" or t.low in lex.function_words:
            return False
    return False


def _is_the_month(tokens: Sequence[Token], i: int) -> bool:
    t = tokens[i]
    before = tokens[i - 1] if i and tokens[i - 1].sentence == t.sentence else None
    after = tokens[i + 1] if i + 1 < len(tokens) and tokens[i + 1].sentence == t.sentence else None
    if before is not None and before.low in (
        "in",
        "on",
        "since",
        "by",
        "until",
        "of",
        "early",
        "mid",
    ):
        return True
    if before is not None and before.kind == "num":
        return True
    return after is not None and after.kind == "num" and t.capital


def has_evidence(text: str, lex: Lexicon | None = None, language: str | None = None) -> bool:
    """Whether the text gives a concrete example: an artefact, a specific time, or a
    quantified effect (read in its own language unless a lexicon is given)."""
    lex = lex or lexicon(language_of(text, language))
    return bool(_sentence_evidence(read(text, lex), lex))


PERSONAL = ("personality", "gendered", "age")


def text_quality(texts: Iterable[str], language: str | None = None) -> tuple[int, int, int]:
    """(non-empty texts, texts giving a concrete example, personality-type findings) of
    a part's written texts: the figures calibration shows per manager.  Each text is
    read in its own language (`language`, the writer's, only decides the undecidable)."""
    written = [t for t in texts if t and t.strip()]
    evidence = personal = 0
    for text in written:
        lex = lexicon(language_of(text, language))
        evidence += has_evidence(text, lex)
        personal += sum(1 for f in _findings(text, lex) if f.category in PERSONAL)
    return len(written), evidence, personal


# Rating and text ------------------------------------------------------------------------


def sentiment(tokens: Sequence[Token], lex: Lexicon) -> tuple[int, int]:
    """(praise, problems) in the text. A negator flips the next few words up to the end of
    the clause ("not a single missed deadline"); a problem that was fixed, removed or
    turned around counts as praise."""
    positive = negative = 0
    flip_until = resolve_until = -1
    unresolved = 0  # problems so far in the clause (German fixes them at its end)
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind in ("stop", "pause") or t.low in lex.scope_breakers:
            flip_until = resolve_until = -1
            unresolved = 0
            i += 1
            continue
        if t.kind != "word":
            i += 1
            continue
        if t.low in lex.negators:
            after = tokens[i + 1] if i + 1 < len(tokens) else None
            if (
                t.low in lex.absence
                and after is not None
                and after.kind == "word"
                and after.low not in lex.function_words
                and phrase_at(tokens, i + 1, lex.negative) is None
                and phrase_at(tokens, i + 1, lex.positive) is None
            ):
                negative += 1  # something missing: "no tests", "without a rollback plan"
                i += 2
                continue
            flip_until = i + lex.negation_reach
            i += 1
            continue
        if (seq := phrase_at(tokens, i, lex.resolvers, exact=True)) is not None:
            resolve_until = i + len(seq) + RESOLUTION_REACH - 1
            if lex.resolve_backwards:  # "hat die instabilen Tests behoben"
                positive += unresolved
                negative -= unresolved
                unresolved = 0
            i += len(seq)
            continue
        flipped = i <= flip_until
        if (seq := _sentiment_at(tokens, i, lex.negative, lex.negative_heads)) is not None:
            if i <= resolve_until or flipped:
                positive += 1
            else:
                negative += 1
                unresolved += 1
            i += len(seq)
            continue
        if (seq := _sentiment_at(tokens, i, lex.positive, lex.positive_heads)) is not None:
            if flipped:
                negative += 1
            else:
                positive += 1
            i += len(seq)
            continue
        i += 1
    return positive, negative


def _sentiment_at(
    tokens: Sequence[Token], i: int, index: dict[str, list[tuple[str, ...]]], heads: tuple[str, ...]
) -> tuple[str, ...] | None:
    """A praise or problem phrase at token i, or a compound closing with one
    ("Speicherprobleme")."""
    seq = phrase_at(tokens, i, index)
    if seq is None and heads and tokens[i].stem.endswith(heads):
        return (tokens[i].stem,)
    return seq


# The analysis ---------------------------------------------------------------------------


def _matches(tokens: Sequence[Token], lex: Lexicon) -> list[tuple[int, int, Term]]:
    """Every lexicon term in the text as (first token, last token, term), longest first
    at each position, never overlapping."""
    found: list[tuple[int, int, Term]] = []
    taken: set[int] = set()
    for i, t in enumerate(tokens):
        if t.kind != "word" or i in taken:
            continue
        by_word, by_stem = lex.by_word.get(t.low), lex.by_stem.get(t.stem)
        if t.stem == PRONOUN:
            by_word = [*(by_word or ()), *lex.by_word.get(PRONOUN, ())]
        if not by_word and not by_stem:
            continue
        candidates = sorted(
            [*(by_word or ()), *(by_stem or ())], key=lambda term: len(term.keys), reverse=True
        )
        for term in candidates:
            if at(tokens, i, term.keys, term.exact):
                j = i + len(term.keys) - 1
                found.append((i, j, term))
                taken.update(range(i, j + 1))
                break
    # phrases whose words may come in any order ("communication needs improvement"); a
    # lone descriptor of the person may be part of one ("junges, dynamisches Team")
    soft = {i for i, j, term in found if i == j and term.frame == "person"}
    where: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        if t.kind == "word" and (i not in taken or i in soft):
            where.setdefault(t.stem, []).append(i)
    for term in lex.any_order:
        positions = {
            k: [p for p in where[k] if p not in taken or p in soft] for k in term.keys if k in where
        }
        if len(positions) < len(set(term.keys)) or not all(positions.values()):
            continue
        for i in positions[term.keys[0]]:
            sentence = tokens[i].sentence
            near = [[p for p in positions[k] if tokens[p].sentence == sentence] for k in term.keys]
            if not all(near):
                continue
            picked = [min(ps, key=lambda p, i=i: abs(p - i)) for ps in near]
            lo, hi = min(picked), max(picked)
            span = set(range(lo, hi + 1))
            if hi - lo + 1 <= len(term.keys) + lex.any_order_slack and not (taken - soft) & span:
                found = [f for f in found if f[0] not in span]
                soft -= span
                found.append((lo, hi, term))
                taken.update(span)
    return found


def _excepted(tokens: Sequence[Token], i: int, j: int, lex: Lexicon) -> bool:
    """Whether an exception ("emotional intelligence") covers tokens i..j."""
    for seq, offset in lex.exceptions.get(tokens[i].stem, ()):
        start = i - offset
        if start >= 0 and start + len(seq) - 1 >= j and at(tokens, start, seq):
            return True
    return False


def analyse(text: str, rating: int | None = None, language: str | None = None) -> list[Finding]:
    """Findings on one text, read in its own language; `language` (the writer's
    interface language, e.g. "de_DE") decides only when the text does not."""
    text = text or ""
    return _findings(text, lexicon(language_of(text, language)), rating)


def _findings(text: str, lex: Lexicon, rating: int | None = None) -> list[Finding]:
    tokens = read(text, lex)
    findings: list[Finding] = []
    examples: set[int] | None = None
    for i, j, term in _matches(tokens, lex):
        if _excepted(tokens, i, j, lex) or (
            term.frame == "person" and not describes_person(tokens, i, j, term, lex)
        ):
            continue
        if term.needs_example:
            if examples is None:
                examples = _sentence_evidence(tokens, lex)
            sentence = tokens[i].sentence
            if sentence in examples or sentence + 1 in examples:
                continue  # generic words are fine next to a concrete example
        findings.append(
            Finding(
                tokens[i].start,
                tokens[j].end,
                term.category,
                term.explanation,
                term.suggestion,
                term.source,
            )
        )
    words = sum(1 for t in tokens if t.kind in ("word", "num"))
    if rating in (1, 5) and words < SHORT_WORDS:
        findings.append(
            Finding(
                0,
                len(text),
                "too_short",
                ngettext(
                    "A rating of %(rating)s is the edge of the scale; %(num)d word cannot "
                    "explain it.",
                    "A rating of %(rating)s is the edge of the scale; %(num)d words cannot "
                    "explain it.",
                    words,
                    rating=rating,
                ),
                gettext("Give the situation, what the person did and its effect, with an example."),
            )
        )
    if rating is not None and words:
        positive, negative = sentiment(tokens, lex)
        if rating >= 4 and negative and not positive:
            findings.append(
                Finding(
                    0,
                    len(text),
                    "mismatch",
                    gettext(
                        "The rating is %(rating)s but the text names only problems.",
                        rating=rating,
                    ),
                    gettext("Either explain what earned the high rating or revisit it."),
                )
            )
        elif rating <= 2 and positive and not negative:
            findings.append(
                Finding(
                    0,
                    len(text),
                    "mismatch",
                    gettext("The rating is %(rating)s but the text is only praise.", rating=rating),
                    gettext("Name what fell short, or revisit the rating."),
                )
            )
    findings.sort(key=lambda f: (f.start, f.end))
    return findings
