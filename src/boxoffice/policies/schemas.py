"""Policies v2 wire shapes (`@wix/auto_sdk_events_policies`)."""

from __future__ import annotations

from pydantic import Field

from ..schemas import PagingMetadata, QueryV2, StrictInt, WixModel
from .models import BODY_MAX, NAME_MAX

# Ids are GUIDs (36 characters); anything longer cannot name a row.
ID_MAX = 100


class PolicyIn(WixModel):
    """Read-only fields (createdDate, updatedDate) are accepted and ignored."""

    id: str | None = Field(None, max_length=ID_MAX)
    revision: str | StrictInt | None = Field(None, description="The policy's current revision (required on update)")
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    body: str | None = Field(None, min_length=1, max_length=BODY_MAX)
    event_id: str | None = Field(None, max_length=ID_MAX)


class CreatePolicyRequest(WixModel):
    policy: PolicyIn


class UpdatePolicyRequest(WixModel):
    policy: PolicyIn


class QueryPoliciesRequest(WixModel):
    query: QueryV2 | None = None


class ReorderEventPoliciesRequest(WixModel):
    event_id: str = Field(max_length=ID_MAX)
    policy_id: str = Field(max_length=ID_MAX)
    before_policy_id: str | None = Field(None, max_length=ID_MAX)
    after_policy_id: str | None = Field(None, max_length=ID_MAX)


# --- responses ---------------------------------------------------------------


class PolicyOut(WixModel):
    id: str
    revision: str
    created_date: str
    updated_date: str
    name: str
    body: str
    event_id: str


class PolicyResponse(WixModel):
    policy: PolicyOut


class QueryPoliciesResponse(WixModel):
    policies: list[PolicyOut]
    metadata: PagingMetadata


class ReorderEventPoliciesResponse(WixModel):
    policies: list[PolicyOut]
