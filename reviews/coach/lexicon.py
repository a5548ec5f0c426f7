"""Reading feedback as words: the tokens of a text and the compiled lexicon.

The text is split into sentences, clauses and tokens (letters of any script;
English contractions opened, hyphens and joined spellings both accepted), each
token reduced to its Snowball stem and every pronoun to one placeholder.  The
lexicon's abbreviations ("e.g.", "z. B.") and, where it asks, an ordinal date
("am 3. Mai") do not end a sentence.  A lexicon (``reviews/coach/<language>.json``)
is compiled once into indexes over the same keys, so a phrase is found by its
first word.  What the words mean is reviews.coach.analysis; which lexicon reads
a text is `language_of`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import snowballstemmer

PRONOUN = "<pro>"
INTENSIFIERS = frozenset(
    ("very", "really", "so", "too", "quite", "extremely", "overly", "rather", "pretty", "truly")
)
COMPOUND_HEAD = 5  # the shortest word that may close a compound ("problem", not "leck")
STEM_CACHE = 50_000  # words whose stems are kept between texts
LETTERS = r"[^\W\d_]"  # a letter of any script: "é", "ß", "ü" too
TOKENS = (
    rf"|(?P<word>{LETTERS}+(?:['\u2019]{LETTERS}+)*)"
    r"|(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<pct>%)"
    r"|(?P<stop>[.!?]+|\n)"
    r"|(?P<pause>[,;:()\u2014\u2013]|\s-\s)"
)
NEXT_WORD = re.compile(r"\s*(" + LETTERS + r"+)")


def token_pattern(abbreviations: Iterable[str]) -> re.Pattern[str]:
    """The tokenizer of a lexicon: its abbreviations ("e.g.", "z. B.", "bzw."), as
    written or with a capital first letter, with or without the space after an inner
    dot, are one token each."""
    forms = []
    longest = 1  # letters before an abbreviation's first dot: a quick look-ahead
    for abbr in sorted(abbreviations, key=len, reverse=True):
        longest = max(longest, len(abbr.split(".")[0].strip()))
        for written in dict.fromkeys((abbr, abbr[:1].upper() + abbr[1:])):
            parts = [re.escape(part.strip()) for part in written.rstrip(".").split(".")]
            forms.append(r"\.\s?".join(parts) + r"\.")
    abbr = (
        rf"(?P<abbr>\b(?={LETTERS}{{1,{longest}}}\.)(?:" + "|".join(forms) + r"))"
        if forms
        else r"(?P<abbr>(?!))"
    )
    return re.compile(abbr + TOKENS)


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
    """Tokens of one text under one lexicon's stemmer, pronouns and abbreviations."""

    def __init__(
        self,
        stemmer: Any,
        pronouns: frozenset[str],
        abbreviations: Iterable[str] = ("e.g.", "i.e."),
        contractions: bool = True,
        apostrophe_s: str = "",
        ordinal_months: frozenset[str] = frozenset(),
    ) -> None:
        self.stemmer = stemmer
        self.pronouns = pronouns
        self.stems: dict[str, str] = {}
        self.pattern = token_pattern(abbreviations)
        self.contractions = contractions  # English: he's -> he is, isn't -> is not
        self.apostrophe_s = apostrophe_s  # German: geht's -> geht es
        # "am 3. Mai", "im 2. Quartal": a number's dot before a month or a lower-case
        # word is an ordinal, not the end of a sentence (empty: no ordinals)
        self.ordinal_months = ordinal_months

    def stem(self, low: str) -> str:
        found = self.stems.get(low)
        if found is None:
            found = PRONOUN if low in self.pronouns else self.stemmer.stemWord(low)
            self.stems[low] = found
        return found

    def tokens(self, text: str) -> list[Token]:
        out: list[Token] = []
        sentence = 0
        for match in self.pattern.finditer(text):
            kind = match.lastgroup or ""
            start, end = match.span()
            if kind == "stop":
                if (
                    self.ordinal_months
                    and out
                    and out[-1].kind == "num"
                    and self._ordinal(text, match)
                ):
                    continue
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
                low = low.replace("\u2019", "'").replace(".", "").replace(" ", "")
                for word in self._words(low) if self.contractions else self._apostrophe(low):
                    out.append(Token(word, self.stem(word), start, end, "word", capital, sentence))
            else:
                stem = self.stems.get(low) or self.stem(low)
                out.append(Token(low, stem, start, end, "word", capital, sentence))
        return out

    def _ordinal(self, text: str, stop: re.Match[str]) -> bool:
        if stop.group() != ".":
            return False
        following = NEXT_WORD.match(text, stop.end())
        if following is None:
            return False
        word = following.group(1)
        return word.islower() or word.lower() in self.ordinal_months

    def _apostrophe(self, word: str) -> list[str]:
        """geht's -> geht es; any other apostrophe (Andrea's) keeps only the word."""
        base, _, suffix = word.partition("'")
        return [base, self.apostrophe_s] if suffix == "s" and self.apostrophe_s else [base]

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
    exceptions: dict[str, list[tuple[tuple[str, ...], int]]]  # stem -> (stems, its offset)
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
    # grammar the analysis needs beyond word lists (defaults: English)
    list_words: frozenset[str] = frozenset(("and", "or", ","))  # "kind and polite"
    intensifiers: frozenset[str] = INTENSIFIERS
    adverb_suffix: str = "ly"  # "aggressively": how, not who ("" when adverbs look alike)
    range_words: frozenset[str] = frozenset(("to",))  # "from 40 to 9"
    number_labels: frozenset[str] = frozenset(("q", "h", "week", "day"))  # Q3, week 2
    negation_reach: int = 4  # words a negator flips
    any_order_slack: int = 3  # extra words between the words of an any-order phrase
    # German word order: a copula may follow its descriptor ("stur sein") or come
    # before its subject ("In Meetings ist sie ..."); a noun after a determiner,
    # a possessive or an adjective is a noun, not a name
    verb_second: bool = False
    determiners: frozenset[str] = frozenset()
    prepositions: frozenset[str] = frozenset()
    impersonal: frozenset[str] = frozenset()  # "es", "das": a subject that is no person
    resolve_backwards: bool = False  # "hat die instabilen Tests behoben"
    # compounds: "Kundeneskalation" is an escalation, "Speicherprobleme" a problem,
    # "Ansprechpartnerin" a person (the last part decides)
    descriptor_stems: frozenset[str] = frozenset()
    person_stems: frozenset[str] = frozenset()
    person_heads: tuple[str, ...] = ()
    artefact_heads: tuple[str, ...] = ()
    positive_heads: tuple[str, ...] = ()
    negative_heads: tuple[str, ...] = ()


def _keys(reader: _Reader, phrase: str, exact: bool) -> tuple[str, ...]:
    phrase = phrase.replace(PRONOUN, "her" if "her" in reader.pronouns else min(reader.pronouns))
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


def _offsets(sequences: Iterable[tuple[str, ...]]) -> dict[str, list[tuple[tuple[str, ...], int]]]:
    """Each key of each sequence -> (the sequence, where the key stands in it)."""
    index: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for seq in sequences:
        for offset, key in enumerate(seq):
            index.setdefault(key, []).append((seq, offset))
    return index


def compile_lexicon(data: dict[str, Any]) -> Lexicon:
    stemmer = snowballstemmer.stemmer(data.get("stemmer", "english"))
    pronouns = frozenset(data["pronouns"])
    evidence = data["evidence"]
    sentiment = data["sentiment"]
    grammar = data.get("grammar", {})
    reader = _Reader(
        stemmer,
        pronouns,
        abbreviations=data.get("abbreviations", ("e.g.", "i.e.")),
        contractions=grammar.get("contractions", True),
        apostrophe_s=grammar.get("apostrophe_s", ""),
        ordinal_months=(
            frozenset(evidence["months"]) if grammar.get("ordinal_dates") else frozenset()
        ),
    )
    # English matches one word as written: stems conflate "personality" with "person"
    # and "judgmental" with "judgment"; German inflects its adjectives (emotional,
    # emotionale, emotionalen), so its single words are matched on stems
    exact_words = grammar.get("single_words", "exact") == "exact"
    sources = data.get("sources", {})
    terms: list[Term] = []
    for group in data["groups"]:
        for entry in group["terms"]:
            spec = {"term": entry} if isinstance(entry, str) else entry
            any_order = spec.get("any_order", False)
            text = spec["term"]
            # phrases are matched on stems; single words as the lexicon says
            exact = spec.get("exact", group.get("exact", False)) or (
                exact_words and len(text.split()) == 1 and not any_order
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

    def stems(phrases: Iterable[str]) -> list[tuple[str, ...]]:
        return [_keys(reader, p, False) for p in phrases]

    compounds = grammar.get("compounds", False)

    def heads(phrases: Iterable[str]) -> tuple[str, ...]:
        if not compounds:
            return ()
        return tuple(
            sorted({k[0] for k in stems(phrases) if len(k) == 1 and len(k[0]) >= COMPOUND_HEAD})
        )

    person_nouns = frozenset(data["person_nouns"])

    return Lexicon(
        language=data["language"],
        reader=reader,
        by_stem=by_stem,
        by_word=by_word,
        any_order=[t for t in terms if t.any_order],
        exceptions=_offsets(stems(data.get("exceptions", []))),
        descriptor_words=frozenset(
            t.keys[0] for t in terms if t.frame == "person" and len(t.keys) == 1 and t.exact
        ),
        descriptor_stems=frozenset(
            t.keys[0] for t in terms if t.frame == "person" and len(t.keys) == 1 and not t.exact
        ),
        copulas=frozenset(data["copulas"]),
        as_copula_after=frozenset(data.get("as_copula_after", ())),
        regard_verbs=frozenset(data.get("regard_verbs", [])),
        skippable=frozenset(data["skippable"]),
        person_nouns=person_nouns,
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
        list_words=frozenset(grammar.get("list_words", ("and", "or", ","))),
        intensifiers=frozenset(grammar.get("intensifiers", INTENSIFIERS)),
        adverb_suffix=grammar.get("adverb_suffix", "ly"),
        range_words=frozenset(grammar.get("range_words", ("to",))),
        number_labels=frozenset(grammar.get("number_labels", ("q", "h", "week", "day"))),
        negation_reach=grammar.get("negation_reach", 4),
        any_order_slack=grammar.get("any_order_slack", 3),
        verb_second=grammar.get("verb_second", False),
        determiners=frozenset(grammar.get("determiners", ())),
        prepositions=frozenset(grammar.get("prepositions", ())),
        impersonal=frozenset(grammar.get("impersonal", ())),
        resolve_backwards=grammar.get("resolve_backwards", False),
        person_stems=(
            frozenset(k[0] for k in stems(person_nouns) if len(k) == 1)
            if compounds
            else frozenset()
        ),
        person_heads=tuple(sorted(n for n in person_nouns if len(n) >= 6)) if compounds else (),
        artefact_heads=heads(evidence["artefacts"]),
        positive_heads=heads(sentiment["positive"]),
        negative_heads=heads(sentiment["negative"]),
    )


@cache
def lexicon(language: str = "en") -> Lexicon:
    text = resources.files("reviews.coach").joinpath(f"{language}.json").read_text("utf-8")
    return compile_lexicon(json.loads(text))


DEFAULT_LANGUAGE = "en"
WORDS = re.compile(LETTERS + r"+")


@cache
def languages() -> tuple[str, ...]:
    """The languages with a lexicon (reviews/coach/<language>.json)."""
    files = resources.files("reviews.coach").iterdir()
    return tuple(sorted(f.name[:-5] for f in files if f.name.endswith(".json")))


@cache
def _function_words() -> dict[str, frozenset[str]]:
    return {language: lexicon(language).function_words for language in languages()}


def language_of(text: str, preferred: str | None = None) -> str:
    """The lexicon to read `text` with: the language whose function words ("the", "and";
    "der", "und") it uses most; when that does not decide (a few words, a tie), the
    preferred language (the writer's, e.g. "de_DE") if it has a lexicon, else English."""
    wanted = (preferred or "").replace("-", "_").split("_")[0].lower()
    fallback = wanted if wanted in languages() else DEFAULT_LANGUAGE
    used = Counter(word.lower() for word in WORDS.findall(text or ""))
    counts = {
        language: sum(n for word, n in used.items() if word in found)
        for language, found in _function_words().items()
    }
    ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return fallback
    return ranked[0][0]


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
