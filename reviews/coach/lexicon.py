"""Reading feedback as words: the tokens of a text and the compiled lexicon.

The text is split into sentences, clauses and tokens (contractions opened,
hyphens and joined spellings both accepted), each token reduced to its Snowball
stem and every pronoun to one placeholder.  A lexicon
(``reviews/coach/<language>.json``) is compiled once into indexes over the same
keys, so a phrase is found by its first word.  What the words mean is
reviews.coach.analysis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import snowballstemmer

PRONOUN = "<pro>"
STEM_CACHE = 50_000  # words whose stems are kept between texts
TOKEN = re.compile(
    r"(?P<abbr>\b(?:e\.g|i\.e)\.)"
    r"|(?P<word>[A-Za-z]+(?:['\u2019][A-Za-z]+)*)"
    r"|(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<pct>%)"
    r"|(?P<stop>[.!?]+|\n)"
    r"|(?P<pause>[,;:()\u2014\u2013]|\s-\s)"
)
SUBJECT_IS = {"he", "she", "it", "that", "there", "who", "what", "here", "where"}
NOT_SUFFIX = {"can't": "can", "won't": "will", "shan't": "shall", "ain't": "is"}
OTHER_SUFFIX = {"re": "are", "ve": "have", "ll": "will", "d": "would", "m": "am"}


@dataclass(slots=True)
class Token:
    low: str  # lower-case word ("" for punctuation)
    stem: str  # Snowball stem, PRONOUN for any pronoun, "#" for a number
    start: int
    end: int
    kind: str  # "word", "num", "pct", "stop" (ends a sentence), "pause" (ends a clause)
    capital: bool
    sentence: int


@dataclass(frozen=True)
class Term:
    text: str
    keys: tuple[str, ...]  # stems, or lower-case words when exact
    exact: bool
    any_order: bool
    category: str
    frame: str  # "any", or "person": only where it describes someone
    needs_example: bool  # vague: fine next to a concrete example
    explanation: str
    suggestion: str
    source: str | None


class _Reader:
    """Tokens of one text under one lexicon's stemmer and pronouns."""

    def __init__(self, stemmer: Any, pronouns: frozenset[str]) -> None:
        self.stemmer = stemmer
        self.pronouns = pronouns
        self.stems: dict[str, str] = {}

    def stem(self, low: str) -> str:
        found = self.stems.get(low)
        if found is None:
            found = PRONOUN if low in self.pronouns else self.stemmer.stemWord(low)
            self.stems[low] = found
        return found

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        sentence = 0
        for match in TOKEN.finditer(text):
            kind = match.lastgroup or ""
            start, end = match.span()
            if kind == "stop":
                out.append(Token("", "", start, end, "stop", False, sentence))
                sentence += 1
                continue
            if kind in ("pause", "pct"):
                out.append(Token(match.group(), match.group(), start, end, kind, False, sentence))
                continue
            if kind == "num":
                out.append(Token(match.group(), "#", start, end, "num", False, sentence))
                continue
            raw = match.group()
            capital = raw[0].isupper()
            low = raw.lower()
            if "'" in low or "\u2019" in low or "." in low:
                for word in self._words(low.replace("\u2019", "'").replace(".", "")):
                    out.append(Token(word, self.stem(word), start, end, "word", capital, sentence))
            else:
                stem = self.stems.get(low) or self.stem(low)
                out.append(Token(low, stem, start, end, "word", capital, sentence))
        return out

    def _words(self, word: str) -> list[str]:
        """Contractions opened: he's -> he is, isn't -> is not, Ben's -> ben."""
        if "'" not in word:
            return [word]
        if word in NOT_SUFFIX:
            return [NOT_SUFFIX[word], "not"]
        if word.endswith("n't"):
            return [word[:-3], "not"]
        base, _, suffix = word.partition("'")
        if suffix == "s":
            # "Lisa's a bit too modest" (is) or "Lisa's design" (possessive): kept as
            # "'s", which counts as a copula only when a descriptor follows it
            return [base, "is"] if base in SUBJECT_IS else [base, "'s"]
        if suffix in OTHER_SUFFIX:
            return [base, OTHER_SUFFIX[suffix]]
        return [base]


@dataclass(frozen=True)
class Lexicon:
    language: str
    reader: _Reader  # keeps the stems it has seen
    by_stem: dict[str, list[Term]]  # first key -> terms
    by_word: dict[str, list[Term]]
    any_order: list[Term]
    exceptions: list[tuple[str, ...]]  # stems
    descriptor_words: frozenset[str]  # words of person-frame terms (skipped in a list)
    copulas: frozenset[str]
    as_copula_after: frozenset[str]
    regard_verbs: frozenset[str]  # "described [someone] as ..."
    skippable: frozenset[str]
    person_nouns: frozenset[str]
    function_words: frozenset[str]
    markers: dict[str, list[tuple[str, ...]]]  # first stem -> stem sequences; and periods
    months: frozenset[str]
    days: frozenset[str]
    artefacts: dict[str, list[tuple[str, ...]]]  # first stem -> stem sequences
    units: frozenset[str]  # stems
    change_words: frozenset[str]
    number_words: frozenset[str]
    positive: dict[str, list[tuple[str, ...]]]
    negative: dict[str, list[tuple[str, ...]]]
    negators: frozenset[str]
    absence: frozenset[str]  # negators that name something missing before a noun
    resolvers: dict[str, list[tuple[str, ...]]]  # lower-case words, not stems
    scope_breakers: frozenset[str]
    sources: dict[str, str]
    terms: list[Term]


def _keys(reader: _Reader, phrase: str, exact: bool) -> tuple[str, ...]:
    phrase = phrase.replace(PRONOUN, "her")
    return tuple(
        (PRONOUN if t.stem == PRONOUN else t.low) if exact else t.stem
        for t in reader.tokens(phrase)
        if t.kind == "word"
    )


def _index(sequences: Iterable[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = {}
    for seq in sequences:
        if seq:
            index.setdefault(seq[0], []).append(seq)
    for candidates in index.values():
        candidates.sort(key=len, reverse=True)  # longest first
    return index


def compile_lexicon(data: dict[str, Any]) -> Lexicon:
    stemmer = snowballstemmer.stemmer(data.get("stemmer", "english"))
    pronouns = frozenset(data["pronouns"])
    reader = _Reader(stemmer, pronouns)
    sources = data.get("sources", {})
    terms: list[Term] = []
    for group in data["groups"]:
        for entry in group["terms"]:
            spec = {"term": entry} if isinstance(entry, str) else entry
            any_order = spec.get("any_order", False)
            text = spec["term"]
            # one word is matched as written: stems conflate "personality" with
            # "person" and "judgmental" with "judgment"; phrases are matched on stems
            exact = spec.get("exact", group.get("exact", False)) or (
                len(text.split()) == 1 and not any_order
            )
            variants = [_keys(reader, text, exact)]
            words = variants[0]
            if len(words) > 1 and PRONOUN not in words and not any_order:
                joined = "".join(text.split()).replace("-", "")
                variants.append(_keys(reader, joined, exact))  # "rock star" -> "rockstar"
            for keys in variants:
                terms.append(
                    Term(
                        text=text,
                        keys=keys,
                        exact=exact,
                        any_order=any_order,
                        category=group["category"],
                        frame=spec.get("frame", group.get("frame", "any")),
                        needs_example=group.get("needs_example", False),
                        explanation=spec.get("explanation", group["explanation"]),
                        suggestion=spec.get("suggestion", group["suggestion"]),
                        source=sources.get(spec.get("source", group.get("source", ""))),
                    )
                )
    by_stem: dict[str, list[Term]] = {}
    by_word: dict[str, list[Term]] = {}
    for term in terms:
        if term.any_order or not term.keys:
            continue
        (by_word if term.exact else by_stem).setdefault(term.keys[0], []).append(term)
    for index in (by_stem, by_word):
        for candidates in index.values():
            candidates.sort(key=lambda t: len(t.keys), reverse=True)
    evidence = data["evidence"]
    sentiment = data["sentiment"]

    def stems(phrases: Iterable[str]) -> list[tuple[str, ...]]:
        return [_keys(reader, p, False) for p in phrases]

    return Lexicon(
        language=data["language"],
        reader=reader,
        by_stem=by_stem,
        by_word=by_word,
        any_order=[t for t in terms if t.any_order],
        exceptions=stems(data.get("exceptions", [])),
        descriptor_words=frozenset(
            t.keys[0] for t in terms if t.frame == "person" and len(t.keys) == 1
        ),
        copulas=frozenset(data["copulas"]),
        as_copula_after=frozenset(data["as_copula_after"]),
        regard_verbs=frozenset(data.get("regard_verbs", [])),
        skippable=frozenset(data["skippable"]),
        person_nouns=frozenset(data["person_nouns"]),
        function_words=frozenset(data["function_words"]),
        markers=_index(stems([*evidence["markers"], *evidence["periods"]])),
        months=frozenset(evidence["months"]),
        days=frozenset(evidence["days"]),
        artefacts=_index(stems(evidence["artefacts"])),
        units=frozenset(reader.stem(u) for u in evidence["units"] if u != "%"),
        change_words=frozenset(evidence["change_words"]),
        number_words=frozenset(evidence["number_words"]),
        positive=_index(stems(sentiment["positive"])),
        negative=_index(stems(sentiment["negative"])),
        negators=frozenset(sentiment["negators"]),
        absence=frozenset(sentiment.get("absence", [])),
        resolvers=_index(_keys(reader, p, True) for p in sentiment["resolvers"]),
        scope_breakers=frozenset(sentiment["scope_breakers"]),
        sources=sources,
        terms=terms,
    )


@cache
def lexicon(language: str = "en") -> Lexicon:
    text = resources.files("reviews.coach").joinpath(f"{language}.json").read_text("utf-8")
    return compile_lexicon(json.loads(text))


def at(tokens: Sequence[Token], i: int, keys: Sequence[str], exact: bool = False) -> bool:
    """Whether the words from token i on are `keys` (one sentence, no punctuation)."""
    if i + len(keys) > len(tokens):
        return False
    sentence = tokens[i].sentence
    for offset, key in enumerate(keys):
        t = tokens[i + offset]
        if t.kind != "word" or t.sentence != sentence:
            return False
        value = t.stem if (not exact or t.stem == PRONOUN) else t.low
        if value != key:
            return False
    return True


def phrase_at(
    tokens: Sequence[Token], i: int, index: dict[str, list[tuple[str, ...]]], exact: bool = False
) -> tuple[str, ...] | None:
    for seq in index.get(tokens[i].low if exact else tokens[i].stem, ()):
        if at(tokens, i, seq, exact):
            return seq
    return None


def read(text: str, lex: Lexicon) -> list[Token]:
    if not text:
        return []
    if len(lex.reader.stems) > STEM_CACHE:
        lex.reader.stems.clear()
    return lex.reader.tokens(text)
