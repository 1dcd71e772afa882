"""Canonical JSON straight from mapped data, without building the pydantic document.

:func:`canonical_json` turns the plain data a mapping produced (``GeneratedSpec.read``) into the
bytes ``model.model_validate(data).model_dump_json(exclude_none=True)`` would give, at a fraction
of the cost, or returns ``None`` when it cannot vouch for that (the caller then takes the pydantic
path, which also reports ``MODEL_INVALID`` issues). The model classes stay the single source of
truth: a plan per model is derived once from its pydantic fields (order, defaults, types,
``min_length``/``max_length``), and its ``mode="after"`` model validators are run on a stand-in
object holding the typed values.

It vouches only for data that is already exactly typed (``str``, ``int``, ``Decimal``, ``date``,
``time``, enum values, nested dicts for sub-models, lists or tuples for sequences, JSON values in
``extensions``); anything pydantic would have to coerce, any unknown key, any validator that
raises, any type this module does not know, sends the data down the pydantic path. Tests compare
both outputs byte for byte on every golden case, every corpus file and Hypothesis mutations.

The plan does not depend on X12 (it lives here because only the X12 translate path uses it so far).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

import annotated_types
import msgspec
from pydantic import BaseModel
from pydantic.fields import FieldInfo

__all__ = ["canonical_json"]

Convert = Callable[[Any], Any]
_MISSING = object()
_JSON_SCALARS = (str, int, bool)


class _Unsure(Exception):
    """The data is not exactly what the fast path can vouch for (raised per document)."""


class _Unsupported(Exception):
    """A model uses a type or constraint the fast path does not know (raised once per model)."""


def _string(min_length: int | None, max_length: int | None) -> Convert:
    def convert(value: Any) -> Any:
        if value.__class__ is not str:
            raise _Unsure
        if (min_length is not None and len(value) < min_length) or (max_length is not None and len(value) > max_length):
            raise _Unsure
        return value
    return convert


def _exact(kind: type, render: Callable[[Any], Any]) -> Convert:
    def convert(value: Any) -> Any:
        if value.__class__ is not kind:
            raise _Unsure
        return render(value)
    return convert


def _decimal(value: Any) -> str:
    if value.__class__ is not Decimal or not value.is_finite():
        raise _Unsure
    return str(value)


def _enum(kind: type[Enum]) -> Convert:
    values = {member.value: member.value for member in kind}
    if not all(isinstance(v, str) for v in values):
        raise _Unsupported(kind.__name__)

    def convert(value: Any) -> Any:
        try:
            return values[value]
        except (KeyError, TypeError):
            raise _Unsure from None
    return convert


def _literal(options: tuple[Any, ...]) -> Convert:
    if not all(isinstance(v, str) for v in options):
        raise _Unsupported(str(options))
    allowed = frozenset(options)

    def convert(value: Any) -> Any:
        if value.__class__ is not str or value not in allowed:
            raise _Unsure
        return value
    return convert


def _sequence(item: Convert) -> Convert:
    def convert(value: Any) -> Any:
        if value.__class__ is not list and value.__class__ is not tuple:
            raise _Unsure
        return [item(v) for v in value]
    return convert


def _json_value(value: Any) -> Any:
    """A JSON value as pydantic's ``JsonValue`` keeps it (lists and dicts of scalars)."""
    kind = value.__class__
    if value is None or kind in _JSON_SCALARS:
        return value
    if kind is list:
        return [_json_value(v) for v in value]
    if kind is dict:
        for key in value:
            if key.__class__ is not str:
                raise _Unsure
        return {k: _json_value(v) for k, v in value.items()}
    raise _Unsure


def _optional(convert: Convert) -> Convert:
    def optional(value: Any) -> Any:
        return None if value is None else convert(value)
    return optional


def _converter(annotation: Any, metadata: list[Any]) -> Convert:
    """The converter of one annotated type (raises :class:`_Unsupported` for unknown ones)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _converter(annotation.__origin__, [*annotation.__metadata__, *metadata])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            raise _Unsupported(str(annotation))
        return _optional(_converter(args[0], metadata))
    if origin is typing.Literal:
        return _literal(typing.get_args(annotation))
    lengths = {"min_length": None, "max_length": None}
    for item in _flat(metadata):
        if isinstance(item, annotated_types.MinLen):
            lengths["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            lengths["max_length"] = item.max_length
        else:
            raise _Unsupported(repr(item))
    if origin in (tuple, list):
        args = typing.get_args(annotation)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            raise _Unsupported(str(annotation))
        if lengths["min_length"] is not None or lengths["max_length"] is not None:
            raise _Unsupported(str(annotation))
        return _sequence(_converter(args[0], []))
    if origin is dict:
        key, value = typing.get_args(annotation)
        if key is not str or "JsonValue" not in str(value):
            raise _Unsupported(str(annotation))
        return _json_dict
    if annotation is str:
        return _string(lengths["min_length"], lengths["max_length"])
    if lengths["min_length"] is not None or lengths["max_length"] is not None:
        raise _Unsupported(str(annotation))
    return _scalar(annotation)


def _flat(metadata: list[Any]) -> list[Any]:
    """Constraints, with those inside a nested ``Field(...)`` (``Annotated[str, Field(min_length=1)]``)."""
    out: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.extend(_flat(list(item.metadata)))
        else:
            out.append(item)
    return out


def _json_dict(value: Any) -> Any:
    if value.__class__ is not dict:
        raise _Unsure
    return _json_value(value)


def _scalar(annotation: Any) -> Convert:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_converter(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum(annotation)
    if annotation is bool:
        return _exact(bool, bool)
    if annotation is int:
        return _exact(int, int)
    if annotation is Decimal:
        return _decimal
    if annotation is dt.date:
        return _exact(dt.date, dt.date.isoformat)
    if annotation is dt.time:
        return _exact(dt.time, _time)
    raise _Unsupported(str(annotation))


def _time(value: dt.time) -> str:
    if value.tzinfo is not None:
        raise _Unsure  # pydantic's offset spelling is not isoformat's in every case
    return value.isoformat()


class _ModelPlan:
    """How one model class is written: fields in order, their converters and defaults."""

    __slots__ = ("model", "names", "fields", "validators", "enums")

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        if model.model_config.get("extra") != "forbid":
            raise _Unsupported(f"{model.__name__} allows extra fields")
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.validators or decorators.root_validators \
                or decorators.field_serializers or decorators.model_serializers or decorators.computed_fields:
            raise _Unsupported(f"{model.__name__} has validators or serializers the fast path does not run")
        if any(d.info.mode != "after" for d in decorators.model_validators.values()):
            raise _Unsupported(f"{model.__name__} has a before/wrap model validator")
        self.validators = tuple(d.func for d in decorators.model_validators.values())
        self.names = frozenset(model.model_fields)
        fields = []
        #: enum class per field, to hand validators typed values
        self.enums: dict[str, type[Enum]] = {}
        for name, info in model.model_fields.items():
            if info.alias or info.serialization_alias or info.exclude:
                raise _Unsupported(f"{model.__name__}.{name} has an alias or is excluded")
            convert = _converter(info.annotation, list(info.metadata))
            raw: Any = _MISSING if info.is_required() else info.get_default(call_default_factory=True)
            try:
                # defaults are not validated by pydantic but serialized by the field's type
                default = raw if raw is None or raw is _MISSING else convert(raw)
            except _Unsure:
                raise _Unsupported(f"{model.__name__}.{name} has a default the fast path cannot write") from None
            fields.append((name, convert, default, raw))
            kind = _enum_of(info.annotation)
            if kind is not None:
                self.enums[name] = kind
        self.fields = tuple(fields)

    def convert(self, value: Any) -> dict[str, Any]:
        if value.__class__ is not dict or not self.names.issuperset(value):
            raise _Unsure
        out: dict[str, Any] = {}
        for name, convert, default, _raw in self.fields:
            item = value.get(name, _MISSING)
            if item is _MISSING:
                if default is _MISSING:
                    raise _Unsure
                if default is not None:
                    out[name] = default
                continue
            if item is not None:
                out[name] = convert(item)
        if self.validators:
            self._validate(value)
        return out

    def _validate(self, value: dict[str, Any]) -> None:
        """Run the model's after-validators on a stand-in carrying the typed field values."""
        attributes = {}
        for name, _convert, _default, raw in self.fields:
            item = value.get(name, raw)
            kind = self.enums.get(name)
            attributes[name] = kind(item) if kind is not None and item is not None else item
        stand_in = types.SimpleNamespace(**attributes)
        for validator in self.validators:
            try:
                result = validator(stand_in)
            except Exception:  # noqa: BLE001 - whatever it raises, pydantic decides and reports it
                raise _Unsure from None
            if result is not stand_in:
                raise _Unsure


def _enum_of(annotation: Any) -> type[Enum] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


def _model_converter(model: type[BaseModel]) -> Convert:
    # resolved at first use, so models that nest themselves (packs in packs) do not recurse here
    def convert(value: Any) -> Any:
        return _plan(model).convert(value)
    return convert


@lru_cache(maxsize=256)
def _plan(model: type[BaseModel]) -> _ModelPlan:
    return _ModelPlan(model)


@lru_cache(maxsize=256)
def _fast_plan(model: type[BaseModel]) -> _ModelPlan | None:
    try:
        return _plan(model)
    except _Unsupported:
        return None


@lru_cache(maxsize=1)
def _encoder() -> msgspec.json.Encoder:
    return msgspec.json.Encoder()


def canonical_json(model: type[BaseModel], data: dict[str, Any]) -> bytes | None:
    """The canonical JSON line of ``data`` as a ``model`` document, without building the model.

    Args:
        model: the canonical class the data is for.
        data: what a mapping produced (plain dicts, lists and typed values); not modified.

    Returns:
        Exactly ``model.model_validate(data).model_dump_json(exclude_none=True)`` as UTF-8 bytes,
        or ``None`` when the data needs pydantic (coercion, an invalid value, a type or validator
        the fast path does not handle): validate through the model then.
    """
    plan = _fast_plan(model)
    if plan is None:
        return None
    try:
        return _encoder().encode(plan.convert(data))
    except (_Unsure, _Unsupported):
        return None
