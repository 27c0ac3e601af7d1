"""Staff members' wire shapes (`@wix/auto_sdk_events_staff-members` 1.0.56)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .. import limits
from ..schemas import Namespaces, PagingMetadata, QueryV2, StrictInt, WixModel
from .models import NAME_MAX, PERMISSIONS_MAX, StaffMemberStatus, StaffPermission

# Ids are GUIDs (36 characters); anything longer cannot name a row.
ID_MAX = 100
# Join, login and access tokens: 1-500 characters (the typings).
TOKEN_MAX = 500
# Fieldsets of Get / Query (the typings: @maxSize 3).
FIELDSETS_MAX = 3

EventId = Annotated[str, Field(max_length=ID_MAX)]


class AllEventsIn(WixModel):
    pass


class SpecificEventsIn(WixModel):
    events: list[EventId] | None = Field(None, max_length=limits.STAFF_EVENTS_PER_MEMBER)


class ExtendedFieldsIn(WixModel):
    namespaces: Namespaces | None = None


class StaffMemberIn(WixModel):
    """Read-only fields (createdDate, updatedDate, loginLink) are accepted and ignored."""

    id: str | None = Field(None, max_length=ID_MAX)
    revision: str | StrictInt | None = Field(None, description="The staff member's current revision (required on update)")
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    status: StaffMemberStatus | None = Field(None, description="Changed by Update Staff Member only")
    permissions: list[StaffPermission] | None = Field(None, max_length=PERMISSIONS_MAX)
    extended_fields: ExtendedFieldsIn | None = None
    all_events: AllEventsIn | None = Field(None, description="One of allEvents / specificEvents")
    specific_events: SpecificEventsIn | None = None


class CreateStaffMemberRequest(WixModel):
    staff_member: StaffMemberIn


class UpdateStaffMemberRequest(WixModel):
    staff_member: StaffMemberIn


class StaffQueryV2(QueryV2):
    fieldsets: list[Annotated[str, Field(max_length=ID_MAX)]] | None = Field(None, max_length=FIELDSETS_MAX)


class QueryStaffMembersRequest(WixModel):
    query: StaffQueryV2 | None = None
    fieldsets: list[Annotated[str, Field(max_length=ID_MAX)]] | None = Field(None, max_length=FIELDSETS_MAX)


class JoinStaffMemberRequest(WixModel):
    join_token: str = Field(min_length=1, max_length=TOKEN_MAX)


class LoginStaffMemberRequest(WixModel):
    login_token: str = Field(min_length=1, max_length=TOKEN_MAX)


class AccessStaffMemberRequest(WixModel):
    access_token: str = Field(min_length=1, max_length=TOKEN_MAX)


# --- responses ---------------------------------------------------------------


class SpecificEventsOut(WixModel):
    events: list[str]


class StaffMemberOut(WixModel):
    id: str
    revision: str
    created_date: str
    updated_date: str
    name: str | None = None
    status: str
    permissions: list[str]
    extended_fields: dict[str, Any]
    all_events: dict[str, Any] | None = None
    specific_events: SpecificEventsOut | None = None
    login_link: str | None = Field(None, description="Only with the LOGIN_LINK fieldset (and from Create)")


class StaffMemberResponse(WixModel):
    staff_member: StaffMemberOut


class QueryStaffMembersResponse(WixModel):
    staff_members: list[StaffMemberOut]
    paging_metadata: PagingMetadata


class LoginStaffMemberResponse(WixModel):
    staff_member: StaffMemberOut
    access_token: str = Field(description="An API key of the staff member: send it as `Authorization` (ApiKeyStrategy)")
    device_id: str = Field(description="The id of that key; each login is one device")
