"""The Wix error envelope, as the SDK's error parser reads it.

400: ``{"message", "details": {"validationError": {"fieldViolations": [...]}}}``
other: ``{"message", "details": {"applicationError": {"code", "description", "data"}}}``
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class WixError(Exception):
    status = 500
    code = "INTERNAL"

    def __init__(self, description: str, *, code: str | None = None, data: dict | None = None) -> None:
        super().__init__(description)
        self.description = description
        if code:
            self.code = code
        self.data = data or {}

    def body(self) -> dict[str, Any]:
        return {
            "message": self.description,
            "details": {"applicationError": {"code": self.code, "description": self.description, "data": self.data}},
        }


class Unauthenticated(WixError):
    status, code = 401, "UNAUTHENTICATED"


class PermissionDenied(WixError):
    status, code = 403, "PERMISSION_DENIED"


class NotFound(WixError):
    status, code = 404, "NOT_FOUND"


class AlreadyExists(WixError):
    status, code = 409, "ALREADY_EXISTS"


class FailedPrecondition(WixError):
    """Wix answers business-rule refusals with 428 (see wire notes §2)."""

    status, code = 428, "FAILED_PRECONDITION"


class FilterParserError(WixError):
    """A filter the query language cannot read: Wix's declared FILTER_PARSER_ERROR.

    ``data.field`` names the offending path, e.g. ``filter.noSuchField``.
    """

    status, code = 400, "FILTER_PARSER_ERROR"

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f'"{field}" {description}', data={"field": field})


class InvalidArgument(WixError):
    status, code = 400, "INVALID_ARGUMENT"

    def __init__(self, field: str, description: str, rule: str = "CUSTOM") -> None:
        super().__init__(f'INVALID_ARGUMENT: "{field}" {description}')
        self.violations = [{"field": field, "description": description, "violatedRule": rule}]

    @classmethod
    def many(cls, violations: list[dict[str, str]]) -> InvalidArgument:
        err = cls(violations[0]["field"], violations[0]["description"], violations[0]["violatedRule"])
        err.violations = violations
        return err

    def body(self) -> dict[str, Any]:
        return {"message": self.description, "details": {"validationError": {"fieldViolations": self.violations}}}


class FieldViolation(BaseModel):
    field: str
    description: str
    violatedRule: str


class ValidationError(BaseModel):
    fieldViolations: list[FieldViolation]


class ApplicationError(BaseModel):
    code: str
    description: str
    data: dict[str, Any] = {}


class ErrorDetails(BaseModel):
    validationError: ValidationError | None = None
    applicationError: ApplicationError | None = None


class ErrorEnvelope(BaseModel):
    """What every non-200 response carries."""

    message: str
    details: ErrorDetails


_RULES = {
    "missing": "REQUIRED_FIELD",
    "string_too_long": "MAX_LENGTH",
    "string_too_short": "MIN_LENGTH",
    "too_long": "MAX_SIZE",
    "too_short": "MIN_SIZE",
    "less_than": "MAX",
    "less_than_equal": "MAX",
    "greater_than": "MIN",
    "greater_than_equal": "MIN",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif isinstance(p, str) and (p.startswith("function-") or p in {"str", "int", "dict", "list"}):
            continue  # pydantic's union/validator branch names, not wire fields
        else:
            out += ("." if out else "") + str(p)
    return out or "body"


def violations_from_pydantic(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for e in errors:
        field = _field_path(tuple(e.get("loc", ())))
        msg = str(e.get("msg", "is invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if (field, msg) in seen:
            continue
        seen.add((field, msg))
        out.append({"field": field, "description": msg, "violatedRule": _RULES.get(e.get("type", ""), "FORMAT")})
    return out


class Unavailable(WixError):
    """The server cannot take this now (e.g. every live-stream slot is taken); retry later."""

    status, code = 503, "UNAVAILABLE"
