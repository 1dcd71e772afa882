"""The minimal partner registry: partners, their identities, and agreements as validated data.

An agreement is per (partner, document type, direction) with ``"*"`` as the fallback document
type; its configuration is the frozen :class:`AgreementConfig`, stored as JSON and validated on
the way in and out (STYLE item 21). A later issue adds management, users and tenant isolation on
top of these tables.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.schemas.errors import PartnerUnknown

__all__ = [
    "Partner",
    "ChannelConfig",
    "ForwardConfig",
    "AgreementConfig",
    "IdentitySpec",
    "hash_api_key",
    "isa_identity",
    "partner_by_api_key",
    "partner_by_identity",
    "partner_by_code",
    "partner_by_id",
    "find_agreement",
    "create_partner",
    "AgreementMissing",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class AgreementMissing(PartnerUnknown):
    """The partner is known but has no agreement for this document and direction."""

    code = "AGREEMENT_MISSING"


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    code: str
    name: str
    kind: str


class ChannelConfig(BaseModel):
    """Where outbound bytes go."""

    model_config = _FROZEN

    kind: Literal["webhook", "directory", "memory"]
    url: str | None = None
    """Webhook endpoint."""
    secret: str | None = None
    """Webhook HMAC secret (signature header ``X-Crossdock-Signature``)."""
    directory: Path | None = None
    """Folder for the directory channel."""


class ForwardConfig(BaseModel):
    """Inbound documents translated and forwarded (e.g. to the host's ERP)."""

    model_config = _FROZEN

    format: Literal["canonical_json", "x12"] = "canonical_json"
    channel: ChannelConfig


class AgreementConfig(BaseModel):
    """One agreement's policy; unset fields fall back to the gateway settings."""

    model_config = _FROZEN

    mode: Literal["production", "test"] = "production"
    """``test``: everything from this partner runs in the test lane (no effects)."""
    ack: Literal["auto", "997", "999", "none"] = "auto"
    """Functional acknowledgement sent back for inbound X12 groups."""
    ta1: Literal["on_request", "always", "never"] = "on_request"
    """TA1 policy; ``on_request`` honours ISA14 and answers envelope errors and duplicates."""
    duplicate_window_days: float | None = None
    """Duplicate window for (sender, ISA13), content hash, GS06 and ST02."""
    format: Literal["x12", "canonical_json"] = "x12"
    """Outbound format for documents sent to the partner."""
    x12_version: Literal["004010", "005010"] = "004010"
    """Outbound X12 version."""
    channel: ChannelConfig | None = None
    """Outbound channel (acks and rendered documents); ``None``: stored only, fetched via API."""
    expect_ack: bool = True
    """Outbound X12 groups we send await a 997/999 (``pending`` → ``overdue`` when late)."""
    forward: ForwardConfig | None = None
    """Inbound only: forward translated documents here."""


class IdentitySpec(BaseModel):
    """One identity of a partner when creating it."""

    model_config = _FROZEN

    kind: Literal["isa", "gs", "api_key", "cxml"]
    value: str


def hash_api_key(key: str) -> str:
    """API keys are stored as their sha256, never in clear."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def isa_identity(qualifier: str, identifier: str) -> str:
    """The stored form of an ISA05/06 or ISA07/08 pair: ``"ZZ:SENDERID"``."""
    return f"{qualifier.strip()}:{identifier.strip()}"


def _partner(row) -> Partner:
    return Partner(id=row.id, code=row.code, name=row.name, kind=row.kind)


def partner_by_identity(conn: Connection, kind: str, value: str) -> Partner | None:
    """The partner owning an identity, or None."""
    row = conn.execute(
        select(t.partners)
        .join(t.partner_identities, t.partner_identities.c.partner_id == t.partners.c.id)
        .where(t.partner_identities.c.kind == kind, t.partner_identities.c.value == value)
    ).first()
    return None if row is None else _partner(row)


def partner_by_api_key(conn: Connection, key: str) -> Partner | None:
    return partner_by_identity(conn, "api_key", hash_api_key(key))


def partner_by_code(conn: Connection, code: str) -> Partner | None:
    row = conn.execute(select(t.partners).where(t.partners.c.code == code)).first()
    return None if row is None else _partner(row)


def partner_by_id(conn: Connection, partner_id: int) -> Partner | None:
    row = conn.execute(select(t.partners).where(t.partners.c.id == partner_id)).first()
    return None if row is None else _partner(row)


def find_agreement(
    conn: Connection, partner_id: int, document_type: str, direction: str, *, required: bool = True
) -> AgreementConfig | None:
    """The most specific agreement: exact document type first, then ``"*"``.

    Args:
        conn: connection.
        partner_id: the partner.
        document_type: canonical document type (``"purchase_order"``) or ``"*"``.
        direction: ``inbound`` or ``outbound``.
        required: raise instead of returning None when there is none.

    Returns:
        The agreement config, or None when absent and not required.

    Raises:
        AgreementMissing: no agreement and ``required``.
    """
    rows = conn.execute(
        select(t.agreements.c.document_type, t.agreements.c.config).where(
            t.agreements.c.partner_id == partner_id,
            t.agreements.c.direction == direction,
            t.agreements.c.document_type.in_((document_type, "*")),
        )
    ).all()
    by_type = {row.document_type: row.config for row in rows}
    config = by_type.get(document_type, by_type.get("*"))
    if config is None:
        if required:
            raise AgreementMissing(f"no {direction} agreement for {document_type} with partner {partner_id}")
        return None
    return AgreementConfig.model_validate(config)


def create_partner(
    conn: Connection,
    *,
    code: str,
    name: str,
    kind: str = "partner",
    identities: Iterable[IdentitySpec] = (),
    agreements: Iterable[tuple[str, str, AgreementConfig]] = (),
) -> Partner:
    """Insert a partner with its identities and agreements (caller commits).

    Args:
        conn: connection inside the caller's transaction.
        code: unique short code (also the directory-inbox folder name).
        name: display name.
        kind: ``partner`` or ``host`` (our own systems posting outbound documents).
        identities: ISA ``"ZZ:ID"``, GS codes, API keys (given in clear, stored hashed).
        agreements: ``(document_type, direction, config)`` triples.

    Returns:
        The new partner.
    """
    now = datetime.now(UTC)
    partner_id = conn.execute(
        t.partners.insert().values(code=code, name=name, kind=kind, created_at=now)
    ).inserted_primary_key[0]
    rows = [
        {
            "partner_id": partner_id,
            "kind": identity.kind,
            "value": hash_api_key(identity.value) if identity.kind == "api_key" else identity.value,
        }
        for identity in identities
    ]
    if rows:
        conn.execute(t.partner_identities.insert(), rows)
    agreement_rows = [
        {
            "partner_id": partner_id,
            "document_type": document_type,
            "direction": direction,
            "config": config.model_dump(mode="json", exclude_none=True),
        }
        for document_type, direction, config in agreements
    ]
    if agreement_rows:
        conn.execute(t.agreements.insert(), agreement_rows)
    return Partner(id=partner_id, code=code, name=name, kind=kind)
