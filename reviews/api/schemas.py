"""The API's JSON: request-body schemas (also what `/api/v1/openapi.json` shows) and the
one serialisation of each resource, apart from the views that use them.

A review's and its parts' are in `review_schemas`, where `review_json` turns a
`cycles.reading.ReviewReading` into JSON and decides nothing: what a caller may read
was settled by the read model, as for the page and the PDF.
"""

from __future__ import annotations

from typing import Any

from reviews.cycles.inputs import MAX_GUIDANCE_TOLERANCE, cycle_warnings
from reviews.cycles.models import Cycle, ParticipantMode, PeerRequest, RequestState, Review
from reviews.cycles.workflow import CycleState
from reviews.review_templates.definition import PARTS as TEMPLATE_PARTS

ID = {"type": "integer"}
# Ids and versions sent in: what the databases hold (a 32-bit integer).
IN_ID = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
DATE = {"type": "string", "format": "date"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
STATES = [s.value for s in CycleState]

CYCLE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 120},
    "period_start": DATE,
    "period_end": DATE,
    "participant_mode": {"type": "string", "enum": [m.value for m in ParticipantMode]},
    "department_ids": {"type": "array", "items": IN_ID, "maxItems": 1000},
    "participant_emails": {
        "type": "array",
        "items": {"type": "string", "maxLength": 254},
        "maxItems": 100000,
    },
    "self_review_due": NULLABLE_DATE,
    "peer_feedback_due": NULLABLE_DATE,
    "manager_review_due": NULLABLE_DATE,
    "calibration_due": NULLABLE_DATE,
    "peer_min": {"type": "integer", "minimum": 0, "maximum": 20},
    "peer_max": {"type": "integer", "minimum": 1, "maximum": 20},
    "peer_anonymous": {"type": "boolean"},
    "anonymity_threshold": {"type": "integer", "minimum": 1, "maximum": 20},
    "peer_names_to_managers": {"type": "boolean"},
    "reviewer_load_cap": {"type": "integer", "minimum": 1, "maximum": 50},
    "guidance": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 100},
        "minItems": 5,
        "maxItems": 5,
    },
    "upward_feedback": {"type": "boolean"},
    "guidance_tolerance": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_GUIDANCE_TOLERANCE,
        "description": "Percentage points either side of each guidance share that "
        "calibration accepts (default 5)",
    },
    **{
        f"{part}_template": {
            "type": ["integer", "null"],
            "description": f"The review template the {part} part asks (its id; null: the "
            "built-in questions). Frozen into the cycle at launch",
        }
        for part in TEMPLATE_PARTS
    },
}
CYCLE_CREATE = {
    "type": "object",
    "required": ["name", "period_start", "period_end"],
    "properties": CYCLE_FIELDS,
    "additionalProperties": False,
}
CYCLE_UPDATE = {
    "type": "object",
    "properties": {**CYCLE_FIELDS, "version": IN_ID},
    "additionalProperties": False,
}
CYCLE = {
    "type": "object",
    "required": ["id", "name", "state", "version"],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "version": ID,
        "period_start": DATE,
        "period_end": DATE,
        "participant_mode": {"type": "string"},
        "department_ids": {"type": "array", "items": ID},
        "participant_ids": {"type": "array", "items": ID},
        "self_review_due": NULLABLE_DATE,
        "peer_feedback_due": NULLABLE_DATE,
        "manager_review_due": NULLABLE_DATE,
        "calibration_due": NULLABLE_DATE,
        "peer_min": ID,
        "peer_max": ID,
        "peer_anonymous": {"type": "boolean"},
        "anonymity_threshold": ID,
        "peer_names_to_managers": {"type": "boolean"},
        "reviewer_load_cap": ID,
        "guidance": {"type": "array", "items": ID},
        "guidance_tolerance": ID,
        "upward_feedback": {"type": "boolean"},
        "launched_at": {"type": ["string", "null"]},
        "warnings": {
            "type": "array",
            "description": "Settings that are allowed but probably not meant",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROGRESS = {
    "type": "object",
    "required": ["cycle_id", "state", "total", "departments"],
    "properties": {
        "cycle_id": ID,
        "state": {"type": "string"},
        "total": {"type": "object"},
        "departments": {"type": "array", "items": {"type": "object"}},
    },
}
ADVANCE = {
    "type": "object",
    "required": ["target"],
    "properties": {"target": {"type": "string", "enum": STATES}},
    "additionalProperties": False,
}
TEMPLATE_DOCUMENT = {
    "type": "object",
    "description": "A review template: its sections and their questions (key, kind: text, "
    "scale, choice, choices or yes_no; label, help, required, audience: part, line or hr; "
    "options or steps)",
    "required": ["name", "part", "sections"],
    "properties": {
        "name": {"type": "string"},
        "part": {"type": "string", "enum": list(TEMPLATE_PARTS)},
        "sections": {"type": "array", "items": {"type": "object"}},
        "labels": {"type": "object"},
    },
}
TEMPLATES = {
    "type": "object",
    "description": "What each part of the cycle asks: frozen at launch, else as chosen now",
    "required": list(TEMPLATE_PARTS),
    "properties": {
        part: {
            "type": "object",
            "required": ["template_id", "document"],
            "properties": {
                "template_id": {"type": ["integer", "null"]},
                "document": TEMPLATE_DOCUMENT,
            },
        }
        for part in TEMPLATE_PARTS
    },
}
REVIEW_SUMMARY = {
    "type": "object",
    "required": ["id", "cycle_id", "subject_id", "subject_name"],
    "properties": {
        "id": ID,
        "cycle_id": ID,
        "cycle_name": {"type": "string"},
        "cycle_state": {"type": "string"},
        "subject_id": ID,
        "subject_name": {"type": "string"},
        "manager_id": {"type": ["integer", "null"]},
        "level": {"type": ["string", "null"]},
        "acknowledged": {"type": "boolean"},
    },
}
REQUEST = {
    "type": "object",
    "required": ["id", "review_id", "reviewer", "state"],
    "properties": {
        "id": ID,
        "review_id": ID,
        "reviewer": {
            "type": "object",
            "properties": {"id": ID, "name": {"type": "string"}, "email": {"type": "string"}},
        },
        "state": {"type": "string", "enum": [s.value for s in RequestState]},
        "decline_reason": {"type": ["string", "null"]},
    },
}
NOMINATIONS = {
    "type": "object",
    "required": ["review_id", "requests", "can_nominate", "can_decide"],
    "properties": {
        "review_id": ID,
        "can_nominate": {"type": "boolean"},
        "can_decide": {"type": "boolean"},
        "peer_min": ID,
        "peer_max": ID,
        "requests": {
            "type": "array",
            "items": {
                **REQUEST,
                "properties": {
                    **REQUEST["properties"],
                    "reviewer_load": ID,
                    "reciprocal": {"type": "boolean"},
                    "over_load_cap": {"type": "boolean"},
                },
            },
        },
    },
}
NOMINATE = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "minLength": 3, "maxLength": 254}},
    "additionalProperties": False,
}
DECLINE = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
    "additionalProperties": False,
}
INBOX_ITEM = {
    "type": "object",
    "required": ["id", "review_id", "subject_name", "state"],
    "properties": {
        "id": ID,
        "review_id": ID,
        "cycle_id": ID,
        "cycle_name": {"type": "string"},
        "subject_name": {"type": "string"},
        "state": {"type": "string"},
        "feedback_state": {"type": ["string", "null"]},
        "due": NULLABLE_DATE,
    },
}


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def cycle_json(c: Cycle) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "state": c.state.value,
        "version": c.version,
        "period_start": c.period_start.isoformat(),
        "period_end": c.period_end.isoformat(),
        "participant_mode": c.participant_mode.value,
        "department_ids": [d.id for d in c.departments],
        "participant_ids": [p.id for p in c.participants],
        "self_review_due": iso(c.self_review_due),
        "peer_feedback_due": iso(c.peer_feedback_due),
        "manager_review_due": iso(c.manager_review_due),
        "calibration_due": iso(c.calibration_due),
        "peer_min": c.peer_min,
        "peer_max": c.peer_max,
        "peer_anonymous": c.peer_anonymous,
        "anonymity_threshold": c.anonymity_threshold,
        "peer_names_to_managers": c.peer_names_to_managers,
        "reviewer_load_cap": c.reviewer_load_cap,
        "guidance": list(c.guidance),
        "guidance_tolerance": c.guidance_tolerance,
        "upward_feedback": c.upward_feedback,
        "launched_at": iso(c.launched_at),
        "warnings": [{"field": f, "message": m} for f, m in cycle_warnings(c)],
    }


def review_summary(r: Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "cycle_id": r.cycle_id,
        "cycle_name": r.cycle.name,
        "cycle_state": r.cycle.state.value,
        "subject_id": r.subject_id,
        "subject_name": r.subject.name,
        "manager_id": r.manager_id,
        "level": r.level_key,
        "acknowledged": r.acknowledged_at is not None,
    }


def request_json(r: PeerRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "review_id": r.review_id,
        "reviewer": {"id": r.reviewer.id, "name": r.reviewer.name, "email": r.reviewer.email},
        "state": r.state.value,
        "decline_reason": r.decline_reason,
    }
