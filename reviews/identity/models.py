"""What single sign-on and provisioning keep: linked identities, seen assertions, tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, utcnow
from reviews.people.models import Person


class ExternalIdentity(Base):
    """A person's account at an identity provider: (protocol, provider, subject) is theirs.

    Made on the first sign-in that matched the person by verified email; later
    sign-ins must bring the same subject for that email, so an account renamed
    at the provider to someone else's address cannot take that person over.
    """

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("protocol", "provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    protocol: Mapped[str] = mapped_column(String(10))  # "oidc" or "saml"
    provider: Mapped[str] = mapped_column(String(50))  # the configured provider's name
    subject: Mapped[str] = mapped_column(String(255))  # `sub`, or the SAML NameID
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


class SeenAssertion(Base):
    """An assertion (or token) id already used, kept until it expires: replays are refused."""

    __tablename__ = "seen_assertion"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProvisioningToken(Base):
    """The bearer token of the identity provider's SCIM client; only its SHA-256 is kept."""

    __tablename__ = "provisioning_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
