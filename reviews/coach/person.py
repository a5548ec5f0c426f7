"""Whether a descriptor in a text describes a person rather than an action or a thing.

Part of the feedback coach (reviews/coach/analysis.py): a descriptor of frame "person"
("aggressive", "emotional", "ehrgeizig") counts only after a copula with a person as
its subject ("she is very emotional", "In Meetings ist sie oft aggressiv"), before a
person noun ("a warm presence"), or opening a clause with the subject left out; "she
pushed back aggressively" and "aggressive caching" are left alone. German word order
(the copula before its subject, a capitalised noun after an article) is read here too.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviews.coach.lexicon import PRONOUN, Lexicon, Term, Token

# Descriptors of the person --------------------------------------------------------------


def describes_person(tokens: Sequence[Token], i: int, j: int, term: Term, lex: Lexicon) -> bool:
    """Whether the descriptor at tokens i..j describes a person rather than an action
    or a thing."""
    first = tokens[i]
    suffix = lex.adverb_suffix
    if suffix and first.low.endswith(suffix) and not term.keys[-1].endswith(suffix):
        return False  # an adverb: it describes how something was done
    sentence = first.sentence
    k = j + 1
    # past a list of descriptors ("warm and nurturing", "affectionate, cheerful colleague")
    while (
        k < len(tokens)
        and tokens[k].sentence == sentence
        and (
            tokens[k].low in lex.list_words
            or _descriptor(tokens[k], lex)
            or tokens[k].low in lex.intensifiers
            or _adverb(tokens[k], lex)
        )
    ):
        k += 1
    while k - 1 > j and (tokens[k - 1].low in lex.list_words or _adverb(tokens[k - 1], lex)):
        k -= 1  # "self-reliant and rarely asks": the list ended before "and"
    after = tokens[k] if k < len(tokens) and tokens[k].sentence == sentence else None
    if lex.verb_second and after is not None and after.low in lex.copulas:
        # the copula after the descriptor: "kann sie ziemlich stur sein", "weil er stur ist"
        return _german_subject(tokens, _clause_start(tokens, i), i - 1, lex) != "thing"
    if (
        after is not None
        and after.kind == "word"
        and after.low not in lex.function_words
        and (k == j + 1 or _descriptor(tokens[k - 1], lex))
    ):
        # attributive: "a warm presence" is about a person, "aggressive caching" is not
        return _person_noun(after, lex)
    if lex.verb_second:
        return _german_predicate(tokens, i, lex)
    # walk back over intensifiers and other descriptors to a copula or the clause start
    k = i - 1
    while k >= 0 and tokens[k].sentence == sentence and tokens[k].kind == "word":
        low = tokens[k].low
        if low in lex.copulas or (low == "as" and k and tokens[k - 1].low in lex.as_copula_after):
            return _person_subject(tokens, k, lex)
        if low == "as" and k >= 2 and tokens[k - 2].low in lex.regard_verbs:
            # "described them as warm", "sees Ana as stubborn"
            return tokens[k - 1].stem == PRONOUN or tokens[k - 1].capital
        if (
            low not in lex.skippable
            and not _descriptor(tokens[k], lex)
            and not _adverb(tokens[k], lex)
        ):
            return False
        k -= 1
    return True  # opens a sentence or clause: the subject is left out ("Too aggressive ...")


def _descriptor(token: Token, lex: Lexicon) -> bool:
    return token.low in lex.descriptor_words or token.stem in lex.descriptor_stems


def _adverb(token: Token, lex: Lexicon) -> bool:
    suffix = lex.adverb_suffix
    return (
        bool(suffix) and token.kind == "word" and len(token.low) > 4 and token.low.endswith(suffix)
    )


def _person_noun(token: Token, lex: Lexicon) -> bool:
    """A word for a person ("colleague"; German also inflected or closing a compound:
    "Kolleginnen", "Ansprechpartnerin")."""
    return (
        token.low in lex.person_nouns
        or token.stem in lex.person_stems
        or (bool(lex.person_heads) and token.low.endswith(lex.person_heads))
    )


# German word order --------------------------------------------------------------------


def _clause_start(tokens: Sequence[Token], i: int) -> int:
    sentence = tokens[i].sentence
    k = i
    while (
        k > 0
        and tokens[k - 1].sentence == sentence
        and tokens[k - 1].kind
        not in (
            "stop",
            "pause",
        )
    ):
        k -= 1
    return k


def _name(tokens: Sequence[Token], m: int, lex: Lexicon) -> bool:
    """Whether the capitalised word at m is a name: German capitalises every noun, so
    not after an article, a possessive, a preposition or an adjective ("die Migration",
    "seine Schätzungen", "bei Deadlines", "die schwierige Migration")."""
    t = tokens[m]
    if not t.capital or t.low in lex.function_words or t.stem == PRONOUN:
        return False
    if m == 0 or tokens[m - 1].sentence != t.sentence or tokens[m - 1].kind != "word":
        return True
    prev = tokens[m - 1]
    if prev.stem == PRONOUN or prev.low in lex.determiners or prev.low in lex.prepositions:
        return False
    return prev.capital or prev.low in lex.function_words or prev.low in lex.copulas


def _german_predicate(tokens: Sequence[Token], i: int, lex: Lexicon) -> bool:
    """The descriptor at i closes its clause's middle field: it describes a person when a
    copula earlier in the clause has a person (or nobody written) as its subject, which
    comes after the copula (verb second: "In Meetings ist sie oft aggressiv") or before
    it ("Die Ziele waren ehrgeizig"); with no copula, only when it opens the clause
    ("Manchmal weinerlich, ..."): "Sie verhandelt aggressiv" is about an action."""
    start = _clause_start(tokens, i)
    copula = next((k for k in range(i - 1, start - 1, -1) if tokens[k].low in lex.copulas), None)
    if copula is None:
        return all(
            t.low in lex.skippable or _descriptor(t, lex) or t.low in lex.intensifiers
            for t in tokens[start:i]
        )
    found = _german_subject(tokens, copula + 1, i - 1, lex)
    if found is None:
        found = _german_subject(tokens, start, copula - 1, lex)
    return found != "thing"  # nobody written: "Kann bei Deadlines irrational sein"


def _german_subject(tokens: Sequence[Token], lo: int, hi: int, lex: Lexicon) -> str | None:
    """ "person", "thing" or None (no subject) for the words lo..hi, nearest first;
    nouns inside a prepositional phrase ("bei seinen Schätzungen") are no subject."""
    m = hi
    while m >= lo:
        t = tokens[m]
        if t.kind != "word":
            m -= 1
            continue
        if t.stem == PRONOUN or t.low in ("ich", "wir", "man", "jemand", "wer"):
            return "person"
        if t.low in lex.impersonal:
            return "thing"
        if t.capital and t.low not in lex.function_words and t.low not in lex.skippable:
            if _name(tokens, m, lex):
                return "person"
            # the start of its noun phrase: articles, possessives, adjectives, numbers
            s = m - 1
            while s >= lo and (
                tokens[s].low in lex.determiners
                or tokens[s].stem == PRONOUN
                or tokens[s].kind == "num"
                or (
                    tokens[s].kind == "word"
                    and not tokens[s].capital
                    and tokens[s].low not in lex.function_words
                    and tokens[s].low not in lex.copulas
                )
            ):
                s -= 1
            if s >= lo and tokens[s].low in lex.prepositions:
                m = s - 1
                continue
            return "person" if _person_noun(t, lex) else "thing"
        m -= 1
    return None


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
            or _adverb(t, lex)
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
