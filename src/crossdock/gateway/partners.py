"""The partner registry: profiles, interchange identities and trading agreements, as validated data.

A partner has a code, a name, business roles, a status, identities (ISA qualifier + id, GS
application codes, cXML credentials), an AS2 id (stored for later), contacts, an optional rate
limit and agreements. An agreement is per (partner, document type, direction) with ``"*"`` as
the fallback document type; its configuration is the frozen :class:`AgreementConfig`, stored as
JSON and validated on the way in and out (STYLE item 21).

Status drives routing without code changes: ``onboarding`` and ``test`` put everything from and
to the partner in the test lane (the agreement reads as ``mode: test``); ``suspended`` partners
cannot authenticate. The same :class:`PartnerProfile` is the API body and the YAML/JSON file
format (``crossdock partners import/export``); see ``examples/partners.yaml``.

Errors::

    PartnerUnknown (schemas)        PARTNER_UNKNOWN        422
    ├── AgreementMissing            AGREEMENT_MISSING      422
    └── PartnerNotFound             PARTNER_NOT_FOUND      404 (also: not visible to the caller)
    ConfigurationInvalid (schemas)
    └── PartnerConfigInvalid        PARTNER_CONFIG_INVALID 422, with every problem as an Issue
    RegistryConflict                REGISTRY_CONFLICT      409
    ├── IdentityTaken               IDENTITY_TAKEN         409
    └── PartnerInUse                PARTNER_IN_USE         409
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from crossdock.gateway.audit import record_audit
from crossdock.gateway.store import schema as t
from crossdock.schemas.canonical import DOCUMENT_TYPES
from crossdock.schemas.errors import ConfigurationInvalid, CrossdockError, Issue, PartnerUnknown, SpecInvalid

__all__ = [
    "Partner",
    "PartnerRole",
    "PartnerStatus",
    "ChannelConfig",
    "ForwardConfig",
    "Delimiters",
    "EnvelopeConfig",
    "AgreementConfig",
    "AgreementEntry",
    "IsaIdentity",
    "GsIdentity",
    "CxmlIdentity",
    "Contact",
    "PartnerProfile",
    "PartnerFile",
    "PartnerSummary",
    "ImportReport",
    "IdentitySpec",
    "AgreementMissing",
    "PartnerNotFound",
    "PartnerConfigInvalid",
    "RegistryConflict",
    "IdentityTaken",
    "PartnerInUse",
    "hash_api_key",
    "isa_identity",
    "partner_by_api_key",
    "partner_by_identity",
    "partner_by_code",
    "partner_by_id",
    "find_agreement",
    "create_partner",
    "validate_profile",
    "parse_partner_file",
    "dump_partner_file",
    "get_profile",
    "list_partners",
    "save_profile",
    "delete_partner",
    "import_partners",
    "export_partners",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
#: largest partner file read by ``import``
MAX_FILE_BYTES = 5 * 1024 * 1024
#: statuses whose traffic runs in the test lane
TEST_STATUSES = frozenset({"onboarding", "test"})
#: X12 delimiters may not be letters, digits or space (BAD_INPUT 8)
_BAD_DELIMITERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ")

PartnerRole = Literal["supplier", "customer", "carrier", "3pl"]
PartnerStatus = Literal["onboarding", "test", "live", "suspended"]


class AgreementMissing(PartnerUnknown):
    """The partner is known but has no agreement for this document and direction."""

    code = "AGREEMENT_MISSING"


class PartnerNotFound(PartnerUnknown):
    """No partner with this code (or none the caller may see: 404, never 403)."""

    code = "PARTNER_NOT_FOUND"


class PartnerConfigInvalid(ConfigurationInvalid):
    """A partner profile or file failed validation; ``issues`` lists every problem."""

    code = "PARTNER_CONFIG_INVALID"

    def __init__(self, message: str, issues: Iterable[Issue] = ()) -> None:
        super().__init__(message)
        self.issues = tuple(issues)


class RegistryConflict(CrossdockError):
    code = "REGISTRY_CONFLICT"


class IdentityTaken(RegistryConflict):
    """An ISA/GS/cXML identity already belongs to another partner."""

    code = "IDENTITY_TAKEN"


class PartnerInUse(RegistryConflict):
    """The partner has messages, documents or users; suspend it instead of deleting it."""

    code = "PARTNER_IN_USE"


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    code: str
    name: str
    kind: str
    status: str = "live"
    rate_limit_per_minute: int | None = None


# ------------------------------------------------------------------------------ models


class ChannelConfig(BaseModel):
    """Where outbound bytes go."""

    model_config = _FROZEN

    kind: Literal["webhook", "directory", "memory"]
    url: str | None = None
    """Webhook endpoint (``memory``: the name of the in-memory channel)."""
    secret: str | None = None
    """Webhook HMAC secret (signature header ``X-Crossdock-Signature``)."""
    directory: Path | None = None
    """Folder for the directory channel."""

    @model_validator(mode="after")
    def _endpoint(self) -> ChannelConfig:
        if self.kind == "webhook" and not self.url:
            raise ValueError("a webhook channel needs url")
        if self.kind == "directory" and self.directory is None:
            raise ValueError("a directory channel needs directory")
        return self


class ForwardConfig(BaseModel):
    """Inbound documents translated and forwarded (e.g. to the host's ERP)."""

    model_config = _FROZEN

    format: Literal["canonical_json", "x12"] = "canonical_json"
    channel: ChannelConfig


class Delimiters(BaseModel):
    """X12 delimiters for outbound interchanges to this partner."""

    model_config = _FROZEN

    element: str = "*"
    segment: str = "~"
    component: str = ">"
    repetition: str = "^"

    @model_validator(mode="after")
    def _distinct(self) -> Delimiters:
        values = (self.element, self.segment, self.component, self.repetition)
        if any(len(v) != 1 or v in _BAD_DELIMITERS for v in values):
            raise ValueError("each delimiter is one character, not a letter, digit or space")
        if len(set(values)) != len(values):
            raise ValueError("the four delimiters must differ")
        return self


class EnvelopeConfig(BaseModel):
    """Envelope values for outbound X12 (unset: the hub's identity and the partner's ISA identity)."""

    model_config = _FROZEN

    sender_qualifier: str | None = Field(default=None, min_length=2, max_length=2)
    """ISA05 we send as, instead of the hub setting."""
    sender_id: str | None = Field(default=None, min_length=1, max_length=15)
    """ISA06 (and GS02) we send as."""
    receiver_qualifier: str | None = Field(default=None, min_length=2, max_length=2)
    """ISA07, instead of the partner's first ISA identity."""
    receiver_id: str | None = Field(default=None, min_length=1, max_length=15)
    """ISA08 (and GS03)."""
    authorization_qualifier: str = Field(default="00", min_length=2, max_length=2)
    """ISA01."""
    authorization: str = Field(default="", max_length=10)
    """ISA02."""
    security_qualifier: str = Field(default="00", min_length=2, max_length=2)
    """ISA03."""
    security: str = Field(default="", max_length=10)
    """ISA04."""
    ta1_requested: bool = False
    """ISA14 on what we send."""
    delimiters: Delimiters = Field(default_factory=Delimiters)


class AgreementConfig(BaseModel):
    """One agreement's policy; unset fields fall back to the gateway settings."""

    model_config = _FROZEN

    mode: Literal["production", "test"] = "production"
    """``test``: everything under this agreement runs in the test lane (no effects)."""
    ack: Literal["auto", "997", "999", "none"] = "auto"
    """Functional acknowledgement sent back for inbound X12 groups (``auto``: by version)."""
    ta1: Literal["on_request", "always", "never"] = "on_request"
    """TA1 policy; ``on_request`` honours ISA14 and answers envelope errors and duplicates."""
    duplicate_window_days: float | None = Field(default=None, ge=0)
    """Duplicate window for (sender, ISA13), content hash, GS06 and ST02."""
    format: Literal["x12", "canonical_json", "cxml", "ubl"] = "x12"
    """Outbound format for documents sent to the partner."""
    x12_version: Literal["004010", "005010"] = "004010"
    """Outbound X12 version."""
    channel: ChannelConfig | None = None
    """Outbound channel (acks and rendered documents); ``None``: stored only, fetched via API."""
    expect_ack: bool = True
    """Outbound X12 groups we send await a 997/999 (``pending`` → ``overdue`` when late)."""
    ack_within_hours: float | None = Field(default=None, gt=0)
    """Outbound: the partner's 997/999 is due within this many hours (default: the settings)."""
    forward: ForwardConfig | None = None
    """Inbound only: forward translated documents here."""
    envelope: EnvelopeConfig | None = None
    """Outbound X12 envelope values and delimiters."""
    charset: Literal["basic", "extended", "utf8"] = "extended"
    """X12 character set the partner uses (reader and writer)."""
    mapping_overrides: tuple[dict[str, Any], ...] = ()
    """Partner variants of the mappings, each in the format of :mod:`crossdock.mappings.overrides`."""

    @field_validator("mapping_overrides")
    @classmethod
    def _overrides(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        from crossdock.mappings.overrides import override_from_dict

        for index, override in enumerate(value):
            try:
                override_from_dict(override)
            except (SpecInvalid, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"mapping override {index}: {exc}") from exc
        return value


class AgreementEntry(AgreementConfig):
    """An agreement as written in a profile: its document type and direction, then its policy."""

    document_type: str = "*"
    """Canonical document type (``purchase_order`` …) or ``*`` for every other type."""
    direction: Literal["inbound", "outbound"]

    @field_validator("document_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value != "*" and value not in DOCUMENT_TYPES:
            raise ValueError(f"unknown document type {value!r}; one of *, {', '.join(sorted(DOCUMENT_TYPES))}")
        return value

    def config(self) -> AgreementConfig:
        return AgreementConfig.model_validate(self.model_dump(exclude={"document_type", "direction"}))


class IsaIdentity(BaseModel):
    """ISA05/06 (as sender) or ISA07/08 (as receiver)."""

    model_config = _FROZEN

    kind: Literal["isa"]
    qualifier: str = Field(min_length=2, max_length=2, pattern=r"^[0-9A-Z]{2}$")
    id: str = Field(min_length=1, max_length=15)

    @property
    def value(self) -> str:
        return isa_identity(self.qualifier, self.id)


class GsIdentity(BaseModel):
    """A GS02/GS03 application code."""

    model_config = _FROZEN

    kind: Literal["gs"]
    code: str = Field(min_length=2, max_length=15)

    @property
    def value(self) -> str:
        return self.code.strip()


class CxmlIdentity(BaseModel):
    """A cXML ``Credential`` (``domain`` attribute and ``Identity``), for XML senders."""

    model_config = _FROZEN

    kind: Literal["cxml"]
    domain: str = Field(min_length=1, max_length=40)
    id: str = Field(min_length=1, max_length=80)

    @property
    def value(self) -> str:
        return f"{self.domain.strip()}:{self.id.strip()}"


Identity = Annotated[IsaIdentity | GsIdentity | CxmlIdentity, Field(discriminator="kind")]


class Contact(BaseModel):
    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=120)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=40)
    """e.g. ``technical``, ``business``, ``escalation``."""


class PartnerProfile(BaseModel):
    """A partner as the API and the partner files see it (API keys and users are separate)."""

    model_config = _FROZEN

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    """Unique short code (also the directory-inbox folder name)."""
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["partner", "host"] = "partner"
    """``host``: our own systems (sees every message, may address partners)."""
    roles: tuple[PartnerRole, ...] = ()
    status: PartnerStatus = "live"
    identities: tuple[Identity, ...] = ()
    as2_id: str | None = Field(default=None, max_length=128)
    """AS2-From/To name (stored for the AS2 transport)."""
    contacts: tuple[Contact, ...] = ()
    rate_limit_per_minute: int | None = Field(default=None, ge=1)
    """Requests per minute for each of the partner's API keys (default: the settings)."""
    agreements: tuple[AgreementEntry, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> PartnerProfile:
        pairs = [(a.document_type, a.direction) for a in self.agreements]
        if len(set(pairs)) != len(pairs):
            raise ValueError("two agreements for the same document type and direction")
        values = [(i.kind, i.value) for i in self.identities]
        if len(set(values)) != len(values):
            raise ValueError("an identity is listed twice")
        if len(set(self.roles)) != len(self.roles):
            raise ValueError("a role is listed twice")
        return self


class PartnerFile(BaseModel):
    """The import/export file: ``partners: [...]``."""

    model_config = _FROZEN

    partners: tuple[PartnerProfile, ...]

    @model_validator(mode="after")
    def _unique_codes(self) -> PartnerFile:
        codes = [p.code for p in self.partners]
        if len(set(codes)) != len(codes):
            raise ValueError("a partner code is listed twice")
        return self


@dataclass(frozen=True, slots=True)
class PartnerSummary:
    id: int
    code: str
    name: str
    kind: str
    status: str
    roles: list[str]
    identities: list[str]
    active_keys: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]


class IdentitySpec(BaseModel):
    """One identity of a partner for :func:`create_partner` (``api_key`` values are stored hashed)."""

    model_config = _FROZEN

    kind: Literal["isa", "gs", "api_key", "cxml"]
    value: str


# ---------------------------------------------------------------------------- lookups


def hash_api_key(key: str) -> str:
    """API keys are stored as their sha256, never in clear (they are random, so no slow hash)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def isa_identity(qualifier: str, identifier: str) -> str:
    """The stored form of an ISA05/06 or ISA07/08 pair: ``"ZZ:SENDERID"``."""
    return f"{qualifier.strip()}:{identifier.strip()}"


def _partner(row) -> Partner:
    return Partner(id=row.id, code=row.code, name=row.name, kind=row.kind, status=row.status,
                   rate_limit_per_minute=row.rate_limit_per_minute)


def partner_by_identity(conn: Connection, kind: str, value: str) -> Partner | None:
    """The partner owning an identity (``isa`` ``"ZZ:ID"``, ``gs`` code, ``cxml`` ``"domain:id"``)."""
    if kind == "api_key":
        return partner_by_api_key(conn, value)
    row = conn.execute(
        select(t.partners)
        .join(t.partner_identities, t.partner_identities.c.partner_id == t.partners.c.id)
        .where(t.partner_identities.c.kind == kind, t.partner_identities.c.value == value)
    ).first()
    return None if row is None else _partner(row)


def partner_by_api_key(conn: Connection, key: str) -> Partner | None:
    """The partner of an active (not revoked) API key."""
    row = conn.execute(
        select(t.partners).join(t.api_keys, t.api_keys.c.partner_id == t.partners.c.id)
        .where(t.api_keys.c.key_hash == hash_api_key(key), t.api_keys.c.revoked_at.is_(None))
    ).first()
    return None if row is None else _partner(row)


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

    A partner in ``onboarding`` or ``test`` status gets its agreement in ``test`` mode, so its
    traffic stays in the test lane until it is promoted to ``live``.

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
        select(t.agreements.c.document_type, t.agreements.c.config, t.partners.c.status)
        .join(t.partners, t.partners.c.id == t.agreements.c.partner_id)
        .where(
            t.agreements.c.partner_id == partner_id,
            t.agreements.c.direction == direction,
            t.agreements.c.document_type.in_((document_type, "*")),
        )
    ).all()
    by_type = {row.document_type: row for row in rows}
    row = by_type.get(document_type, by_type.get("*"))
    if row is None:
        if required:
            raise AgreementMissing(f"no {direction} agreement for {document_type} with partner {partner_id}")
        return None
    config = AgreementConfig.model_validate(row.config)
    if row.status in TEST_STATUSES and config.mode != "test":
        config = config.model_copy(update={"mode": "test"})
    return config


# ---------------------------------------------------------------------------- writes


def create_partner(
    conn: Connection,
    *,
    code: str,
    name: str,
    kind: str = "partner",
    identities: Iterable[IdentitySpec] = (),
    agreements: Iterable[tuple[str, str, AgreementConfig]] = (),
    status: str = "live",
) -> Partner:
    """Insert a partner with its identities, agreements and known API keys (caller commits).

    The quick path for fixtures and the demo; the registry API and files use :func:`save_profile`.

    Args:
        conn: connection inside the caller's transaction.
        code: unique short code (also the directory-inbox folder name).
        name: display name.
        kind: ``partner`` or ``host`` (our own systems posting outbound documents).
        identities: ISA ``"ZZ:ID"``, GS codes, cXML ``"domain:id"``; API keys given in clear
            are stored as ``api_keys`` rows (hashed).
        agreements: ``(document_type, direction, config)`` triples.
        status: ``onboarding``, ``test``, ``live`` or ``suspended``.

    Returns:
        The new partner.
    """
    from crossdock.gateway.auth.keys import store_key

    now = datetime.now(UTC)
    partner_id = conn.execute(
        t.partners.insert().values(code=code, name=name, kind=kind, created_at=now, updated_at=now,
                                   roles=[], contacts=[], status=status)
    ).inserted_primary_key[0]
    specs = list(identities)
    rows = [{"partner_id": partner_id, "kind": i.kind, "value": i.value} for i in specs if i.kind != "api_key"]
    if rows:
        conn.execute(t.partner_identities.insert(), rows)
    for spec in specs:
        if spec.kind == "api_key":
            store_key(conn, partner_id, spec.value, label="fixture", actor="system", now=now)
    agreement_rows = [
        {"partner_id": partner_id, "document_type": document_type, "direction": direction,
         "config": config.model_dump(mode="json", exclude_none=True)}
        for document_type, direction, config in agreements
    ]
    if agreement_rows:
        conn.execute(t.agreements.insert(), agreement_rows)
    return Partner(id=partner_id, code=code, name=name, kind=kind, status=status)


def _issues(exc: ValidationError, root: tuple[str | int, ...] = ()) -> list[Issue]:
    return [Issue("PARTNER_CONFIG_INVALID", e["msg"], root + tuple(e["loc"])) for e in exc.errors()]


def _describe(issues: list[Issue]) -> str:
    shown = "; ".join(f"{'.'.join(str(p) for p in i.loc) or '(root)'}: {i.msg}" for i in issues[:5])
    more = f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""
    return f"{len(issues)} problem(s): {shown}{more}"


def validate_profile(data: Any) -> PartnerProfile:
    """Validate one profile (API body), reporting every problem.

    Raises:
        PartnerConfigInvalid: with one :class:`Issue` per problem, located by field path.
    """
    try:
        return PartnerProfile.model_validate(data)
    except ValidationError as exc:
        issues = _issues(exc)
        raise PartnerConfigInvalid(_describe(issues), issues) from exc


def parse_partner_file(data: bytes | str) -> PartnerFile:
    """Read a YAML or JSON partner file (JSON is YAML) and validate every partner.

    Raises:
        PartnerConfigInvalid: unreadable, too large, or invalid (every problem listed).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_FILE_BYTES:
        raise PartnerConfigInvalid(f"partner file over {MAX_FILE_BYTES} bytes")
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PartnerConfigInvalid(f"not valid YAML/JSON{where}") from exc
    if isinstance(loaded, list):
        loaded = {"partners": loaded}
    try:
        return PartnerFile.model_validate(loaded)
    except ValidationError as exc:
        issues = _issues(exc)
        raise PartnerConfigInvalid(_describe(issues), issues) from exc


def _profile_json(profile: PartnerProfile) -> dict[str, Any]:
    data = profile.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    # an agreement reads best starting with what it is about
    data["agreements"] = [{"document_type": a.document_type, "direction": a.direction,
                           **{k: v for k, v in dumped.items() if k not in ("document_type", "direction")}}
                          for a, dumped in zip(profile.agreements, data.get("agreements", []), strict=True)]
    if not data["agreements"]:
        del data["agreements"]
    return data


def dump_partner_file(profiles: Iterable[PartnerProfile], fmt: Literal["yaml", "json"] = "yaml") -> str:
    """Serialize profiles as a partner file (defaults left out, so files stay short)."""
    document = {"partners": [_profile_json(p) for p in profiles]}
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def get_profile(conn: Connection, code: str, *, scope: int | None = None) -> PartnerProfile:
    """The stored profile of ``code``.

    Args:
        conn: connection.
        code: partner code.
        scope: the caller's partner id when it may only see itself (None: sees all).

    Raises:
        PartnerNotFound: no such partner, or not the caller's own.
    """
    row = conn.execute(select(t.partners).where(t.partners.c.code == code)).first()
    if row is None or (scope is not None and row.id != scope):
        raise PartnerNotFound(f"no partner {code}")
    identities = conn.execute(select(t.partner_identities.c.kind, t.partner_identities.c.value)
                              .where(t.partner_identities.c.partner_id == row.id)
                              .order_by(t.partner_identities.c.id)).all()
    agreements = conn.execute(select(t.agreements).where(t.agreements.c.partner_id == row.id)
                              .order_by(t.agreements.c.id)).all()
    return PartnerProfile.model_validate({
        "code": row.code, "name": row.name, "kind": row.kind, "roles": row.roles or [],
        "status": row.status, "as2_id": row.as2_id, "contacts": row.contacts or [],
        "rate_limit_per_minute": row.rate_limit_per_minute,
        "identities": [_identity_json(i.kind, i.value) for i in identities],
        "agreements": [{"document_type": a.document_type, "direction": a.direction, **a.config} for a in agreements],
    })


def _identity_json(kind: str, value: str) -> dict[str, str]:
    if kind == "isa":
        qualifier, _, identifier = value.partition(":")
        return {"kind": "isa", "qualifier": qualifier, "id": identifier}
    if kind == "cxml":
        domain, _, identifier = value.partition(":")
        return {"kind": "cxml", "domain": domain, "id": identifier}
    return {"kind": "gs", "code": value}


def list_partners(conn: Connection, *, scope: int | None = None) -> list[PartnerSummary]:
    """Every partner (or only the caller's own), with identities and active key counts."""
    query = select(t.partners).order_by(t.partners.c.code)
    if scope is not None:
        query = query.where(t.partners.c.id == scope)
    partners = conn.execute(query).all()
    ids = [p.id for p in partners]
    identities: dict[int, list[str]] = {i: [] for i in ids}
    for row in conn.execute(select(t.partner_identities).where(t.partner_identities.c.partner_id.in_(ids))
                            .order_by(t.partner_identities.c.id)):
        identities[row.partner_id].append(f"{row.kind}:{row.value}")
    keys = dict(conn.execute(select(t.api_keys.c.partner_id, func.count()).where(
        t.api_keys.c.partner_id.in_(ids), t.api_keys.c.revoked_at.is_(None)).group_by(t.api_keys.c.partner_id)).all())
    return [PartnerSummary(p.id, p.code, p.name, p.kind, p.status, list(p.roles or []), identities[p.id],
                           keys.get(p.id, 0)) for p in partners]


def _check_identities(conn: Connection, partner_id: int | None, profile: PartnerProfile) -> None:
    for identity in profile.identities:
        owner = conn.execute(select(t.partners.c.code).join(
            t.partner_identities, t.partner_identities.c.partner_id == t.partners.c.id).where(
            t.partner_identities.c.kind == identity.kind, t.partner_identities.c.value == identity.value,
            t.partners.c.id != (partner_id or 0))).scalar()
        if owner is not None:
            raise IdentityTaken(f"{identity.kind} identity {identity.value} already belongs to partner {owner}")


def save_profile(conn: Connection, profile: PartnerProfile, *, actor: str, client: str | None = None,
                 must_exist: bool | None = None) -> tuple[Partner, bool]:
    """Create or replace a partner from its profile (identities and agreements replaced; keys kept).

    Args:
        conn: connection inside the caller's transaction.
        profile: the validated profile.
        actor: audit actor.
        client: client address, for the audit log.
        must_exist: True: only update (404 otherwise); False: only create (409 if present).

    Returns:
        The partner and whether it was created.

    Raises:
        PartnerNotFound: ``must_exist`` and there is no such partner.
        RegistryConflict: ``must_exist is False`` and the code is taken.
        IdentityTaken: an identity belongs to another partner.
    """
    now = datetime.now(UTC)
    existing = conn.execute(select(t.partners).where(t.partners.c.code == profile.code)).first()
    if existing is None and must_exist:
        raise PartnerNotFound(f"no partner {profile.code}")
    if existing is not None and must_exist is False:
        raise RegistryConflict(f"partner {profile.code} exists", code="PARTNER_EXISTS")
    _check_identities(conn, existing.id if existing else None, profile)
    values = {"name": profile.name, "kind": profile.kind, "roles": list(profile.roles), "status": profile.status,
              "as2_id": profile.as2_id, "contacts": [c.model_dump(mode="json", exclude_none=True)
                                                     for c in profile.contacts],
              "rate_limit_per_minute": profile.rate_limit_per_minute, "updated_at": now}
    if existing is None:
        partner_id = conn.execute(t.partners.insert().values(code=profile.code, created_at=now, **values)
                                  ).inserted_primary_key[0]
    else:
        partner_id = existing.id
        conn.execute(update(t.partners).where(t.partners.c.id == partner_id).values(**values))
        conn.execute(delete(t.partner_identities).where(t.partner_identities.c.partner_id == partner_id))
        conn.execute(delete(t.agreements).where(t.agreements.c.partner_id == partner_id))
    if profile.identities:
        conn.execute(t.partner_identities.insert(), [
            {"partner_id": partner_id, "kind": i.kind, "value": i.value} for i in profile.identities])
    if profile.agreements:
        conn.execute(t.agreements.insert(), [
            {"partner_id": partner_id, "document_type": a.document_type, "direction": a.direction,
             "config": a.config().model_dump(mode="json", exclude_none=True, exclude_defaults=True)}
            for a in profile.agreements])
    record_audit(conn, "partner_created" if existing is None else "partner_updated", actor=actor,
                 partner_id=partner_id, subject=profile.code, client=client, at=now,
                 detail={"status": profile.status, "identities": len(profile.identities),
                         "agreements": len(profile.agreements)})
    partner = Partner(partner_id, profile.code, profile.name, profile.kind, profile.status,
                      profile.rate_limit_per_minute)
    return partner, existing is None


def delete_partner(conn: Connection, code: str, *, actor: str, client: str | None = None) -> None:
    """Remove a partner that never exchanged anything (otherwise suspend it).

    Raises:
        PartnerNotFound: no such partner.
        PartnerInUse: messages, documents, users or other rows still point at it.
    """
    row = conn.execute(select(t.partners.c.id).where(t.partners.c.code == code)).first()
    if row is None:
        raise PartnerNotFound(f"no partner {code}")
    partner_id = row.id
    used = conn.execute(select(t.messages.c.id).where(
        or_(t.messages.c.partner_id == partner_id, t.messages.c.recipient_id == partner_id)).limit(1)).first()
    users = conn.execute(select(t.users.c.id).where(t.users.c.partner_id == partner_id).limit(1)).first()
    if used is not None or users is not None:
        raise PartnerInUse(f"partner {code} has {'messages' if used else 'users'}; set status suspended instead")
    try:
        with conn.begin_nested():
            for table in (t.partner_identities, t.agreements, t.api_keys, t.control_counters):
                conn.execute(delete(table).where(table.c.partner_id == partner_id))
            conn.execute(update(t.audit_log).where(t.audit_log.c.partner_id == partner_id).values(partner_id=None))
            conn.execute(delete(t.partners).where(t.partners.c.id == partner_id))
    except IntegrityError as exc:
        raise PartnerInUse(f"partner {code} is still referenced; set status suspended instead") from exc
    record_audit(conn, "partner_deleted", actor=actor, subject=code, client=client)


def import_partners(conn: Connection, partner_file: PartnerFile, *, actor: str) -> ImportReport:
    """Create or replace every partner of a validated file, in the caller's one transaction."""
    created, updated = [], []
    for profile in partner_file.partners:
        _, is_new = save_profile(conn, profile, actor=actor)
        (created if is_new else updated).append(profile.code)
    return ImportReport(tuple(created), tuple(updated))


def export_partners(conn: Connection, codes: Iterable[str] = ()) -> list[PartnerProfile]:
    """Profiles of ``codes`` (default: every partner), ready for :func:`dump_partner_file`.

    Raises:
        PartnerNotFound: a requested code does not exist.
    """
    wanted = list(codes) or list(conn.execute(select(t.partners.c.code).order_by(t.partners.c.code)).scalars())
    return [get_profile(conn, code) for code in wanted]

