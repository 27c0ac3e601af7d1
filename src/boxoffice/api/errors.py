"""The Wix error envelope over HTTP: exception handlers, and the OpenAPI document's
error responses (FastAPI's 422 replaced by the envelope on the statuses we send)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ErrorEnvelope, InvalidArgument, WixError, violations_from_pydantic
from .http import JSON

log = logging.getLogger("boxoffice")


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
