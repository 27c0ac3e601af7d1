"""Policies v2: the rules of Create, Get, Update, Delete, Query and Reorder Event
Policies, and the domain events (`wix.events.v2.policy_created/updated/deleted`) each
writes to the outbox in the caller's unit."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import ordering, outbox
from .. import query as q
from ..db import lock, now
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..events import service as events
from ..events.models import Event, EventState
from ..identity import Permission, Principal
from . import wire
from .models import MAX_PER_EVENT, Policy, PolicyText
from .schemas import CreatePolicyRequest, ReorderEventPoliciesRequest, UpdatePolicyRequest

FQDN = "wix.events.v2.policy"




def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"Policy {policy_id} not found", code="POLICY_NOT_FOUND")


# --- reading -------------------------------------------------------------------


def _visible(principal: Principal) -> Any:
    """Policies the caller may read: its site's; without "Manage Events" (visitors,
    members, read-only keys) only those of events that are not drafts."""
    stmt = select(Policy).where(Policy.site_id == principal.site_id)
    if not principal.can(Permission.MANAGE_EVENTS):
        stmt = stmt.join(Event, Event.id == Policy.event_id).where(Event.state != EventState.DRAFT)
    return stmt


def get(session: Session, principal: Principal, policy_id: str) -> Policy:
    p = session.scalars(_visible(principal).where(Policy.id == policy_id)).first()
    if p is None:
        raise _not_found(policy_id)
    return p


QUERY = q.Spec(
    fields=[
        q.field("id", Policy.id, "string", nullable=False, aliases=("_id",)),
        q.field("revision", Policy.revision, "int", nullable=False),
        q.field("createdDate", Policy.created_date, "datetime", nullable=False, aliases=("_createdDate",)),
        q.field("updatedDate", Policy.updated_date, "datetime", nullable=False, aliases=("_updatedDate",)),
        q.field("name", Policy.name, "string", nullable=False),
        q.field("body", Policy.body, "string", nullable=False),
        q.field("eventId", Policy.event_id, "string", nullable=False),
        # Boxoffice extension: the organiser's order within an event (Reorder Event Policies).
        q.field("sortIndex", Policy.sort_index, "int", nullable=False),
    ],
    id_expr=Policy.id,
    # Wix: "By default, the policies are arranged by the created date in descending order."
    default_sort=[{"fieldName": "createdDate", "order": "DESC"}],
    max_limit=100,
    default_limit=100,
)


def query(session: Session, principal: Principal, raw: dict[str, Any] | None, secret: bytes) -> q.Page:
    return q.run_query(
        session, QUERY, _visible(principal), raw, q.Ctx(now=now()), secret=secret, scope=f"policies:{principal.site_id}"
    )


def of_event(session: Session, event_id: str, for_update: bool = False) -> list[Policy]:
    """An event's policies in the organiser's order (what the checkout shows)."""
    stmt = select(Policy).where(Policy.event_id == event_id).order_by(Policy.sort_index, Policy.created_date.desc(), Policy.id)
    return list(session.scalars(stmt.with_for_update() if for_update else stmt))



def agreement(session: Session, event_id: str) -> list[dict[str, str]]:
    """What a buyer agrees to by checking out: the event's policies now, in the order shown,
    by id and revision (the words stay in ``policy_texts``)."""
    return [{"policyId": p.id, "revision": str(p.revision), "name": p.name} for p in of_event(session, event_id)]


def agreed_texts(session: Session, site_id: str, agreed: list[dict[str, str]]) -> list[dict[str, str]]:
    """The words of the revisions an order agreed to, in the order they were shown."""
    texts: dict[str, list[PolicyText]] = {}
    for t in session.scalars(
        select(PolicyText)
        .where(PolicyText.site_id == site_id, PolicyText.policy_id.in_({a["policyId"] for a in agreed}))
        .order_by(PolicyText.revision)
    ):
        texts.setdefault(t.policy_id, []).append(t)
    out = []
    for a in agreed:
        # the words of that revision: the last copy kept at or before it
        kept = [t for t in texts.get(a["policyId"], []) if t.revision <= int(a["revision"])]
        out.append({**a, "body": kept[-1].body if kept else ""})
    return out


# --- writing -------------------------------------------------------------------


def _emit(
    session: Session, principal: Principal, p: Policy, slug: str, body: dict[str, Any], new_words: bool = True
) -> None:
    if slug != "deleted" and new_words:  # this revision's words, for the orders that agree to it
        session.add(PolicyText(site_id=p.site_id, policy_id=p.id, revision=p.revision, name=p.name, body=p.body, created_date=p.updated_date))
    p.event_seq += 1
    outbox.record(
        session,
        site_id=p.site_id,
        identity=principal.webhook_identity(),
        entity_fqdn=FQDN,
        slug=slug,
        entity_id=p.id,
        sequence=p.event_seq,
        body=body,
    )


def create(session: Session, principal: Principal, req: CreatePolicyRequest) -> Policy:
    d = req.policy
    for name, wire_name in (("event_id", "eventId"), ("name", "name"), ("body", "body")):
        if not getattr(d, name):
            raise InvalidArgument(f"policy.{wire_name}", "is required", "REQUIRED_FIELD")
    assert d.event_id is not None and d.name is not None and d.body is not None
    # The event row is the serialisation point of its policies (the count, the order).
    event = events.lock_for_update(session, principal.site_id, d.event_id)
    count, first = session.execute(
        select(func.count(), func.min(Policy.sort_index)).where(Policy.event_id == event.id)
    ).one()
    if count >= MAX_PER_EVENT:
        raise FailedPrecondition(
            f"Maximum number of policies for the event has been reached ({MAX_PER_EVENT})",
            code="POLICIES_LIMIT_REACHED",
            data={"limit": MAX_PER_EVENT},
        )
    t = now()
    p = Policy(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        event_id=event.id,
        name=d.name,
        body=d.body,
        revision=1,
        # newest first, as Wix lists an event's policies until they are reordered
        sort_index=(first - 1) if first is not None else 0,
        created_date=t,
        updated_date=t,
        event_seq=0,
    )
    session.add(p)
    session.flush()
    _emit(session, principal, p, "created", wire.created(p))
    return p


def _revision(value: Any) -> int:
    if value is None or value == "":
        raise InvalidArgument("policy.revision", "is required", "REQUIRED_FIELD")
    if isinstance(value, bool):
        raise InvalidArgument("policy.revision", "must be an integer", "FORMAT")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument("policy.revision", "must be an integer", "FORMAT") from None


def _lock(session: Session, principal: Principal, policy_id: str) -> Policy:
    p = lock(session, select(Policy).where(Policy.id == policy_id, Policy.site_id == principal.site_id))
    if p is None:
        raise _not_found(policy_id)
    return p


def update(session: Session, principal: Principal, policy_id: str, req: UpdatePolicyRequest) -> Policy:
    """PATCH: the fields the request carries change (name, body); ``revision`` must be
    the current one (428 REVISION_MISMATCH otherwise); ``eventId`` is immutable."""
    d = req.policy
    if d.id is not None and d.id != policy_id:
        raise InvalidArgument("policy.id", "does not match the path")
    rev = _revision(d.revision)
    p = _lock(session, principal, policy_id)
    if rev != p.revision:
        raise FailedPrecondition(
            f"revision {rev} is stale; the current revision is {p.revision}",
            code="REVISION_MISMATCH",
            data={"currentRevision": str(p.revision)},
        )
    sent = d.model_fields_set
    before = (p.name, p.body)
    if "event_id" in sent and d.event_id is not None and d.event_id != p.event_id:
        raise InvalidArgument("policy.eventId", "cannot change")
    if "name" in sent:
        if not d.name:
            raise InvalidArgument("policy.name", "must not be empty", "MIN_LENGTH")
        p.name = d.name
    if "body" in sent:
        if not d.body:
            raise InvalidArgument("policy.body", "must not be empty", "MIN_LENGTH")
        p.body = d.body
    p.revision += 1
    p.updated_date = now()
    session.flush()
    # an update that changes no word keeps no new copy: its revision reads the last one
    _emit(session, principal, p, "updated", wire.updated(p), new_words=(p.name, p.body) != before)
    return p


def _delete(session: Session, principal: Principal, p: Policy) -> None:
    _emit(session, principal, p, "deleted", wire.deleted(p))
    session.delete(p)


def delete(session: Session, principal: Principal, policy_id: str) -> None:
    _delete(session, principal, _lock(session, principal, policy_id))
    session.flush()


def delete_all_of_event(session: Session, principal: Principal, event: Event) -> None:
    for p in session.scalars(select(Policy).where(Policy.event_id == event.id).order_by(Policy.id).with_for_update()):
        _delete(session, principal, p)
    session.flush()


# Deleting an event deletes its policies, each with its own `policy_deleted` webhook.
def clone_all_of_event(session: Session, principal: Principal, src: Event, copy: Event) -> dict[str, str]:
    """Clone Event: the event's policies again in the copy, in the same order, each with
    its `policy_created` webhook. Policies are not ticket definitions: the id map of
    EventCloned does not list them."""
    t = now()
    for old in of_event(session, src.id):
        p = Policy(
            id=str(uuid.uuid4()), site_id=copy.site_id, event_id=copy.id, name=old.name, body=old.body,
            revision=1, sort_index=old.sort_index, created_date=t, updated_date=t, event_seq=0,
        )
        session.add(p)
        session.flush()
        _emit(session, principal, p, "created", wire.created(p))
    return {}


events.hooks.deleting.append(delete_all_of_event)
events.hooks.cloning.append(clone_all_of_event)


def reorder(session: Session, principal: Principal, req: ReorderEventPoliciesRequest) -> list[Policy]:
    """Move one policy before/after another of its event; if both are given the `after`
    wins (Wix: "only the last one defined will be executed"). Returns the event's
    policies in their new order."""
    event = events.lock_for_update(session, principal.site_id, req.event_id)
    order = ordering.move(
        of_event(session, event.id, for_update=True), lambda p: p.id, req.policy_id, req.before_policy_id, req.after_policy_id,
        missing=lambda: NotFound(f"Policy {req.policy_id} not found in event {event.id}", code="POLICY_NOT_FOUND"),
        names=("beforePolicyId", "afterPolicyId", f"another policy of event {event.id}"),
    )
    session.flush()
    return order
