"""Upward feedback in aggregate: the only shape in which it ever leaves the package.

Pure: takes the answers' ratings and answers to the cycle's upward template
(which carry no author) and the cycle's threshold; returns what may be shown.
Below the threshold nothing is shown, not even the count; a competency or a
question that fewer than the threshold answered shows no figure and no count;
a competency's spread is given only in three bands (1-2, 3, 4-5), and a
question's count per option or step, only from SPREAD_MINIMUM answers on, so
that no one report's answer can be picked out of it; free text is shown sorted,
so its order says nothing about who wrote it or when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviews.review_templates.definition import CANT_JUDGE, Question

# The framework's management competencies that direct reports can judge.
UPWARD_COMPETENCIES = (
    "people-management",
    "coaching-and-mentorship",
    "communication-and-listening",
    "emotional-intelligence",
)


# A spread shows from this many answers on (and never below the cycle's threshold).
SPREAD_MINIMUM = 5
# Upward feedback is never attributable: whatever a cycle's threshold for peers (a cycle
# naming its peers may set 1), its upward results need at least this many answers.
UPWARD_MINIMUM = 3
BANDS = ("1-2", "3", "4-5")


@dataclass(frozen=True)
class CompetencyAggregate:
    key: str
    name: str
    responses: int | None  # None below the threshold: the count is withheld too
    mean: float | None
    # how many answers were 1-2, 3 and 4-5; None below SPREAD_MINIMUM answers
    bands: tuple[int, int, int] | None


@dataclass(frozen=True)
class QuestionAggregate:
    """One question of the cycle's upward template, as a reader may see it."""

    key: str
    label: str
    kind: str
    # how many answered it; None below the threshold (nothing else is shown then)
    responses: int | None
    mean: float | None = None  # a scale's mean step, can't-judge left out
    # (answer as read, how many) per option or step: None below SPREAD_MINIMUM answers
    tallies: tuple[tuple[str, int], ...] | None = None
    texts: tuple[str, ...] = ()  # free text, sorted
    steps: int = 0  # a scale's top step

    def as_json(self) -> dict[str, Any]:
        """The one serialisation, for the API and the personal-data export."""
        doc: dict[str, Any] = {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "responses": self.responses,
        }
        if self.kind == "text":
            doc["texts"] = list(self.texts)
        elif self.responses is not None:
            doc["counts"] = [[label, n] for label, n in self.tallies] if self.tallies else None
            if self.kind == "scale":
                doc["mean"] = self.mean
                doc["steps"] = self.steps
        return doc


@dataclass(frozen=True)
class UpwardSummary:
    manager_id: int
    threshold: int
    # False: collecting still, or too few answers; then nothing else is filled in.
    shown: bool
    closed: bool
    responses: int | None = None
    competencies: list[CompetencyAggregate] = field(default_factory=list)
    questions: list[QuestionAggregate] = field(default_factory=list)

    @property
    def comments(self) -> list[str]:
        """Every free-text answer shown, sorted: order says nothing of who or when."""
        return sorted(t for q in self.questions for t in q.texts)


Answer = tuple[Mapping[str, int], Mapping[str, Any]]  # ratings, answers by question key


def _question(q: Question, values: list[Any], threshold: int) -> QuestionAggregate:
    if q.kind == "text":
        # every text shows once the results do (as comments always did): the count is
        # theirs, which the texts tell anyway
        texts = tuple(sorted(v.strip() for v in values if isinstance(v, str) and v.strip()))
        return QuestionAggregate(q.key, q.label, q.kind, len(texts), texts=texts)
    if len(values) < threshold:
        return QuestionAggregate(q.key, q.label, q.kind, None)
    mean = None
    counted = len(values)
    if q.kind == "scale":
        numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        # "can't judge" answers count towards the question, not its figures: an average
        # or a count per step of fewer steps could be one report's answer
        mean = round(sum(numbers) / len(numbers), 2) if len(numbers) >= threshold else None
        counted = len(numbers)
    tallies = None
    if counted >= max(threshold, SPREAD_MINIMUM):
        chosen = [v for value in values for v in (value if isinstance(value, list) else [value])]
        if q.kind == "yes_no":
            keys: list[Any] = [True, False]
        else:
            keys = [o.key if q.kind != "scale" else int(o.key) for o in q.options]
            if q.kind == "scale" and q.cant_judge:
                keys.append(CANT_JUDGE)
        # one option of a multiple choice is read as a single choice's would be
        read = q.option_label if q.kind == "choices" else q.as_text
        tallies = tuple((read(k), chosen.count(k)) for k in keys)
    steps = len(q.options) if q.kind == "scale" else 0
    return QuestionAggregate(q.key, q.label, q.kind, len(values), mean, tallies, steps=steps)


def summarise(
    manager_id: int,
    answers: Sequence[Answer],
    competencies: Sequence[tuple[str, str]],
    questions: Sequence[Question],
    *,
    threshold: int,
    closed: bool,
) -> UpwardSummary:
    """`competencies` are (key, name) pairs in display order; `questions` the upward
    template's questions the reader may read (`answers.audiences_for`), in its order."""
    if not closed or len(answers) < max(threshold, 1):
        return UpwardSummary(manager_id, threshold, shown=False, closed=closed)
    rows = []
    for key, name in competencies:
        values = [r[key] for r, _ in answers if r.get(key) in (1, 2, 3, 4, 5)]
        if len(values) < threshold:
            rows.append(CompetencyAggregate(key, name, None, None, None))
            continue
        bands = None
        if len(values) >= max(threshold, SPREAD_MINIMUM):
            bands = (
                sum(1 for v in values if v <= 2),
                values.count(3),
                sum(1 for v in values if v >= 4),
            )
        rows.append(
            CompetencyAggregate(key, name, len(values), round(sum(values) / len(values), 2), bands)
        )
    return UpwardSummary(
        manager_id,
        threshold,
        shown=True,
        closed=True,
        responses=len(answers),
        competencies=rows,
        questions=[
            _question(q, [a[q.key] for _, a in answers if q.key in a], threshold) for q in questions
        ],
    )
