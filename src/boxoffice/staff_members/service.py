"""Event staff: the rules of Create, Get, Update, Delete, Query, Join, Login and Access
Staff Member, the domain events (`wix.events.staffmembers.v1.staff_member_created/
updated/deleted`) each change writes to the outbox, and what a staff member's own
credential may reach (:func:`scope`).

* A staff member is assigned to all of the site's events (``allEvents``: present and
  future ones) or to named ones (``specificEvents.events``, at most 50, each an event of
  the site). Deleting an event drops it from every staff member's list (an update, with
  its webhook); Clone Event copies no assignment (Wix's Clone Event copies the form,
  notifications, translations and tickets; staff with ``allEvents`` cover the copy).
* The login link carries a login token: an HMAC of the site and the staff member with
  the instance secret, so it is never stored and stays the same for the staff member's
  life. Login (and the deprecated Join, which takes the same token) exchanges it for an
  access token, which is an API key of identity ``staff`` (``deviceId`` is the key's id;
  a staff member keeps at most ``limits.STAFF_DEVICES_PER_MEMBER`` of them, the oldest
  goes). Access tells which staff member an access token is. A paused staff member
  (``ACCESS_PAUSED``) is refused by all three (428 STAFF_MEMBER_SUSPENDED).
* The access token works with the SDK's ``ApiKeyStrategy``: on the routes that admit
  staff (check-in, the tickets and orders lists), confined to the staff member's events,
  read from the database on every call: pausing, reassigning or deleting the staff member
  takes effect at once, whatever the key cache holds. Deleting a staff member also
  deletes its keys in the same unit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import auth, limits, outbox
from .. import query as q
from ..db import advisory_lock, lock, now
from ..errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from ..events import service as events
from ..events.models import Event
from ..identity import IdentityType, Principal
from . import wire
from .models import StaffMember, StaffMemberEvent, StaffMemberStatus, StaffPermission
from .schemas import CreateStaffMemberRequest, StaffMemberIn, UpdateStaffMemberRequest

FQDN = "wix.events.staffmembers.v1.staff_member"
SUSPENDED = "STAFF_MEMBER_SUSPENDED"


def _not_found(staff_member_id: str) -> NotFound:
    return NotFound(f"Staff member {staff_member_id} not found", code="STAFF_MEMBER_NOT_FOUND")


# --- reading -------------------------------------------------------------------


def events_by_member(session: Session, ids: list[str]) -> dict[str, list[str]]:
    """The named events of each staff member, in the order they were given."""
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        rows = session.execute(
            select(StaffMemberEvent.staff_member_id, StaffMemberEvent.event_id)
            .where(StaffMemberEvent.staff_member_id.in_(ids))
            .order_by(StaffMemberEvent.staff_member_id, StaffMemberEvent.position)
        )
        for sid, eid in rows:
            out[sid].append(eid)
    return out


def events_of(session: Session, s: StaffMember) -> list[str]:
    return events_by_member(session, [s.id])[s.id]


def get(session: Session, principal: Principal, staff_member_id: str) -> StaffMember:
    s = session.scalars(
        select(StaffMember).where(StaffMember.id == staff_member_id, StaffMember.site_id == principal.site_id)
    ).first()
    if s is None:
        raise _not_found(staff_member_id)
    return s


QUERY = q.Spec(
    fields=[
        q.field("id", StaffMember.id, "string", ops=q.EQ_OPS, nullable=False, aliases=("_id",)),
        q.field("createdDate", StaffMember.created_date, "datetime", nullable=False, aliases=("_createdDate",)),
        q.field("updatedDate", StaffMember.updated_date, "datetime", nullable=False, aliases=("_updatedDate",)),
        # Boxoffice extensions (the typings list only the three above)
        q.field("name", StaffMember.name, "string"),
        q.field("status", StaffMember.status, "enum", ops=q.EQ_OPS, enum=tuple(StaffMemberStatus), nullable=False),
        q.field("revision", StaffMember.revision, "int", nullable=False),
    ],
    id_expr=StaffMember.id,
    # Wix: "createdDate is sorted in ASC order, paging.limit is 100"; cursorPaging.limit @max 1000 (typings)
    default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    max_limit=1000,
    default_limit=100,
)


def query(session: Session, principal: Principal, raw: dict[str, Any] | None, secret: bytes) -> q.Page:
    raw = {k: v for k, v in (raw or {}).items() if k != "fieldsets"}
    base = select(StaffMember).where(StaffMember.site_id == principal.site_id)
    return q.run_query(
        session, QUERY, base, raw, q.Ctx(now=now()), secret=secret, scope=f"staff-members:{principal.site_id}"
    )


# --- the login token and link ----------------------------------------------------


def login_token(secret: bytes, s: StaffMember) -> str:
    """``<staff member id>.<HMAC of site and id>``: nothing stored, nothing guessable."""
    mac = hmac.new(secret, f"staff-login:{s.site_id}:{s.id}".encode(), hashlib.sha256).digest()
    return f"{s.id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def login_link(base: str, secret: bytes, s: StaffMember) -> str:
    """Where Wix's link opens the Check-in app, this one carries the token in its fragment
    (never sent to a server, so never in a log): a check-in client reads ``loginToken``
    from it and calls Login Staff Member."""
    return f"{base}/boxoffice/v1/staff/login#loginToken={login_token(secret, s)}"


def _by_login_token(session: Session, secret: bytes, token: str, field: str) -> StaffMember:
    sid, _, _ = token.partition(".")
    s = lock(session, select(StaffMember).where(StaffMember.id == sid[:36])) if len(sid) == 36 else None
    if s is None or not hmac.compare_digest(
        login_token(secret, s).encode(), token.encode("utf-8", "surrogatepass")
    ):
        raise Unauthenticated(f"{field} is not a valid token of a staff member", code="INVALID_TOKEN")
    return s


# --- writing -------------------------------------------------------------------


def _emit(session: Session, identity: dict[str, str], s: StaffMember, slug: str, body: dict[str, Any]) -> None:
    s.event_seq += 1
    outbox.record(
        session,
        site_id=s.site_id,
        identity=identity,
        entity_fqdn=FQDN,
        slug=slug,
        entity_id=s.id,
        sequence=s.event_seq,
        body=body,
    )


def _permissions(values: list[StaffPermission] | None) -> str:
    return ",".join(dict.fromkeys(p.value for p in values or []))


def _assignment(d: StaffMemberIn, creating: bool) -> tuple[bool, list[str]] | None:
    """(all events?, named events) from the one-of; None when neither is sent (update)."""
    if d.all_events is not None and d.specific_events is not None:
        raise InvalidArgument("staffMember.specificEvents", "only one of allEvents and specificEvents may be given")
    if d.all_events is not None:
        return True, []
    if d.specific_events is not None:
        return False, list(dict.fromkeys(d.specific_events.events or []))
    if creating:
        raise InvalidArgument("staffMember.allEvents", "one of allEvents and specificEvents is required", "REQUIRED_FIELD")
    return None


def _set_events(session: Session, s: StaffMember, event_ids: list[str]) -> None:
    """Replace the staff member's named events; each must be an event of its site (404),
    held against deletion (FOR KEY SHARE) until the unit ends."""
    if event_ids:
        found = set(
            session.scalars(
                select(Event.id)
                .where(Event.site_id == s.site_id, Event.id.in_(event_ids))
                .order_by(Event.id)
                .with_for_update(read=True, key_share=True)
            )
        )
        missing = [e for e in event_ids if e not in found]
        if missing:
            raise NotFound(f"Event {missing[0]} not found", code="EVENT_NOT_FOUND")
    session.execute(sql_delete(StaffMemberEvent).where(StaffMemberEvent.staff_member_id == s.id))
    for i, eid in enumerate(event_ids):
        session.add(StaffMemberEvent(staff_member_id=s.id, event_id=eid, site_id=s.site_id, position=i))
    session.flush()


def create(session: Session, principal: Principal, req: CreateStaffMemberRequest) -> tuple[StaffMember, list[str]]:
    d = req.staff_member
    assignment = _assignment(d, creating=True)
    assert assignment is not None
    all_events, event_ids = assignment
    # one writer of a site's staff at a time: the count stays exact
    advisory_lock(session, f"staff-members:{principal.site_id}")
    n = session.scalar(select(func.count()).select_from(StaffMember).where(StaffMember.site_id == principal.site_id)) or 0
    if n >= limits.STAFF_MEMBERS_PER_SITE:
        raise FailedPrecondition(
            f"A site has at most {limits.STAFF_MEMBERS_PER_SITE} staff members",
            code="STAFF_MEMBERS_LIMIT_REACHED",
            data={"limit": limits.STAFF_MEMBERS_PER_SITE},
        )
    t = now()
    s = StaffMember(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        name=d.name,
        status=StaffMemberStatus.PENDING.value,  # the status changes by Login and Update only
        all_events=all_events,
        permissions=_permissions(d.permissions),
        extended_fields=d.extended_fields.namespaces if d.extended_fields and d.extended_fields.namespaces else None,
        revision=1,
        created_date=t,
        updated_date=t,
        event_seq=0,
    )
    session.add(s)
    session.flush()
    _set_events(session, s, event_ids)
    _emit(session, principal.webhook_identity(), s, "created", wire.created(s, event_ids))
    return s, event_ids


def _revision(value: Any) -> int:
    if value is None or value == "":
        raise InvalidArgument("staffMember.revision", "is required", "REQUIRED_FIELD")
    if isinstance(value, bool):
        raise InvalidArgument("staffMember.revision", "must be an integer", "FORMAT")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument("staffMember.revision", "must be an integer", "FORMAT") from None


def _lock(session: Session, principal: Principal, staff_member_id: str) -> StaffMember:
    s = lock(session, select(StaffMember).where(StaffMember.id == staff_member_id, StaffMember.site_id == principal.site_id))
    if s is None:
        raise _not_found(staff_member_id)
    return s


def update(
    session: Session, principal: Principal, staff_member_id: str, req: UpdateStaffMemberRequest
) -> tuple[StaffMember, list[str]]:
    """PATCH: the fields the request carries change (name, status, permissions,
    extendedFields, allEvents | specificEvents); ``revision`` must be the current one
    (428 REVISION_MISMATCH otherwise)."""
    d = req.staff_member
    if d.id is not None and d.id != staff_member_id:
        raise InvalidArgument("staffMember.id", "does not match the path")
    rev = _revision(d.revision)
    assignment = _assignment(d, creating=False)
    s = _lock(session, principal, staff_member_id)
    if rev != s.revision:
        raise FailedPrecondition(
            f"revision {rev} is stale; the current revision is {s.revision}",
            code="REVISION_MISMATCH",
            data={"currentRevision": str(s.revision)},
        )
    sent = d.model_fields_set
    if "name" in sent:
        s.name = d.name
    if "status" in sent and d.status is not None:
        s.status = d.status.value
    if "permissions" in sent and d.permissions is not None:
        s.permissions = _permissions(d.permissions)
    if "extended_fields" in sent and d.extended_fields is not None:
        s.extended_fields = d.extended_fields.namespaces or None
    if assignment is not None:
        s.all_events, event_ids = assignment
        _set_events(session, s, event_ids)
    else:
        event_ids = events_of(session, s)
    s.revision += 1
    s.updated_date = now()
    session.flush()
    _emit(session, principal.webhook_identity(), s, "updated", wire.updated(s, event_ids))
    return s, event_ids


def delete(session: Session, principal: Principal, staff_member_id: str) -> None:
    """The staff member goes, and with it every access token it was given (same unit)."""
    s = _lock(session, principal, staff_member_id)
    auth.revoke_keys(session, s.site_id, IdentityType.STAFF, s.id)
    _emit(session, principal.webhook_identity(), s, "deleted", wire.deleted(s, events_of(session, s)))
    session.delete(s)
    session.flush()


def drop_event(session: Session, principal: Principal, event: Event) -> None:
    """An event is deleted: it leaves every staff member's list (each an update)."""
    staff = list(
        session.scalars(
            select(StaffMember)
            .join(StaffMemberEvent, StaffMemberEvent.staff_member_id == StaffMember.id)
            .where(StaffMemberEvent.event_id == event.id)
            .order_by(StaffMember.id)
            .with_for_update(of=StaffMember)
        )
    )
    if not staff:
        return
    session.execute(sql_delete(StaffMemberEvent).where(StaffMemberEvent.event_id == event.id))
    t = now()
    remaining = events_by_member(session, [s.id for s in staff])
    for s in staff:
        s.revision += 1
        s.updated_date = t
        _emit(session, principal.webhook_identity(), s, "updated", wire.updated(s, remaining[s.id]))
    session.flush()


events.hooks.deleting.append(drop_event)


# --- the staff member's own calls (Join, Login, Access) ------------------------------


@dataclass
class Login:
    staff_member: StaffMember
    events: list[str]
    access_token: str
    device_id: str


def _staff_principal(s: StaffMember) -> Principal:
    return Principal(site_id=s.site_id, identity_type=IdentityType.STAFF, identity_id=s.id, permissions=frozenset())


def _refuse_paused(s: StaffMember) -> None:
    if s.status == StaffMemberStatus.ACCESS_PAUSED:
        raise FailedPrecondition(f"Staff member {s.id} is suspended (ACCESS_PAUSED)", code=SUSPENDED)


def login(session: Session, secret: bytes, token: str, field: str = "loginToken") -> Login:
    """Login Staff Member (and Join, with ``field`` joinToken): a new access token for a
    new device; a staff member's first login makes it HAS_ACCESS (an update)."""
    s = _by_login_token(session, secret, token, field)
    _refuse_paused(s)
    # room for the new device: the oldest ones past the limit are logged out
    auth.revoke_keys(session, s.site_id, IdentityType.STAFF, s.id, keep_newest=limits.STAFF_DEVICES_PER_MEMBER - 1)
    key, raw = auth.issue_key(session, s.site_id, IdentityType.STAFF, s.id, frozenset())
    event_ids = events_of(session, s)
    if s.status == StaffMemberStatus.PENDING:
        s.status = StaffMemberStatus.HAS_ACCESS.value
        s.revision += 1
        s.updated_date = now()
        session.flush()
        _emit(session, _staff_principal(s).webhook_identity(), s, "updated", wire.updated(s, event_ids))
    session.flush()
    return Login(s, event_ids, raw, key.id)


def access(session: Session, token: str) -> tuple[StaffMember, list[str]]:
    """Access Staff Member: which staff member an access token (a staff key) is."""
    key = auth.key_of(session, token)
    s = None
    if key is not None and key.identity_type == IdentityType.STAFF.value:
        s = session.scalars(
            select(StaffMember).where(StaffMember.id == key.identity_id, StaffMember.site_id == key.site_id)
        ).first()
    if s is None:
        raise Unauthenticated("accessToken is not a valid access token of a staff member", code="INVALID_TOKEN")
    _refuse_paused(s)
    return s, events_of(session, s)


# --- what a staff member's credential may reach ----------------------------------------


@dataclass(frozen=True)
class Scope:
    """The events a staff member's key may read and check in, and whether it may read
    the guests' form answers (READ_GUEST_FORM)."""

    all_events: bool
    events: frozenset[str]
    guest_forms: bool

    def allows(self, event_id: str | None) -> bool:
        return self.all_events or event_id in self.events

    def check(self, event_id: str) -> None:
        if not self.allows(event_id):
            raise PermissionDenied(f"This staff member is not assigned to event {event_id}", code="EVENT_NOT_ASSIGNED")

    def restrict(self, stmt: Any, column: Any) -> Any:
        return stmt if self.all_events else stmt.where(column.in_(sorted(self.events)))


def scope(session: Session, principal: Principal) -> Scope | None:
    """None for every caller but a staff member (the site's own keys are not confined);
    for a staff member's key, its events, read now: a deleted staff member is 401, a
    paused one or one without CHECK_IN_GUESTS 403."""
    if not principal.is_staff:
        return None
    memo = session.info.setdefault("staff_members.scope", {})  # read once per unit of work
    if principal.identity_id not in memo:
        memo[principal.identity_id] = _scope_now(session, principal)
    return memo[principal.identity_id]


def _scope_now(session: Session, principal: Principal) -> Scope:
    s = session.scalars(
        select(StaffMember).where(StaffMember.id == principal.identity_id, StaffMember.site_id == principal.site_id)
    ).first()
    if s is None:
        raise Unauthenticated("This staff member no longer exists")
    if s.status == StaffMemberStatus.ACCESS_PAUSED:
        raise PermissionDenied(f"Staff member {s.id} is suspended (ACCESS_PAUSED)", code=SUSPENDED)
    perms = s.permission_list
    if StaffPermission.CHECK_IN_GUESTS not in perms:
        raise PermissionDenied("This staff member does not have the CHECK_IN_GUESTS permission")
    return Scope(
        all_events=s.all_events,
        events=frozenset() if s.all_events else frozenset(events_of(session, s)),
        guest_forms=StaffPermission.READ_GUEST_FORM in perms,
    )
