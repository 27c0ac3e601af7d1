"""The pages' sign-ins: browser sessions and one-time login links.

A session row is what a ``bo_session`` cookie stands for; the cookie holds the site and a
random token, the row only the token's SHA-256, so a copy of the table signs nobody in.
A session made from an API key points at that key (``api_key_id``): revoking or deleting
the key ends the session on its next request (it is read joined to the live key, never
cached). A login link (``boxoffice dashboard-link``) is used once and lives minutes.

Both are keyed by site first (the unit of tenancy, docs/scaling.md): the cookie carries
the site, so a lookup is one site's row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class PageSession(Base):
    __tablename__ = "page_sessions"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    # the key it was made from (None: a login link's session); no foreign key: a deleted
    # key's sessions simply stop resolving (the lookup joins the live key)
    api_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    identity_type: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[str] = mapped_column(String(500))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    expires_date: Mapped[Any] = mapped_column(UTCDateTime())


class LoginLink(Base):
    __tablename__ = "page_login_links"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the link's token
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    expires_date: Mapped[Any] = mapped_column(UTCDateTime())
    used_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
