"""Master data files: items, locations, item-location policies and VMI programs, validated as data.

One YAML (or JSON) file may hold every section; a CSV file holds one section, recognised by its
header (the columns below; extra or missing required columns are reported)::

    programs:   supplier, customer, order_document (order_response | purchase_order), po_prefix
    locations:  code, name, kind (store | dc), gln, customer, partner_code
    items:      supplier, code, description, buyer_sku, vendor_part, gtin, pack_size, unit
    policies:   supplier, item, location, method, min_qty, max_qty, reorder_point, safety_stock_qty,
                safety_stock_days, service_level, min_days_of_supply, target_days_of_supply,
                lead_time_days, review_period_days, pack_multiple, min_order_qty,
                demand_window_days, horizon_days, use_forecast

Partners are named by code. A GTIN may be given as UPC-A (12), EAN-13 or GTIN-14 digits with a
valid check digit; it is stored as GTIN-14. Every problem of the file is collected as an
:class:`~crossdock.schemas.errors.Issue` (location: section, row, field) and reported at once by
:class:`MasterDataInvalid`; nothing is saved from a file with errors. Parsing is pure; saving is
:func:`crossdock.gateway.inventory.store.save_master_data`.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crossdock.gateway.inventory.errors import MasterDataInvalid, PolicyInvalid
from crossdock.gateway.inventory.policy import ReplenishmentPolicy
from crossdock.schemas.canonical.gtin import gtin_check_digit_ok
from crossdock.schemas.errors import Issue

__all__ = [
    "ProgramRecord",
    "LocationRecord",
    "ItemRecord",
    "PolicyRecord",
    "MasterData",
    "parse_master_data",
    "normalize_gtin",
    "MAX_FILE_BYTES",
]

MAX_FILE_BYTES = 50 * 1024 * 1024
_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
_CODE = Field(min_length=1, max_length=64)
_POLICY_FIELDS = ("method", "min_qty", "max_qty", "reorder_point", "safety_stock_qty", "safety_stock_days",
                  "service_level", "min_days_of_supply", "target_days_of_supply", "lead_time_days",
                  "review_period_days", "pack_multiple", "min_order_qty", "demand_window_days", "horizon_days",
                  "use_forecast")


def normalize_gtin(value: str) -> str:
    """A UPC-A, EAN-13 or GTIN-14 as 14 digits (GTIN-8 too).

    Raises:
        ValueError: not 8, 12, 13 or 14 digits, or a wrong check digit.
    """
    digits = value.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError("a GTIN is 8, 12, 13 or 14 digits")
    if not gtin_check_digit_ok(digits):
        raise ValueError("the GTIN check digit is wrong")
    return digits.zfill(14)


class ProgramRecord(BaseModel):
    """A VMI program: what an approved proposal of ``supplier`` sends to ``customer``."""

    model_config = _FROZEN

    supplier: str = _CODE
    customer: str = _CODE
    order_document: Literal["order_response", "purchase_order"] = "order_response"
    """``order_response``: an 855 confirming a vendor-generated order; ``purchase_order``: an 850
    created on the customer's behalf."""
    po_prefix: str = Field(default="VMI", min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$")
    """Prefix of the order numbers the hub generates for this program."""


class LocationRecord(BaseModel):
    """A store or distribution centre."""

    model_config = _FROZEN

    code: str = _CODE
    name: str | None = Field(default=None, max_length=200)
    kind: Literal["store", "dc"] = "store"
    gln: str | None = Field(default=None, pattern=r"^[0-9]{13}$")
    customer: str | None = Field(default=None, max_length=64)
    """The retailer (partner code) the location belongs to."""
    partner_code: str | None = Field(default=None, max_length=64)
    """The retailer's own code for it (sent as N1 qualifier 92 or SDQ)."""

    @field_validator("gln")
    @classmethod
    def _gln(cls, value: str | None) -> str | None:
        if value is not None and not gtin_check_digit_ok(value):
            raise ValueError("the GLN check digit is wrong")
        return value

    @model_validator(mode="after")
    def _code_needs_customer(self) -> LocationRecord:
        if self.partner_code and not self.customer:
            raise ValueError("a partner_code needs the customer that assigned it")
        return self


class ItemRecord(BaseModel):
    """An item a supplier replenishes, with the identifiers documents may name it by."""

    model_config = _FROZEN

    supplier: str = _CODE
    code: str = _CODE
    description: str | None = Field(default=None, max_length=200)
    buyer_sku: str | None = Field(default=None, max_length=64)
    vendor_part: str | None = Field(default=None, max_length=64)
    gtin: str | None = None
    pack_size: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=4)
    unit: str | None = Field(default=None, max_length=8)

    @field_validator("gtin")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        return None if value is None else normalize_gtin(value)


class PolicyRecord(BaseModel):
    """The replenishment policy of one item at one location (fields of ``ReplenishmentPolicy``)."""

    model_config = _FROZEN

    supplier: str = _CODE
    item: str = _CODE
    location: str = _CODE
    method: Literal["min_max", "reorder_point", "days_of_supply"]
    min_qty: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    max_qty: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    reorder_point: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    safety_stock_qty: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    safety_stock_days: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    service_level: float | None = None
    min_days_of_supply: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    target_days_of_supply: Decimal | None = Field(default=None, max_digits=18, decimal_places=4)
    lead_time_days: int = Field(default=0, ge=0, le=3650)
    review_period_days: int = Field(default=7, ge=0, le=3650)
    pack_multiple: Decimal = Field(default=Decimal(1), max_digits=18, decimal_places=4)
    min_order_qty: Decimal = Field(default=Decimal(0), max_digits=18, decimal_places=4)
    demand_window_days: int = Field(default=56, ge=1, le=3650)
    horizon_days: int = Field(default=28, ge=1, le=366)
    use_forecast: bool = False

    def policy(self) -> ReplenishmentPolicy:
        """The engine's policy (raises :class:`PolicyInvalid` with every contradiction)."""
        return ReplenishmentPolicy(**{name: getattr(self, name) for name in _POLICY_FIELDS})


class MasterData(BaseModel):
    """A master data file: any of its sections may be empty."""

    model_config = _FROZEN

    programs: tuple[ProgramRecord, ...] = ()
    locations: tuple[LocationRecord, ...] = ()
    items: tuple[ItemRecord, ...] = ()
    policies: tuple[PolicyRecord, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("programs", "locations", "items", "policies")}


_CSV_SECTIONS: dict[str, type[BaseModel]] = {
    "policies": PolicyRecord,
    "items": ItemRecord,
    "locations": LocationRecord,
    "programs": ProgramRecord,
}
#: columns that identify a section's CSV header (checked in this order)
_CSV_MARKERS = (("policies", {"item", "location", "method"}), ("items", {"supplier", "code"}),
                ("locations", {"code", "kind"}), ("programs", {"supplier", "customer"}))


def parse_master_data(data: bytes | str, fmt: Literal["yaml", "json", "csv"]) -> MasterData:
    """Read and validate a master data file (no database: partner codes are checked on save).

    Args:
        data: the file's content.
        fmt: ``yaml`` (JSON is YAML too), ``json`` or ``csv``.

    Returns:
        The validated records.

    Raises:
        MasterDataInvalid: with every problem found (syntax, unknown section or column, bad values,
            contradicting policies, duplicate keys).
    """
    if len(data) > MAX_FILE_BYTES:
        raise MasterDataInvalid(f"the file exceeds {MAX_FILE_BYTES} bytes",
                                [Issue("FILE_TOO_LARGE", "file too large", ())])
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    raw = _csv_sections(text) if fmt == "csv" else _tree(text, fmt)
    return validate_master_data(raw)


def validate_master_data(raw: Any) -> MasterData:
    """Validate already-decoded master data (an API body or a parsed file).

    Raises:
        MasterDataInvalid: with every problem found.
    """
    try:
        master = MasterData.model_validate(raw)
    except ValidationError as exc:
        issues = [Issue("INVALID", e["msg"], tuple(e["loc"]), input=_short(e.get("input")))
                  for e in exc.errors(include_url=False)[:200]]
        raise MasterDataInvalid(f"master data invalid: {len(issues)} issue(s)", issues) from None
    issues = _policy_issues(master) + _duplicates(master)
    if issues:
        raise MasterDataInvalid(f"master data invalid: {len(issues)} issue(s)", issues)
    return master


def _short(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:40]


def _tree(text: str, fmt: str) -> Any:
    try:
        return json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (mark.line + 1,) if mark is not None else ()
        raise MasterDataInvalid(f"the {fmt} file cannot be read",
                                [Issue("SYNTAX", f"not valid {fmt}", where)]) from None


def _csv_sections(text: str) -> dict[str, list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = {name.strip() for name in reader.fieldnames or () if name}
    section = next((name for name, marker in _CSV_MARKERS if marker <= header), None)
    if section is None:
        raise MasterDataInvalid("the CSV header names no known section", [Issue(
            "CSV_HEADER_UNKNOWN", "the header must have the columns of programs, locations, items or policies",
            ("header",), input=",".join(sorted(header))[:40])])
    rows = []
    for row in reader:
        if None in row:
            raise MasterDataInvalid("a CSV row has more fields than the header", [Issue(
                "CSV_ROW_TOO_LONG", "more fields than columns", (section, reader.line_num))])
        # Empty cells mean "not given", so that defaults apply.
        rows.append({k.strip(): v for k, v in row.items() if k and v is not None and v.strip() != ""})
    return {section: rows}


def _policy_issues(master: MasterData) -> list[Issue]:
    issues: list[Issue] = []
    for index, record in enumerate(master.policies):
        try:
            record.policy()
        except PolicyInvalid as exc:
            issues.extend(Issue(i.code, i.msg, ("policies", index, *i.loc), input=i.input) for i in exc.issues)
    return issues


def _duplicates(master: MasterData) -> list[Issue]:
    keys = {
        "programs": lambda r: (r.supplier, r.customer),
        "locations": lambda r: r.code,
        "items": lambda r: (r.supplier, r.code),
        "policies": lambda r: (r.supplier, r.item, r.location),
    }
    issues = []
    for section, key in keys.items():
        seen: set[Any] = set()
        for index, record in enumerate(getattr(master, section)):
            value = key(record)
            if value in seen:
                issues.append(Issue("DUPLICATE", f"{section} entry given twice in one file", (section, index),
                                    input=str(value)[:40]))
            seen.add(value)
    return issues
