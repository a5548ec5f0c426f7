"""Every permission rule, in one place.

Views declare the rule that guards them with one of the decorators below;
the authorization test walks the URL map and fails on any view without one.
Templates use the same predicates to show only permitted actions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from reviews.people.models import Person, Role

F = TypeVar("F", bound=Callable[..., Any])


def is_hr(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role == Role.HR


def can_manage_people(user: Any) -> bool:
    return is_hr(user)


def can_edit_framework(user: Any) -> bool:
    return is_hr(user)


def can_view_directory(user: Any) -> bool:
    """Everyone signed in sees the directory and org chart (names, roles, lines)."""
    return bool(getattr(user, "is_authenticated", False))


def can_see_account_details(user: Any, person: Person) -> bool:
    """Sign-in state, role and audit trail of an account: HR, or the person."""
    return is_hr(user) or (getattr(user, "id", None) == person.id)


def _mark(view: Any, rule: str) -> None:
    view.access_rule = rule


def public(view: F) -> F:
    """Reachable without signing in (sign-in page, health check)."""
    _mark(view, "public")
    return view


def signed_in(view: F) -> F:
    wrapped = login_required(view)
    _mark(wrapped, "signed_in")
    return wrapped  # type: ignore[no-any-return]


def hr_only(view: F) -> F:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not is_hr(current_user):
            abort(403)
        return view(*args, **kwargs)

    wrapped = login_required(guarded)
    _mark(wrapped, "hr")
    return wrapped  # type: ignore[no-any-return]


# Reviews -----------------------------------------------------------------


def review_relations(user: Any, review: Any) -> set[str]:
    """How `user` stands to a review: subject, manager (direct), skip (further up), hr."""
    from reviews.people.queries import is_below

    if not getattr(user, "is_authenticated", False):
        return set()
    if user.id == review.subject_id:
        # On their own review everyone is only its subject, HR admins included.
        return {"subject"}
    relations = set()
    if review.manager_id is not None:
        if user.id == review.manager_id:
            relations.add("manager")
        elif is_below(review.manager_id, user.id):
            relations.add("skip")
    if is_hr(user):
        relations.add("hr")
    return relations


def can_view_review(user: Any, review: Any) -> bool:
    """The subject, managers up the frozen line, and HR. Peers see only their own request."""
    return bool(review_relations(user, review))


def can_write_manager_part(user: Any, review: Any) -> bool:
    return getattr(user, "id", None) is not None and user.id == review.manager_id


def can_decide_nominations(user: Any, review: Any) -> bool:
    if getattr(user, "id", None) == review.subject_id:
        return False
    return can_write_manager_part(user, review) or is_hr(user)


def can_nominate(user: Any, review: Any) -> bool:
    return bool(getattr(user, "id", None) == review.subject_id)


def can_view_nominations(user: Any, review: Any) -> bool:
    """Who was asked for peer feedback: the person, who nominates; their direct manager
    and HR, who decide; managers further up, who read."""
    relations = review_relations(user, review)
    return bool(relations & {"subject", "manager", "skip", "hr"})


def can_reopen_part(user: Any, review: Any) -> bool:
    """HR reopens a submitted part; never a part of their own review."""
    return is_hr(user) and getattr(user, "id", None) != review.subject_id


def manages_in_cycle(user: Any, cycle: Any) -> bool:
    """`user` is the frozen manager of at least one review of the cycle."""
    from sqlalchemy import select

    from reviews.cycles.models import Review
    from reviews.extensions import db

    uid = getattr(user, "id", None)
    if uid is None:
        return False
    found = db.session.scalar(
        select(Review.id).where(Review.cycle_id == cycle.id, Review.manager_id == uid).limit(1)
    )
    return found is not None


def can_export_org(user: Any, cycle: Any) -> bool:
    """HR exports a whole cycle; a manager of someone in it, their own org."""
    return is_hr(user) or manages_in_cycle(user, cycle)


def can_run_cycles(user: Any) -> bool:
    return is_hr(user)


def can_write_self_part(user: Any, review: Any) -> bool:
    return getattr(user, "id", None) is not None and user.id == review.subject_id


def can_acknowledge(user: Any, review: Any) -> bool:
    """Only the person reviewed acknowledges their released review."""
    return can_write_self_part(user, review)


def can_calibrate(user: Any, session: Any) -> bool:
    """HR, and the managers a session lets calibrate (never on their own review)."""
    if is_hr(user):
        return True
    from reviews.calibration.operations import calibrator_ids

    return getattr(user, "id", None) in calibrator_ids(session)


def can_calibrate_review(user: Any, session: Any, review: Any) -> bool:
    return getattr(user, "id", None) != review.subject_id and can_calibrate(user, session)


# Between cycles: continuous feedback, goals, upward feedback -------------------


def is_in_line_above(user: Any, person: Any) -> bool:
    """`user` is somewhere up `person`'s current reporting line."""
    from reviews.people.queries import is_below

    uid = getattr(user, "id", None)
    if uid is None or not getattr(user, "is_authenticated", False) or uid == person.id:
        return False
    if person.manager_id == uid:
        return True
    return person.manager_id is not None and is_below(person.id, uid)


def can_give_feedback(user: Any, recipient: Any) -> bool:
    """Anyone signed in, to any active colleague but themselves."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and recipient.active
        and user.id != recipient.id
    )


def can_view_reviews_of(user: Any, person: Any) -> bool:
    """The Reviews tab of a profile: HR and the managers up the person's line. Each review
    on it is listed only to those with a relation to it (`review_relations`: the line
    frozen at the cycle's launch, and HR)."""
    return is_hr(user) or is_in_line_above(user, person)


def can_view_feedback_timeline(user: Any, person: Any) -> bool:
    """The person and their managers up the line (each sees what its visibility allows)."""
    return getattr(user, "id", None) == person.id or is_in_line_above(user, person)


def can_view_goals(user: Any, person: Any) -> bool:
    """The person and their managers up the line."""
    return getattr(user, "id", None) == person.id or is_in_line_above(user, person)


def can_edit_goal(user: Any, goal: Any) -> bool:
    """The owner, and their direct manager (who agrees goals with them)."""
    uid = getattr(user, "id", None)
    return uid is not None and uid in (goal.owner_id, goal.owner.manager_id)


def can_check_in(user: Any, goal: Any) -> bool:
    return bool(getattr(user, "id", None) == goal.owner_id)


def can_comment_on_goal(user: Any, goal: Any) -> bool:
    """Managers up the owner's line comment on goals and check-ins."""
    return is_in_line_above(user, goal.owner)


def can_view_upward_summary(user: Any, manager: Any) -> bool:
    """The manager, their managers up the line and HR: aggregates only, never authors."""
    return getattr(user, "id", None) == manager.id or is_in_line_above(user, manager) or is_hr(user)


def can_set_goals(user: Any, person: Any) -> bool:
    """A person sets their own goals; their direct manager may set them with them."""
    uid = getattr(user, "id", None)
    return uid is not None and person.active and uid in (person.id, person.manager_id)
