"""The feedback coach: a table of hand-written sentences and their expected findings."""

from __future__ import annotations

import json

import pytest
from conftest import post
from cycle_helpers import launched_cycle, review_of

from bench import coach as bench_coach
from reviews.coach.analysis import (
    CATEGORIES,
    analyse,
    has_evidence,
    language_of,
    lexicon,
    text_quality,
)
from reviews.coach.lexicon import read
from reviews.people.models import Role

# (sentence, rating or None, expected categories in order of position)
CASES = [
    # Vague praise and criticism without evidence
    ("Great job this half!", None, ["vague"]),
    ("Good job on everything.", None, ["vague"]),
    ("Nice work, keep it up.", None, ["vague", "vague"]),
    ("She is a real team player.", None, ["vague"]),
    ("Needs to improve communication.", None, ["vague"]),
    ("He could be better at planning.", None, ["vague"]),
    ("You should be more proactive.", None, ["vague"]),
    ("A solid performer overall.", None, ["vague"]),
    ("Keep up the good work.", None, ["vague"]),
    ("Great to work with.", None, ["vague"]),
    # The same words next to concrete evidence are fine
    ("Great job on the March migration: deploys went from 22 to 9 minutes.", None, []),
    ("Nice work in the incident on Tuesday; you kept the timeline clear.", None, []),
    ("Team player: during the release freeze she took two of Ben's on-call shifts.", None, []),
    (
        "Needs to improve communication, for example the API change reached us only at the demo.",
        None,
        [],
    ),
    # Personality words instead of behaviour, and coded language
    ("She can be abrasive.", None, ["personality"]),
    ("He is bossy with the juniors.", None, ["personality"]),
    ("Too aggressive in code reviews.", None, ["personality"]),
    ("She gets emotional under pressure.", None, ["personality"]),
    ("Comes across as arrogant.", None, ["personality"]),
    ("A strident voice in planning.", None, ["personality"]),
    ("She is nurturing with new hires.", None, ["gendered"]),
    ("Feisty in debates.", None, ["gendered"]),
    ("A true digital native.", None, ["age"]),
    ("Probably overqualified for this team.", None, ["age"]),
    ("He set up the new CI runners in his first week.", None, []),
    ("Set in their ways about tooling.", None, ["age"]),
    # Absolute and hedging language
    ("He always misses the standup.", None, ["absolute"]),
    ("She never asks for help.", None, ["absolute"]),
    ("Interrupts people all the time.", None, ["absolute"]),
    ("Maybe the tests could be clearer.", None, ["hedging"]),
    ("You might want to write design docs.", None, ["hedging"]),
    ("The rollout plan was sort of unclear.", None, ["hedging"]),
    # Rating and text disagree, and extreme ratings without a reason
    (
        "The rollout was late, the plan unclear, and the rollback failed twice in May.",
        5,
        ["mismatch"],
    ),
    (
        "Excellent design work: the storage RFC was clear and shipped on time in April.",
        1,
        ["mismatch"],
    ),
    ("Fine.", 5, ["too_short"]),
    ("Okay overall.", 1, ["too_short"]),
    ("Great work.", 1, ["vague", "too_short", "mismatch"]),
    ("Nice work.", 1, ["vague", "too_short", "mismatch"]),
    # Sentences that must give nothing
    ("Her emotional intelligence shows in every 1:1 she runs with the new hires.", None, []),
    ("The aggressive timeline for the billing migration was met in June.", None, []),
    (
        "In the incident review on 3 May she kept the timeline clear, which let us restore "
        "service in 40 minutes.",
        4,
        [],
    ),
    ("Led the design of the queue; after the rollout p95 latency fell by 30%.", 4, []),
    ("Paired with Ana for six weeks; she now ships features on her own.", 3, []),
    ("The March demo was not clear for the sales team, who asked for a second session.", 2, []),
    ("", None, []),
]


@pytest.mark.parametrize(
    ("sentence", "rating", "expected"),
    CASES,
    ids=[f"{i:02d}-{c[0][:30]}" for i, c in enumerate(CASES)],
)
def test_expected_findings(sentence, rating, expected):
    findings = analyse(sentence, rating)
    assert [f.category for f in findings] == expected
    for f in findings:
        assert 0 <= f.start < f.end <= len(sentence) or (f.start == 0 and f.end == len(sentence))
        assert f.category in CATEGORIES
        assert f.explanation
        assert f.suggestion


def test_there_are_at_least_forty_sentences():
    assert len(CASES) >= 40
    assert sum(1 for _, _, expected in CASES if not expected) >= 10  # false alarms kept down


def test_spans_point_at_the_words():
    text = "Honestly, she is abrasive and always late."
    spans = {f.category: text[f.start : f.end] for f in analyse(text)}
    assert spans == {"personality": "abrasive", "absolute": "always"}


@pytest.mark.parametrize("language", ["en", "de"])
def test_every_research_term_names_its_source(language):
    lex = lexicon(language)
    for term in lex.terms:
        if term.category in ("vague", "personality", "gendered", "age"):
            assert term.source, term.text
            assert term.source in lex.sources.values(), term.text
    assert "Snyder" in lex.sources["snyder-2014"]
    assert "Gaucher" in lex.sources["gaucher-2011"]


def test_the_german_lexicon_cites_its_german_sources():
    sources = lexicon("de").sources
    assert "Hentschel" in sources["gaucher-2011"]
    assert "übersetzt" in sources["gaucher-2011"]  # the English word lists, translated
    assert "8 AZR 406/14" in sources["agg-alter"]
    assert "AGG" in sources["agg-alter"]


def test_the_endpoint_answers_as_the_person_writes(app, make_person, login_as):
    client = login_as(make_person("Writer"))
    answer = post(client, "/coach/analyse", {"text": "Great job!", "rating": "5"})
    assert answer.status_code == 200
    categories = [f["category"] for f in answer.get_json()["findings"]]
    assert categories == ["vague", "too_short"]
    assert answer.get_json()["findings"][0]["label"] == "Vague"
    too_long = post(client, "/coach/analyse", {"text": "x" * 20_001})
    assert too_long.status_code == 413
    assert "fields" in too_long.get_json()["error"]
    assert app.test_client().post("/coach/analyse", data={"text": "x"}).status_code in (302, 400)


def test_without_javascript_findings_appear_after_saving_a_draft(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    dev = make_person("Devon Clarke", manager=make_person("Elena", role=Role.MANAGER))
    review = review_of(launched_cycle(hr), dev)
    client = login_as(dev)
    url = f"/reviews/{review.id}/self"
    page = client.get(url).get_data(as_text=True)
    import re

    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    saved = post(
        client,
        url,
        {"version": version, "action": "draft", "accomplishments": "Great job all the time."},
    )
    assert saved.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'id="coach-accomplishments"' in page
    assert "Vague" in page
    assert "Absolute" in page
    # Advice, never a block: the draft was saved as written.
    assert "Great job all the time." in page


@pytest.mark.parametrize("corpus", bench_coach.CORPORA, ids=lambda p: p.name)
def test_the_evaluation_corpora_meet_the_targets(corpus):
    """Recall of each research category, false alarms on clean sentences and the
    contradiction check, as python -m bench.coach prints them."""
    scores = bench_coach.evaluate(json.loads(corpus.read_text("utf-8")))
    assert set(scores) == {
        "gaucher-2011",
        "snyder-2014",
        "correll-simard-2016",
        "age-coded",
        "clean",
        "contradiction",
    }
    assert all(s.total >= 12 for s in scores.values())
    assert bench_coach.targets_met(scores) == dict.fromkeys(scores, True), {
        name: s.wrong for name, s in scores.items()
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # pronouns, inflections, hyphens, joined spellings
        ("He is set in his ways.", ["age"]),
        ("You are set in your ways.", ["age"]),
        ("She's so old-school.", ["age"]),
        ("An absolute rockstar.", ["vague"]),
        ("His communication needs improvement.", ["vague"]),
        # the person, not the action or the thing
        ("She is aggressive.", ["personality"]),
        ("She pushed back aggressively in the review on Monday.", []),
        ("The aggressive rollout plan for June shipped on time.", []),
        ("He is a confident, decisive leader.", ["gendered", "gendered"]),
        ("She led the April migration.", []),
        ("Lazy loading cut the page weight by 40%.", []),
        ("The migration was difficult.", []),
        ("Ana is difficult to work with.", ["personality"]),
        # incidental words are no example
        ("Great job when it mattered, may it continue.", ["vague"]),
        ("Great job, 10/10.", ["vague"]),
        ("Great job on the May launch.", []),
    ],
)
def test_words_not_strings(text, expected):
    assert [f.category for f in analyse(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # inflected adjectives are the same word
        ("Eine sehr emotionale Kollegin.", ["personality"]),
        ("Er ist ein sturer Typ.", ["gendered"]),
        ("Sie ist eine echte Teamplayerin.", ["vague"]),
        # verb second: the copula before the subject, or after the descriptor
        ("In Meetings ist sie oft aggressiv.", ["personality"]),
        ("Wenn der Plan sich ändert, kann sie ziemlich stur sein.", ["gendered"]),
        ("Ich erlebe sie als sehr dominant.", ["gendered"]),
        # the person, not the action or the thing
        ("Sie hat aggressiv verhandelt.", []),
        ("Das aggressive Caching halbierte die Datenbanklast.", []),
        ("Die Migration war schwierig.", []),
        # a capitalised word after an article or a possessive is a noun, not a name
        ("Die Ziele für das Quartal waren sehr ehrgeizig.", []),
        ("Seine Schätzungen waren ehrgeizig.", []),
        ("Jonas ist sehr ehrgeizig.", ["gendered"]),
        # an ordinal date and an abbreviation do not end the sentence: the example counts
        ("Gute Arbeit am 3. Mai beim Release.", []),
        ("Gute Arbeit, z. B. im März-Release.", []),
        ("Gute Arbeit.", ["vague"]),
        # "immer wieder" (again and again) is no absolute
        ("Die Tests liefen immer wieder rot, bis sie im August die Ursache fand.", []),
        ("Er kommt immer zu spät.", ["absolute"]),
        # a list with a comma inside an any-order phrase
        ("Sie passt gut in unser junges, dynamisches Team.", ["age"]),
    ],
)
def test_german_words_not_strings(text, expected):
    assert [f.category for f in analyse(text, language="de")] == expected


def test_german_sentences_and_apostrophes():
    lex = lexicon("de")
    tokens = read("Sie hat am 3. Mai z. B. die Tests bzw. die Doku geschrieben. Danach nicht.", lex)
    assert [t.kind for t in tokens].count("stop") == 2
    assert [t.low for t in read("So geht's nicht.", lex) if t.kind == "word"] == [
        "so",
        "geht",
        "es",
        "nicht",
    ]


def test_german_contradiction_resolves_at_the_end_of_the_clause():
    assert analyse("Er hat die instabilen Tests behoben.", 4, "de") == []
    assert (
        analyse("Kein einziger verpasster Termin und keine Ausfälle in diesem Halbjahr.", 4) == []
    )
    found = [f.category for f in analyse("Die Tests waren instabil und die Deploys langsam.", 4)]
    assert found == ["mismatch"]


@pytest.mark.parametrize(
    ("text", "preferred", "expected"),
    [
        ("Sie ist in Meetings sehr still und hat die Tests behoben.", "en", "de"),
        ("Sie ist in Meetings sehr still und hat die Tests behoben.", None, "de"),
        ("She is very quiet in meetings and fixed the tests.", "de", "en"),
        ("She is very quiet in meetings and fixed the tests.", "de_DE", "en"),
        ("Top!", "de_DE", "de"),  # undecidable: the writer's language
        ("Top!", "de-AT", "de"),
        ("Top!", "en", "en"),
        ("Top!", "fr", "en"),  # no French lexicon: English
        ("Top!", None, "en"),
        ("Il a fait du bon travail dans la migration.", "fr", "en"),
    ],
)
def test_the_language_of_a_text(text, preferred, expected):
    assert language_of(text, preferred) == expected


def test_each_text_is_read_in_its_own_language():
    assert [f.category for f in analyse("Sie ist sehr emotional.", language="en")] == [
        "personality"
    ]
    assert [f.category for f in analyse("She is very emotional.", language="de")] == ["personality"]
    written, evidence, personal = text_quality(
        ["Sie ist sehr emotional.", "She is very emotional.", "Gute Arbeit im März-Release.", ""]
    )
    assert (written, evidence, personal) == (3, 1, 2)


def test_labels_and_rating_messages_are_plain_english_outside_a_request():
    finding = analyse("Super.", 5, "de")[-1].as_dict()
    assert finding["category"] == "too_short"
    assert type(finding["label"]) is str
    assert finding["label"] == "Too short for the rating"
    assert finding["explanation"] == (
        "A rating of 5 is the edge of the scale; 1 word cannot explain it."
    )
    german = analyse("Sie ist sehr emotional.", language="de")[0]
    assert "Person" in german.explanation  # the lexicon's own (German) texts


def test_contradiction_understands_negation_and_fixes():
    assert analyse("Not one missed deadline, and no outages all year.", 4) == []
    assert [
        f.category for f in analyse("Fixed the flaky tests that blocked every deploy.", 4)
    ] == []
    found = [f.category for f in analyse("The tests were not reliable and deploys were slow.", 4)]
    assert found == ["mismatch"]


def test_evidence_needs_a_concrete_example():
    assert not has_evidence("She helped when asked, and may do more.")
    assert not has_evidence("Scored 4 this time.")
    assert has_evidence("She cut the build from 18 to 7 minutes.")
    assert has_evidence("In Q3 she wrote the RFC.")
    assert has_evidence("During the incident she kept notes.")
