"""The transform registry: a small, explicit set of named pure functions, each with two directions.

A rule names its transforms as text (``"decimal"``, ``"implied_decimal(2)"``, ``"coded(purpose)"``,
``"truncate(35)"``); :func:`get_transform` turns the text into a :class:`Transform` whose
``parse`` maps raw source values to canonical values (inbound) and whose ``render`` maps them back
(outbound). Both are pure: problems go to ``ctx.issues`` as warnings, or raise
:class:`TransformFailed` to reject the value (the engine then keeps the raw data as unmapped, so
nothing is lost, and records the issue).

Registered names: ``strip``, ``upper``, ``truncate(n)``, ``int``, ``decimal``, ``implied_decimal(n)``,
``date``, ``time``, ``datetime`` (date, time[, code] -> DateTimeValue), ``date_value``, ``code(list)``, ``coded(list)``, ``first_of``, ``gtin_check``,
``unit``, ``quantity``, ``money``, ``item_ids``, ``party_ids``, ``channels``, ``codes``, ``lines``
(collect), ``sdq`` (collect), ``pairs`` (collect).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import compress
from types import MappingProxyType
from typing import Any

from crossdock.mappings.codelists import CODE_LISTS, CodeList
from crossdock.schemas.canonical import gtin_check_digit_matches, gtin_check_digit_ok, gtin_format_ok
from crossdock.schemas.errors import Issue, SpecInvalid

__all__ = ["TransformContext", "TransformFailed", "Transform", "get_transform", "TRANSFORM_NAMES",
           "parse_x12_date", "parse_x12_time", "format_time"]

_CALL = re.compile(r"^(?P<name>[a-z_0-9]+)(?:\((?P<args>[^()]*)\))?$")
#: YYMMDD dates: years below this are 20YY, others 19YY (the usual X12 century window)
_CENTURY_PIVOT = 50


class TransformFailed(Exception):
    """A transform could not convert a value; the engine turns it into an :class:`Issue`."""

    def __init__(self, code: str, message: str, value: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.value = value


@dataclass(slots=True)
class TransformContext:
    """What a transform may know besides the value: where it is and the element types.

    Attributes:
        loc: location of the value (for issues).
        issues: warnings are appended here.
        element_types: X12 data type per source (``"N2"``, ``"R"``, ``"DT"``...) or ``None``.
    """

    loc: tuple[str | int, ...] = ()
    issues: list[Issue] = field(default_factory=list)
    element_types: tuple[str | None, ...] = ()

    def warn(self, code: str, msg: str, value: object = None) -> None:
        text = None if value is None else str(value)[:80]
        self.issues.append(Issue(code, msg, self.loc, "warning", text))


@dataclass(frozen=True, slots=True)
class Transform:
    """A named pair of pure functions: ``parse`` (inbound) and ``render`` (outbound)."""

    name: str
    parse: Callable[[Any, TransformContext], Any]
    render: Callable[[Any, TransformContext], Any]


def _same(value: Any, ctx: TransformContext) -> Any:
    return value


# --- scalars -----------------------------------------------------------------------------------


def _strip(value: Any, ctx: TransformContext) -> Any:
    return value.strip() or None if isinstance(value, str) else value


def _upper(value: Any, ctx: TransformContext) -> Any:
    return value.upper() if isinstance(value, str) else value


def _truncate(n: int) -> Transform:
    def render(value: Any, ctx: TransformContext) -> Any:
        if isinstance(value, str) and len(value) > n:
            ctx.warn("TRUNCATED", f"value longer than {n} characters was truncated", value)
            return value[:n]
        return value
    return Transform(f"truncate({n})", _same, render)


def _parse_int(value: Any, ctx: TransformContext) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise TransformFailed("NUMBER_INVALID", "not an integer", value) from None


def _render_int(value: Any, ctx: TransformContext) -> str:
    return str(int(value))


def _implied_scale(ctx: TransformContext) -> int:
    kind = ctx.element_types[0] if ctx.element_types else None
    return int(kind[1:]) if kind and kind[0] == "N" and kind[1:].isdigit() else 0


def _to_decimal(value: Any) -> Decimal:
    if value.__class__ is str:
        text = value.strip()
    elif isinstance(value, Decimal):
        return value
    else:
        text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise TransformFailed("NUMBER_INVALID", "not a number", value) from None
    if not number.is_finite():
        raise TransformFailed("NUMBER_INVALID", "not a finite number", value)
    return number


def _parse_decimal(value: Any, ctx: TransformContext) -> Decimal:
    number = _to_decimal(value)
    if not isinstance(value, str):
        return number
    # _implied_scale inlined (one call less on the hottest transform): "R" and "N0" are the usual
    types = ctx.element_types
    kind = types[0] if types else None
    if kind and kind[0] == "N" and kind != "N0":
        scale = _implied_scale(ctx)
        return number.scaleb(-scale) if scale else number
    return number


def _implied_decimal(n: int) -> Transform:
    def parse(value: Any, ctx: TransformContext) -> Decimal:
        number = _to_decimal(value)
        return number.scaleb(-n) if isinstance(value, str) else number

    def render(value: Any, ctx: TransformContext) -> str:
        scaled = Decimal(value).scaleb(n)
        integral = scaled.to_integral_value()
        if integral != scaled:
            ctx.warn("ROUNDED", f"more than {n} decimals; rounded", value)
        return str(int(integral))
    return Transform(f"implied_decimal({n})", parse, render)


def parse_x12_date(text: str) -> dt.date:
    """CCYYMMDD or YYMMDD (century window at 50).

    Raises:
        TransformFailed: ``DATE_INVALID``.
    """
    text = text.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 6 and text.isdigit():
            year = int(text[:2])
            return dt.date(year + (2000 if year < _CENTURY_PIVOT else 1900), int(text[2:4]), int(text[4:]))
    except ValueError:
        pass
    raise TransformFailed("DATE_INVALID", "not a CCYYMMDD or YYMMDD date", text)


def parse_x12_time(text: str) -> tuple[dt.time, str]:
    """HHMM, HHMMSS or HHMMSSd..d, with the precision it was sent in.

    Raises:
        TransformFailed: ``TIME_INVALID``.
    """
    text = text.strip()
    precision = {4: "minute", 6: "second"}.get(len(text), "hundredth" if 7 <= len(text) <= 8 else "")
    try:
        if precision and text.isdigit():
            micro = int(text[6:].ljust(2, "0")[:2]) * 10000 if precision == "hundredth" else 0
            seconds = int(text[4:6]) if len(text) >= 6 else 0
            return dt.time(int(text[:2]), int(text[2:4]), seconds, micro), precision
    except ValueError:
        pass
    raise TransformFailed("TIME_INVALID", "not an HHMM[SS[dd]] time", text)


def format_time(value: dt.time, precision: str | None) -> str:
    """An X12 TM value in the given precision (``minute`` when unknown)."""
    text = f"{value.hour:02d}{value.minute:02d}"
    if precision in ("second", "hundredth"):
        text += f"{value.second:02d}"
    if precision == "hundredth":
        text += f"{value.microsecond // 10000:02d}"
    return text


def _parse_date(value: Any, ctx: TransformContext) -> dt.date:
    return value if isinstance(value, dt.date) else parse_x12_date(str(value))


def _parse_time(value: Any, ctx: TransformContext) -> dt.time:
    return parse_x12_time(str(value))[0]


def _render_time(value: Any, ctx: TransformContext) -> str:
    precision = "second" if value.second or value.microsecond else "minute"
    return format_time(value, "hundredth" if value.microsecond else precision)


def _parse_date_value(value: Any, ctx: TransformContext) -> dict[str, Any]:
    return {"date": _parse_date(value, ctx)}


def _render_date_value(value: Any, ctx: TransformContext) -> Any:
    return _attr(value, "date")


def _parse_datetime(value: Any, ctx: TransformContext) -> dict[str, Any] | None:
    date_text, time_text, code = (tuple(value) + ("", "", ""))[:3]
    if not (date_text or time_text):
        return None
    result: dict[str, Any] = {"date": parse_x12_date(date_text) if date_text else None}
    if time_text:
        result["time"], result["time_precision"] = parse_x12_time(time_text)
    if code:
        result["time_code"] = code
    return result


def _attr(value: Any, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _render_datetime(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    time = _attr(value, "time")
    time_text = format_time(time, _attr(value, "time_precision")) if time is not None else None
    return (_attr(value, "date"), time_text, _attr(value, "time_code"))


# --- codes -------------------------------------------------------------------------------------


def _code_list(name: str) -> CodeList:
    if name not in CODE_LISTS:
        raise SpecInvalid(f"unknown code list {name!r}", code="SPEC_CODE_LIST_UNKNOWN")
    return CODE_LISTS[name]


def _code(name: str) -> Transform:
    codes = _code_list(name)

    def parse(value: Any, ctx: TransformContext) -> str:
        result = codes.to_canonical(str(value).strip())
        if result is None:
            raise TransformFailed("CODE_INVALID", f"code not in list {name}", value)
        return result

    def render(value: Any, ctx: TransformContext) -> str | None:
        code = codes.to_code(str(value))
        if code is None:
            raise TransformFailed("CODE_INVALID", f"no {name} code for {value}", value)
        return code
    return Transform(f"code({name})", parse, render)


def _coded(name: str) -> Transform:
    """One code -> (canonical value, original code); back: the original when it still fits."""
    codes = _code_list(name)

    def parse(value: Any, ctx: TransformContext) -> tuple[str, str]:
        code = str(value).strip()
        result = codes.to_canonical(code)
        if result is None:
            raise TransformFailed("CODE_INVALID", f"code not in list {name}", value)
        return result, code

    def render(value: Any, ctx: TransformContext) -> str | None:
        canonical, original = value
        if canonical is None:
            return original
        code = codes.to_code(str(canonical), original)
        if code is None:
            raise TransformFailed("CODE_INVALID", f"no {name} code for {canonical}", canonical)
        return code
    return Transform(f"coded({name})", parse, render)


def _first_of_parse(value: Any, ctx: TransformContext) -> Any:
    return next((v for v in value if v not in ("", None)), None)


def _first_of_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    width = max(len(ctx.element_types), 1)
    return (value,) + (None,) * (width - 1)


def _gtin_check(value: Any, ctx: TransformContext) -> Any:
    text = str(value)
    if not gtin_format_ok(text):
        ctx.warn("GTIN_FORMAT", "GTIN must be 8, 12, 13 or 14 digits", text)
    elif not gtin_check_digit_ok(text):
        ctx.warn("GTIN_CHECK_DIGIT", "GTIN check digit is wrong", text)
    return value


# --- structured values -------------------------------------------------------------------------


def _unit_parse(value: Any, ctx: TransformContext) -> str:
    code = str(value).strip().upper()
    return CODE_LISTS["unit"].to_canonical(code) or code


def _unit_render(value: Any, ctx: TransformContext) -> str:
    return CODE_LISTS["unit"].to_code(str(value)) or str(value)


def _quantity_parse(value: Any, ctx: TransformContext) -> dict[str, Any] | None:
    if isinstance(value, str):
        amount, unit = value, ""
    else:
        values = tuple(value)
        count = len(values)
        amount = values[0] if count else ""
        unit = values[1] if count > 1 else ""
    if amount in ("", None):
        return None
    # the amount's implied decimals come from the first element type, as _parse_decimal reads them
    result: dict[str, Any] = {"value": _parse_decimal(amount, ctx)}
    if unit:
        code = str(unit).strip().upper()  # as _unit_parse, inlined
        result["unit"] = CODE_LISTS["unit"].to_canonical(code) or code
        result["unit_original"] = unit.strip()
    return result


def _quantity_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    unit, original = _attr(value, "unit"), _attr(value, "unit_original")
    units = CODE_LISTS["unit"]
    if unit is None:
        code = original
    elif original is not None and (units.to_canonical(original) or original) == unit:
        code = original
    else:
        code = _unit_render(unit, ctx)
    if len(ctx.element_types) == 1:  # a quantity without a unit element (FST01)
        return _attr(value, "value")
    return (_attr(value, "value"), code)


def _money_parse(value: Any, ctx: TransformContext) -> dict[str, Any]:
    return {"amount": value if isinstance(value, Decimal) else _parse_decimal(value, ctx)}


def _money_render(value: Any, ctx: TransformContext) -> Any:
    return _attr(value, "amount")


def _plain(value: Any) -> str:
    """The text of a raw element: itself, or the first component / repetition of a compound one."""
    while not isinstance(value, str):
        value = value[0] if value else ""
    return value


def _pairs(values: Sequence[Any]) -> list[tuple[str, str]]:
    flat = [v if isinstance(v, str) else _plain(v) for v in values]
    flat += [""] * (len(flat) % 2)
    return [(flat[i].strip(), flat[i + 1]) for i in range(0, len(flat), 2)]


def _item_ids_parse(value: Any, ctx: TransformContext) -> dict[str, Any] | None:
    kinds = CODE_LISTS["item_id_kind"]
    codes, fallback = kinds.codes, kinds.fallback  # kinds.to_canonical(q) is codes.get(q, fallback)
    ids = []
    values = tuple(value)
    texts = values[1::2]
    # (qualifier, id) pairs; a PO1/LIN range is mostly empty pairs: compress picks, at C speed,
    # the pairs whose id is not empty (an empty composite is falsy too), as zip over pairs would
    for pair in compress(range(len(texts)), texts):
        text, qualifier = texts[pair], values[2 * pair]
        qualifier = (qualifier if qualifier.__class__ is str else _plain(qualifier)).strip()
        if text.__class__ is not str:
            text = _plain(text)
            if not text:
                continue
        kind = codes.get(qualifier, fallback) if qualifier else "other"
        if kind == "gtin":
            if not gtin_format_ok(text):
                ctx.warn("GTIN_FORMAT", f"{qualifier} id must be 8, 12, 13 or 14 digits", text)
                kind = "other"
            elif not gtin_check_digit_matches(text):
                ctx.warn("GTIN_CHECK_DIGIT", f"{qualifier} id has a wrong check digit", text)
        ids.append({"kind": kind, "qualifier": qualifier or None, "value": text})
    return {"ids": ids} if ids else None


def _item_ids_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    kinds = CODE_LISTS["item_id_kind"]
    flat: list[Any] = []
    for item_id in _attr(value, "ids") or ():
        kind = str(_attr(item_id, "kind"))
        qualifier = _attr(item_id, "qualifier")
        if qualifier is None or (kinds.to_canonical(qualifier) != kind and kind != "other"):
            qualifier = kinds.to_code(kind) or "ZZ"
        flat += [qualifier, _attr(item_id, "value")]
    width = len(ctx.element_types)
    if width and len(flat) > width:
        ctx.warn("IDS_DROPPED", f"only {width // 2} product ids fit; the rest were not written")
        flat = flat[:width]
    return tuple(flat)


def _party_ids_parse(value: Any, ctx: TransformContext) -> list[dict[str, Any]] | None:
    qualifier, text = (tuple(value) + ("", ""))[:2]
    if not text:
        return None
    scheme = CODE_LISTS["id_scheme"].to_canonical(qualifier) if qualifier else "other"
    return [{"scheme": scheme, "qualifier": qualifier or None, "value": text}]


def _party_ids_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    if not value:
        return (None, None)
    if len(value) > 1:
        ctx.warn("IDS_DROPPED", "only the first party identifier fits in N103/N104")
    first = value[0]
    qualifier = CODE_LISTS["id_scheme"].to_code(str(_attr(first, "scheme")), _attr(first, "qualifier"))
    return (qualifier or "ZZ", _attr(first, "value"))


def _channels_parse(value: Any, ctx: TransformContext) -> list[dict[str, str]] | None:
    found = [{"qualifier": q, "value": v} for q, v in _pairs(value) if v]
    return found or None


def _channels_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    flat: list[Any] = []
    for channel in value or ():
        flat += [_attr(channel, "qualifier"), _attr(channel, "value")]
    return tuple(flat[: len(ctx.element_types) or None])


def _codes_parse(value: Any, ctx: TransformContext) -> list[str] | None:
    codes = [v for v in ((value,) if isinstance(value, str) else value) if v]
    return codes or None


def _codes_render(value: Any, ctx: TransformContext) -> tuple[Any, ...]:
    return tuple(value)


# --- collect transforms: all matching segments (element tuples) <-> one value ------------------


def _lines_parse(value: Any, ctx: TransformContext) -> list[str] | None:
    lines = [e for elements in value for e in elements[:2] if isinstance(e, str) and e]
    return lines or None


def _lines_render(value: Any, ctx: TransformContext) -> list[tuple[str, ...]]:
    lines = list(value or ())
    return [tuple(lines[i:i + 2]) for i in range(0, len(lines), 2)]


_SDQ_PAIRS = 10


def _sdq_parse(value: Any, ctx: TransformContext) -> list[dict[str, Any]] | None:
    found = []
    for elements in value:
        # collect rows are raw elements: a partner may send a composite where a code belongs
        unit = _plain(elements[0]) if elements else ""
        qualifier = _plain(elements[1]) if len(elements) > 1 else ""
        for location, amount in _pairs(elements[2:]):
            if not location and not amount:
                continue
            quantity = _quantity_parse((amount or "0", unit), ctx)
            found.append({"location_qualifier": qualifier or None, "location": location,
                          "quantity": quantity})
    return found or None


def _sdq_render(value: Any, ctx: TransformContext) -> list[tuple[Any, ...]]:
    segments: list[tuple[Any, ...]] = []
    key: tuple[Any, Any] | None = None
    for entry in value or ():
        amount, unit = _quantity_render(_attr(entry, "quantity"), ctx)
        entry_key = (unit, _attr(entry, "location_qualifier"))
        if entry_key != key or len(segments[-1]) >= 2 + 2 * _SDQ_PAIRS:
            segments.append((unit or "", entry_key[1] or ""))
            key = entry_key
        segments[-1] = segments[-1] + (_attr(entry, "location"), amount)
    return segments


# --- registry ----------------------------------------------------------------------------------

_SIMPLE: MappingProxyType[str, Transform] = MappingProxyType({
    t.name: t for t in (
        Transform("strip", _strip, _same),
        Transform("upper", _upper, _same),
        Transform("int", _parse_int, _render_int),
        Transform("decimal", _parse_decimal, _same),
        Transform("date", _parse_date, _same),
        Transform("time", _parse_time, _render_time),
        Transform("datetime", _parse_datetime, _render_datetime),
        Transform("date_value", _parse_date_value, _render_date_value),
        Transform("first_of", _first_of_parse, _first_of_render),
        Transform("gtin_check", _gtin_check, _same),
        Transform("unit", _unit_parse, _unit_render),
        Transform("quantity", _quantity_parse, _quantity_render),
        Transform("money", _money_parse, _money_render),
        Transform("item_ids", _item_ids_parse, _item_ids_render),
        Transform("party_ids", _party_ids_parse, _party_ids_render),
        Transform("channels", _channels_parse, _channels_render),
        Transform("codes", _codes_parse, _codes_render),
        Transform("lines", _lines_parse, _lines_render),
        Transform("sdq", _sdq_parse, _sdq_render),
    )
})

_FACTORIES: MappingProxyType[str, Callable[[str], Transform]] = MappingProxyType({
    "truncate": lambda arg: _truncate(int(arg)),
    "implied_decimal": lambda arg: _implied_decimal(int(arg)),
    "code": _code,
    "coded": _coded,
})

TRANSFORM_NAMES: tuple[str, ...] = tuple(_SIMPLE) + tuple(f"{n}(...)" for n in _FACTORIES)


@lru_cache(maxsize=512)
def get_transform(text: str) -> Transform:
    """The transform a rule names, e.g. ``"decimal"`` or ``"coded(party_role)"``.

    Raises:
        SpecInvalid: (``SPEC_TRANSFORM_UNKNOWN``) no such transform or bad arguments.
    """
    match = _CALL.match(text.strip())
    if match is None:
        raise SpecInvalid(f"bad transform {text!r}", code="SPEC_TRANSFORM_UNKNOWN")
    name, args = match["name"], match["args"]
    if args is None and name in _SIMPLE:
        return _SIMPLE[name]
    if args is not None and name in _FACTORIES:
        try:
            return _FACTORIES[name](args.strip())
        except ValueError as exc:
            raise SpecInvalid(f"bad arguments in {text!r}", code="SPEC_TRANSFORM_UNKNOWN") from exc
    raise SpecInvalid(f"unknown transform {text!r}", code="SPEC_TRANSFORM_UNKNOWN")
