"""The Wix error envelope, as the SDK's error parser reads it.

400: ``{"message", "details": {"validationError": {"fieldViolations": [...]}}}``
other: ``{"message", "details": {"applicationError": {"code", "description", "data"}}}``
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .http import JSON

log = logging.getLogger("boxoffice")


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
    def many(cls, violations: list[dict[str, str]]) -> "InvalidArgument":
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


ERROR_STATUSES = {
    "400": "Invalid argument (validationError) or a rejected instruction (applicationError)",
    "401": "Missing or unknown API key",
    "403": "The key lacks the permission, or belongs to another site",
    "404": "Not found",
    "409": "Already exists",
    "428": "Failed precondition: a business rule refused the change",
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI: replace FastAPI's 422 with the Wix envelope on the statuses we send."""
    comps = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (("ErrorEnvelope", ErrorEnvelope),):
        js = model.model_json_schema(ref_template="#/components/schemas/{model}")
        comps.update(js.pop("$defs", {}))
        comps[name] = js
    comps.pop("HTTPValidationError", None)  # our ValidationError replaced FastAPI's above
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            for status, desc in ERROR_STATUSES.items():
                responses.setdefault(status, {"description": desc, **ref})
    return schema


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


def install(app: FastAPI) -> None:
    @app.exception_handler(WixError)
    async def _wix(_: Request, exc: WixError) -> JSON:
        return JSON(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSON:
        err = InvalidArgument.many(violations_from_pydantic(list(exc.errors())) or [
            {"field": "body", "description": "is invalid", "violatedRule": "FORMAT"}
        ])
        return JSON(err.body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSON:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        desc = str(exc.detail)
        body = {"message": desc, "details": {"applicationError": {"code": code, "description": desc, "data": {}}}}
        return JSON(body, status_code=exc.status_code)

    @app.exception_handler(sa_exc.DataError)
    async def _data(_: Request, exc: sa_exc.DataError) -> JSON:
        # The database refused a value the schema let through: a NUL character in text
        # (PostgreSQL), a number out of its range. That is bad input, and the request's
        # transaction has already been rolled back.
        log.info("value refused by the database: %s", exc.orig)
        err = InvalidArgument("request", f"has a value the database cannot store ({str(exc.orig).splitlines()[0]})", "FORMAT")
        return JSON(err.body(), status_code=400)

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSON:
        # The engine hides statement parameters (db.make_engine): the log names the error
        # and the SQL, never the values a client sent.
        log.exception("unhandled error", exc_info=exc)
        # The server closes the connection after an unhandled error: say so, so a
        # keep-alive client does not send its next request into a closed socket.
        return JSON({"message": "", "details": {}}, status_code=500, headers={"Connection": "close"})


class Unavailable(WixError):
    """The server cannot take this now (e.g. every live-stream slot is taken); retry later."""

    status, code = 503, "UNAVAILABLE"
