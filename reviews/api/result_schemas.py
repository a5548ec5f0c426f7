"""The JSON of calibration, acknowledgements, growth plans and the audit log: request
schemas (as `/api/v1/openapi.json` shows them) and serialisations, apart from the views."""

from __future__ import annotations

from typing import Any

from reviews.api.schemas import ID, IN_ID, iso
from reviews.calibration.models import CalibrationSession, GroupKind, SessionState
from reviews.cycles.parts import POTENTIAL

SESSION = {
    "type": "object",
    "required": ["id", "cycle_id", "name", "state"],
    "properties": {
        "id": ID,
        "cycle_id": ID,
        "name": {"type": "string"},
        "group_kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "state": {"type": "string", "enum": [s.value for s in SessionState]},
        "managers_calibrate": {"type": "boolean"},
        "finished_at": {"type": ["string", "null"]},
    },
}
SESSIONS = {
    "type": "object",
    "required": ["cycle_id", "sessions"],
    "properties": {
        "cycle_id": ID,
        "sessions": {"type": "array", "items": SESSION},
        "uncalibrated": {"type": ["integer", "null"]},
    },
}
OPEN_SESSION = {
    "type": "object",
    "required": ["group_kind"],
    "properties": {
        "group_kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "department_id": IN_ID,
        "manager_email": {
            "type": "string",
            "maxLength": 254,
            "description": "The manager of the org: an email, or a full name shared by nobody else",
        },
        "managers_calibrate": {"type": "boolean"},
    },
    "additionalProperties": False,
}
ROW = {
    "type": "object",
    "required": ["review_id", "name", "final_version"],
    "properties": {
        "review_id": ID,
        "subject_id": ID,
        "name": {"type": "string"},
        "manager_id": {"type": ["integer", "null"]},
        "manager_name": {"type": "string"},
        "department": {"type": "string"},
        "level": {"type": ["string", "null"]},
        "self_average": {"type": ["number", "null"]},
        "peer_average": {
            "type": ["number", "null"],
            "description": "null also where it would rest on fewer peers than the cycle's "
            "anonymity threshold and the caller may not know the authors",
        },
        "peer_count": {"type": ["integer", "null"]},
        "manager_ratings": {"type": "object"},
        "manager_overall": {"type": ["integer", "null"]},
        "potential": {"type": ["string", "null"]},
        "readiness": {"type": ["string", "null"]},
        "suggestion": {"type": ["integer", "null"]},
        "suggestion_reason": {"type": ["string", "null"]},
        "self_manager_gap": {"type": ["number", "null"]},
        "final_rating": {"type": ["integer", "null"]},
        "final_potential": {"type": ["string", "null"]},
        "final_ratings": {"type": ["object", "null"]},
        "final_version": ID,
        "changes": ID,
    },
}
SESSION_VIEW = {
    "type": "object",
    "required": ["session", "people", "distribution", "raters"],
    "properties": {
        "session": SESSION,
        "people": {"type": "array", "items": ROW},
        "distribution": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rating": ID,
                    "count": ID,
                    "share": {"type": "number"},
                    "guidance": {"type": "number", "description": "guidance share, 0..1"},
                    "outside_band": {"type": "boolean"},
                },
            },
        },
        "raters": {"type": "array", "items": {"type": "object"}},
        "ledger": {"type": "array", "items": {"type": "object"}},
    },
}
CHANGE = {
    "type": "object",
    "required": ["rationale"],
    "properties": {
        "overall": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "potential": {"enum": [*POTENTIAL, None]},
        "ratings": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "rationale": {"type": "string", "maxLength": 5000},
        "version": IN_ID,
    },
    "additionalProperties": False,
}
ACKNOWLEDGE = {
    "type": "object",
    "properties": {"comment": {"type": "string", "maxLength": 5000}},
    "additionalProperties": False,
}
PLAN = {
    "type": "object",
    "required": ["review_id", "version", "target_level", "focus", "items"],
    "properties": {
        "review_id": ID,
        "version": ID,
        "mode": {"type": "string"},
        "level": {"type": ["string", "null"]},
        "target_level": {"type": "string"},
        "focus": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
        "employee_comment": {"type": "string"},
        "manager_agreed_at": {"type": ["string", "null"]},
        "employee_agreed_at": {"type": ["string", "null"]},
        "competencies": {"type": "array", "items": {"type": "object"}},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
AGREE = {
    "type": "object",
    "properties": {"version": IN_ID},
    "additionalProperties": False,
}
AUDIT_EVENT = {
    "type": "object",
    "required": ["id", "at", "event"],
    "properties": {
        "id": ID,
        "at": {"type": "string"},
        "event": {"type": "string"},
        "actor": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"]},
        "cycle_id": {"type": ["integer", "null"]},
        "details": {"type": "object"},
    },
}


def session_json(s: CalibrationSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "cycle_id": s.cycle_id,
        "name": s.name,
        "group_kind": s.group_kind.value,
        "state": s.state.value,
        "managers_calibrate": s.managers_calibrate,
        "finished_at": iso(s.finished_at),
    }
