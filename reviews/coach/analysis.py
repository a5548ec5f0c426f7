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
    lexicon,
    phrase_at,
    read,
)

__all__ = ["CATEGORIES", "Finding", "analyse", "has_evidence", "lexicon", "text_quality"]

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
NEGATION_REACH = 4  # words a negator flips
RESOLUTION_REACH = 12  # words after "fixed", "removed", ... (in the clause) count as solved
ANY_ORDER_SLACK = 3  # extra words allowed between the words of an any-order phrase

# words between two descriptors of one list ("kind and unfailingly polite")
INTENSIFIERS = frozenset(
    ("very", "really", "so", "too", "quite", "extremely", "overly", "rather", "pretty", "truly")
)


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
            or (prev is not None and prev.kind == "word" and prev.low in ("q", "h", "week", "day"))
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
        if t.kind == "word" and t.low == "to" and j + 1 < len(tokens):
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


def has_evidence(text: str, lex: Lexicon | None = None) -> bool:
    """Whether the text gives a concrete example: an artefact, a specific time, or a
    quantified effect."""
    lex = lex or lexicon()
    return bool(_sentence_evidence(read(text, lex), lex))


PERSONAL = ("personality", "gendered", "age")


def text_quality(texts: Iterable[str]) -> tuple[int, int, int]:
    """(non-empty texts, texts giving a concrete example, personality-type findings) of
    a part's written texts: the figures calibration shows per manager."""
    lex = lexicon()
    written = [t for t in texts if t and t.strip()]
    evidence = sum(1 for t in written if has_evidence(t, lex))
    personal = sum(1 for t in written for f in analyse(t) if f.category in PERSONAL)
    return len(written), evidence, personal


# Descriptors of the person --------------------------------------------------------------


def _describes_person(tokens: Sequence[Token], i: int, j: int, term: Term, lex: Lexicon) -> bool:
    """Whether the descriptor at tokens i..j describes a person rather than an action
    or a thing."""
    first = tokens[i]
    if first.low.endswith("ly") and not term.keys[-1].endswith("ly"):
        return False  # an adverb: it describes how something was done
    sentence = first.sentence
    k = j + 1
    # past a list of descriptors ("warm and nurturing", "affectionate, cheerful colleague")
    while (
        k < len(tokens)
        and tokens[k].sentence == sentence
        and (
            tokens[k].low in ("and", "or", ",")
            or tokens[k].low in lex.descriptor_words
            or tokens[k].low in INTENSIFIERS
            or _adverb(tokens[k])
        )
    ):
        k += 1
    while k - 1 > j and (tokens[k - 1].low in ("and", "or", ",") or _adverb(tokens[k - 1])):
        k -= 1  # "self-reliant and rarely asks": the list ended before "and"
    after = tokens[k] if k < len(tokens) and tokens[k].sentence == sentence else None
    if (
        after is not None
        and after.kind == "word"
        and after.low not in lex.function_words
        and (k == j + 1 or tokens[k - 1].low in lex.descriptor_words)
    ):
        # attributive: "a warm presence" is about a person, "aggressive caching" is not
        return after.low in lex.person_nouns
    # walk back over intensifiers and other descriptors to a copula or the clause start
    k = i - 1
    while k >= 0 and tokens[k].sentence == sentence and tokens[k].kind == "word":
        low = tokens[k].low
        if low in lex.copulas or (low == "as" and k and tokens[k - 1].low in lex.as_copula_after):
            return _person_subject(tokens, k, lex)
        if low == "as" and k >= 2 and tokens[k - 2].low in lex.regard_verbs:
            # "described them as warm", "sees Ana as stubborn"
            return tokens[k - 1].stem == PRONOUN or tokens[k - 1].capital
        if low not in lex.skippable and low not in lex.descriptor_words and not _adverb(tokens[k]):
            return False
        k -= 1
    return True  # opens a sentence or clause: the subject is left out ("Too aggressive ...")


def _adverb(token: Token) -> bool:
    return token.kind == "word" and len(token.low) > 4 and token.low.endswith("ly")


def _person_subject(tokens: Sequence[Token], k: int, lex: Lexicon) -> bool:
    """Whether the copula at k has a person (or nobody named) as its subject."""
    sentence = tokens[k].sentence
    m = k - 1
    while m >= 0 and tokens[m].sentence == sentence and tokens[m].kind == "word":
        t = tokens[m]
        if (
            t.low in lex.skippable
            or t.low in lex.as_copula_after
            or t.stem in ("come", "came")
            or _adverb(t)
        ):
            m -= 1
            continue
        return (
            t.stem == PRONOUN
            or t.low in ("i", "we", "who", "one", "everyone", "someone", "anyone")
            or t.low in lex.person_nouns
            or (t.capital and t.low not in lex.function_words)  # a name
        )
    return True  # no subject written: "Can be irrational about deadlines"


# Rating and text ------------------------------------------------------------------------


def sentiment(tokens: Sequence[Token], lex: Lexicon) -> tuple[int, int]:
    """(praise, problems) in the text. A negator flips the next few words up to the end of
    the clause ("not a single missed deadline"); a problem that was fixed, removed or
    turned around counts as praise."""
    positive = negative = 0
    flip_until = resolve_until = -1
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.kind in ("stop", "pause") or t.low in lex.scope_breakers:
            flip_until = resolve_until = -1
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
            flip_until = i + NEGATION_REACH
            i += 1
            continue
        if (seq := phrase_at(tokens, i, lex.resolvers, exact=True)) is not None:
            resolve_until = i + len(seq) + RESOLUTION_REACH - 1
            i += len(seq)
            continue
        flipped = i <= flip_until
        if (seq := phrase_at(tokens, i, lex.negative)) is not None:
            if i <= resolve_until or flipped:
                positive += 1
            else:
                negative += 1
            i += len(seq)
            continue
        if (seq := phrase_at(tokens, i, lex.positive)) is not None:
            if flipped:
                negative += 1
            else:
                positive += 1
            i += len(seq)
            continue
        i += 1
    return positive, negative


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
    # phrases whose words may come in any order ("communication needs improvement")
    for term in lex.any_order:
        wanted = set(term.keys)
        positions: dict[str, list[int]] = {}
        for i, t in enumerate(tokens):
            if t.kind == "word" and t.stem in wanted and i not in taken:
                positions.setdefault(t.stem, []).append(i)
        if len(positions) < len(wanted):
            continue
        for i in positions[term.keys[0]]:
            sentence = tokens[i].sentence
            near = [[p for p in positions[k] if tokens[p].sentence == sentence] for k in term.keys]
            if not all(near):
                continue
            picked = [min(ps, key=lambda p, i=i: abs(p - i)) for ps in near]
            lo, hi = min(picked), max(picked)
            if hi - lo + 1 <= len(term.keys) + ANY_ORDER_SLACK and not taken & set(
                range(lo, hi + 1)
            ):
                found.append((lo, hi, term))
                taken.update(range(lo, hi + 1))
    return found


def _excepted(tokens: Sequence[Token], i: int, j: int, lex: Lexicon) -> bool:
    for seq in lex.exceptions:
        for start in range(max(0, j - len(seq) + 1), i + 1):
            if start + len(seq) - 1 >= j and at(tokens, start, seq):
                return True
    return False


def analyse(text: str, rating: int | None = None, language: str = "en") -> list[Finding]:
    lex = lexicon(language)
    text = text or ""
    tokens = read(text, lex)
    findings: list[Finding] = []
    examples: set[int] | None = None
    for i, j, term in _matches(tokens, lex):
        if term.frame == "person" and (
            _excepted(tokens, i, j, lex) or not _describes_person(tokens, i, j, term, lex)
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
                f"A rating of {rating} is the edge of the scale; {words} word"
                f"{'s' if words != 1 else ''} cannot explain it.",
                "Give the situation, what the person did and its effect, with an example.",
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
