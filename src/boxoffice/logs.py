"""What the server logs, and what it never logs.

Signed links carry their authorisation in the query string (``?sig=`` on PDF links):
whoever reads an access log must not be able to open a buyer's tickets with it. The
access log therefore records paths with secret query values replaced by ``***``.
Statement parameters never reach error logs either (``hide_parameters`` on the engine).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# Query parameters whose values are credentials wherever they appear.
SECRET_PARAMS = ("sig", "signature", "token", "key", "secret", "code", "password", "session")
_SECRET = re.compile(r"([?&](?:%s)=)[^&#\s]*" % "|".join(SECRET_PARAMS), re.IGNORECASE)


def redact(path: str) -> str:
    """``/x.pdf?sig=abc&a=1`` -> ``/x.pdf?sig=***&a=1``."""
    return _SECRET.sub(r"\1***", path)


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


def uvicorn_log_config() -> dict[str, Any]:
    """Uvicorn's own logging set-up with the redaction on its access log (uvicorn applies
    it in every worker process it starts)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": "boxoffice.logs.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
