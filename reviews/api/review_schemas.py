"""The JSON shapes of a review and its parts: what `api/reviews.py` reads and writes.

Apart from `schemas` (cycles, requests and what they share): a review's document is
the API's widest, and its part's fields follow the cycle's review templates.
"""

from __future__ import annotations

from typing import Any

from reviews.api.schemas import (
    ID,
    IN_ID,
    REQUEST,
    REVIEW_SUMMARY,
    TEMPLATE_DOCUMENT,
    iso,
    request_json,
    review_summary,
)
from reviews.cycles.parts import POTENTIAL, READINESS
from reviews.cycles.reading import PartView, ReviewReading

PART_BODY = {
    "type": "object",
    "properties": {
        "ratings": {
            "type": "object",
            "description": "Merged key by key into the saved ratings; null removes one",
            "additionalProperties": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        },
        "comments": {
            "type": "object",
            "description": "Merged key by key into the saved comments; null removes one",
            "additionalProperties": {"type": ["string", "null"]},
        },
        "answers": {
            "type": "object",
            "description": "Answers by question key of the cycle's template for this part, "
            "merged key by key into the saved ones; null removes one. Free text and single "
            'choice are a string (an option key), a scale a step number (or "cant_judge"), '
            "multiple choice a list of option keys, yes/no a boolean; each is checked "
            "against its question (422 names answers.<key>)",
            "additionalProperties": {
                "type": ["string", "integer", "boolean", "array", "null"],
                "items": {"type": "string"},
            },
        },
        "desired_level": {"type": ["string", "null"]},
        "overall": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "potential": {"enum": [*POTENTIAL, None]},
        "readiness": {"enum": [*READINESS, None]},
        "evidence": {
            "type": "object",
            "description": "Self and manager parts: per competency (replacing that "
            "competency's saved citations), the evidence its rating "
            'cites: {"kind": "feedback"|"goal"|"checkin", "id": N} (what the writer may '
            'read from the period) or one {"kind": "link", "url", "title"}',
            "additionalProperties": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["kind", "id"],
                            "properties": {
                                "kind": {"enum": ["feedback", "goal", "checkin"]},
                                "id": IN_ID,
                            },
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "required": ["kind", "url", "title"],
                            "properties": {
                                "kind": {"const": "link"},
                                "url": {"type": "string", "maxLength": 500},
                                "title": {"type": "string", "maxLength": 200},
                            },
                            "additionalProperties": False,
                        },
                    ]
                },
            },
        },
        "version": IN_ID,
    },
    "additionalProperties": False,
}
PART = {
    "type": "object",
    "required": ["id", "kind", "state", "version", "ratings", "comments", "answers"],
    "properties": {
        "questions": {
            **TEMPLATE_DOCUMENT,
            "description": "For the part's author: the template the answers follow",
        },
        "id": ID,
        "review_id": ID,
        "kind": {"type": "string", "enum": ["self", "peer", "manager"]},
        "state": {"type": "string", "enum": ["draft", "submitted"]},
        "version": ID,
        "ratings": {"type": "object", "additionalProperties": ID},
        "comments": {"type": "object", "additionalProperties": {"type": "string"}},
        "answers": {
            "type": "object",
            "description": "By question key: only the answers the caller may read",
            "additionalProperties": {
                "type": ["string", "integer", "boolean", "array"],
                "items": {"type": "string"},
            },
        },
        "desired_level": {"type": ["string", "null"]},
        "overall": {"type": ["integer", "null"]},
        "potential": {"type": ["string", "null"]},
        "readiness": {"type": ["string", "null"]},
        "submitted_at": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]},
        "evidence": {"type": ["object", "null"]},
        "ratings_are_final": {
            "type": "boolean",
            "description": "For the person reviewed: `ratings` are the calibrated final values",
        },
        "locked": {"type": ["string", "null"], "description": "Why it cannot be written now"},
    },
}
PEER_ENTRY = {
    "type": "object",
    "required": ["ratings", "comments", "answers"],
    "properties": {
        "author_name": {"type": ["string", "null"]},
        "ratings": {"type": "object"},
        "comments": {"type": "object"},
        "answers": {"type": "object"},
        "submitted_on": {"type": ["string", "null"]},
    },
}
REVIEW = {
    "type": "object",
    "required": ["id", "relations", "self", "manager", "peers", "requests", "result"],
    "properties": {
        **REVIEW_SUMMARY["properties"],
        "relations": {"type": "array", "items": {"type": "string"}},
        "self": {"oneOf": [PART, {"type": "null"}]},
        "manager": {"oneOf": [PART, {"type": "null"}]},
        "peers": {
            "type": "object",
            "required": ["submitted", "entries"],
            "properties": {
                "submitted": ID,
                "withheld": {"type": ["string", "null"]},
                "entries": {"type": "array", "items": PEER_ENTRY},
                "averages": {"type": "object"},
                "tallies": {
                    "type": "object",
                    "description": "Chosen peer answers counted together by question key "
                    "(answer -> how many, and n answering), where the reader may not know "
                    "the peers: from the anonymity threshold up",
                },
            },
        },
        "requests": {"type": "array", "items": REQUEST},
        "result": {
            "type": ["object", "null"],
            "properties": {
                "final_rating": {"type": ["integer", "null"]},
                "final_potential": {"type": ["string", "null"]},
                "final_ratings": {"type": ["object", "null"]},
                "final_version": ID,
                "locked": {"type": "boolean"},
            },
        },
        "acknowledged_at": {"type": ["string", "null"]},
        "acknowledgement_comment": {"type": ["string", "null"]},
    },
}


def part_json(part: PartView) -> dict[str, Any]:
    return {
        "id": part.id,
        "review_id": part.review_id,
        "kind": part.kind.value,
        "state": part.state.value,
        "version": part.version,
        "ratings": dict(part.ratings),
        "comments": dict(part.comments),
        "answers": dict(part.answers),
        "desired_level": part.desired_level,
        "overall": part.overall,
        "potential": part.potential.value if part.potential else None,
        "readiness": part.readiness.value if part.readiness else None,
        "submitted_at": iso(part.submitted_at),
        "updated_at": iso(part.updated_at),
        "evidence": part.evidence,
        "ratings_are_final": part.ratings_are_final,
    }


def review_json(reading: ReviewReading) -> dict[str, Any]:
    review, peers, result = reading.review, reading.peers, reading.result
    return {
        **review_summary(review),
        "relations": sorted(reading.relations),
        "self": part_json(reading.self_part) if reading.self_part else None,
        "manager": part_json(reading.manager_part) if reading.manager_part else None,
        "peers": {
            "submitted": peers.submitted,
            "withheld": peers.withheld,
            "entries": [
                {
                    "author_name": e.author_name,
                    "ratings": e.ratings,
                    "comments": e.comments,
                    "answers": e.answers,
                    "submitted_on": iso(e.submitted_on),
                }
                for e in peers.entries
            ],
            "averages": {k: {"mean": m, "n": n} for k, (m, n) in peers.averages.items()},
            "tallies": {k: {"counts": counts, "n": n} for k, (counts, n) in peers.tallies.items()},
        },
        "requests": [request_json(r) for r in reading.requests],
        "result": {
            "final_rating": result.final_rating,
            "final_potential": result.final_potential.value if result.final_potential else None,
            "final_ratings": result.final_ratings,
            "final_version": result.final_version,
            "locked": result.locked,
        }
        if result
        else None,
        "acknowledged_at": iso(reading.acknowledged_at),
        "acknowledgement_comment": reading.acknowledgement_comment,
    }
