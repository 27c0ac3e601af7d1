"""Who is calling, and what they may do: identities and Wix permission scopes.

Three levels of trust (README "Security"): the operator runs the process (the CLI; not
an identity here); a site owner (``wix-user``, ``app``) is a tenant and manages only its
site; a ``visitor`` or ``member`` is a buyer. A key's permissions narrow its identity's.

A ``staff`` identity is a site's event staff member (Staff Members API): its key is what
Login Staff Member hands out, ``identity_id`` is the staff member's id, and it holds no
permission scope at all. So every ``require(...)`` refuses it, except on the routes that
admit staff by name (``require(..., staff=True)``: checking tickets in, reading an
event's tickets and orders; selling at the door with SELL_TICKETS, ``orders.service.seller``),
and there the service confines it to the events the staff
member is assigned to, read from the database on every call
(``staff_members.service.scope``): a paused or deleted staff member is refused at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Permission(str, enum.Enum):
    MANAGE_EVENTS = "Manage Events"
    MANAGE_TICKET_DEFINITIONS = "Manage Ticket Definitions"
    MANAGE_ORDERS = "Manage Orders"
    READ_EVENTS = "Read Events"


class IdentityType(str, enum.Enum):
    WIX_USER = "wix-user"
    APP = "app"
    MEMBER = "member"
    VISITOR = "visitor"
    STAFF = "staff"

    @property
    def wix_name(self) -> str:
        # Wix's webhook identities know no staff member: UNKNOWN, with the staff member's id
        return {"wix-user": "WIX_USER", "app": "APP", "member": "MEMBER", "visitor": "ANONYMOUS_VISITOR",
                "staff": "UNKNOWN"}[self.value]

    @property
    def id_field(self) -> str:
        return {"wix-user": "wixUserId", "app": "appId", "member": "memberId", "visitor": "anonymousVisitorId",
                "staff": "staffMemberId"}[self.value]


# Who the webhooks say made a change that no caller made (expiry, the scheduler).
SYSTEM_IDENTITY = {"identityType": "APP", "appId": "boxoffice"}

# Wix users and apps manage the site; members and visitors only read published data;
# staff members hold no scope (see the module's docstring).
DEFAULT_PERMISSIONS: dict[IdentityType, frozenset[Permission]] = {
    IdentityType.WIX_USER: frozenset(Permission),
    IdentityType.APP: frozenset(Permission),
    IdentityType.MEMBER: frozenset({Permission.READ_EVENTS}),
    IdentityType.VISITOR: frozenset({Permission.READ_EVENTS}),
    IdentityType.STAFF: frozenset(),
}


@dataclass(frozen=True)
class Principal:
    site_id: str
    identity_type: IdentityType
    identity_id: str
    permissions: frozenset[Permission]

    def can(self, *any_of: Permission) -> bool:
        return not self.permissions.isdisjoint(any_of)

    @property
    def manages(self) -> bool:
        return self.identity_type in (IdentityType.WIX_USER, IdentityType.APP)

    @property
    def is_staff(self) -> bool:
        return self.identity_type is IdentityType.STAFF

    def webhook_identity(self) -> dict[str, str]:
        return {"identityType": self.identity_type.wix_name, self.identity_type.id_field: self.identity_id}
