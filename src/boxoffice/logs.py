"""What the server logs, and what it never logs.

Signed links carry their authorisation in the query string (``?sig=`` on PDF links):
whoever reads an access log must not be able to open a buyer's tickets with it. The
access log therefore records paths with secret query values replaced by ``***``.
Statement parameters never reach error logs either (``hide_parameters`` on the engine).
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import unquote_plus

# Query parameters whose values are credentials wherever they appear; and the SDK's
# `.r`, a whole request in base64 that may carry any of them.
SECRET_PARAMS = frozenset({"sig", "signature", "token", "key", "secret", "code", "password", "session", ".r"})


def redact(path: str) -> str:
    """``/x.pdf?sig=abc&a=1`` -> ``/x.pdf?sig=***&a=1``; names are compared decoded and
    case-folded, so ``%73ig=`` is caught too."""
    base, sep, query = path.partition("?")
    if not sep:
        return path
    out = []
    for part in query.split("&"):
        name, eq, _ = part.partition("=")
        secret = unquote_plus(name).strip().lower() in SECRET_PARAMS
        out.append(f"{name}=***" if secret and eq else part)
    return base + "?" + "&".join(out)


class RedactSecrets(logging.Filter):
    """For uvicorn's access logger, whose record args are
    ``(client, method, full_path, http_version, status)``; any other record's string
    arguments are redacted the same way."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "?" in record.msg:
            record.msg = redact(record.msg)
        return True


JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def uvicorn_log_config(fmt: str = "text") -> dict[str, Any]:
    """Uvicorn's own logging set-up with the redaction on its access log (uvicorn applies
    it in every worker process it starts). ``fmt="json"``: every line, uvicorn's and
    Boxoffice's (``boxoffice.*``, at INFO), one JSON object (python-json-logger), with a
    record's ``extra`` fields as keys; uvicorn's access log is replaced by
    ``boxoffice.request`` (api/middleware.py)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": "boxoffice.logs.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    if fmt == "json":
        json_formatter = {"()": "pythonjsonlogger.json.JsonFormatter", "fmt": JSON_FIELDS}
        config["formatters"] = {"default": json_formatter, "access": json_formatter}
        config["loggers"]["boxoffice"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
