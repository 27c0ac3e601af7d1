from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime


class WebhookKey(Base):
    """The installation's RS256 key pair that signs every delivery (kid = id)."""

    __tablename__ = "webhook_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    private_pem: Mapped[str] = mapped_column(String(4000))
    public_pem: Mapped[str] = mapped_column(String(2000))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
