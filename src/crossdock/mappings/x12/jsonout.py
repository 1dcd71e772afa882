"""Canonical JSON straight from mapped data, without building the pydantic document.

:func:`canonical_json` turns the plain data a mapping produced (``GeneratedSpec.read``) into the
bytes ``model.model_validate(data).model_dump_json(exclude_none=True)`` would give, at a fraction
of the cost, or returns ``None`` when it cannot vouch for that (the caller then takes the pydantic
path, which also reports ``MODEL_INVALID`` issues).

The model classes stay the single source of truth: from each pydantic model a ``msgspec.Struct``
is derived once, with the same fields in the same order, the same types and constraints
(``min_length``, ``max_length``, ``pattern``), unknown fields forbidden, and a ``__post_init__``
that runs the model's ``mode="after"`` validators on the typed values. ``msgspec.convert``
(strict) then validates the data in C and ``msgspec.json.encode`` writes it. ``exclude_none`` is
``omit_defaults`` on fields whose default is ``None``; fields with another default are declared
``UNSET`` and filled with their default after conversion, so they are written as pydantic writes
them. Models with anything this module does not derive (other validators, serializers, aliases,
unions of several types, required fields that accept ``None``) are not vouched for at all.

Tests compare both outputs byte for byte on every golden case, every corpus file and Hypothesis
mutations (wrong types, empty strings, bad codes, awkward text). The derivation does not depend on
X12 (it lives here because only the X12 translate path uses it so far).
"""

from __future__ import annotations

import datetime as dt
import sys
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any

import annotated_types
import msgspec
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

__all__ = ["canonical_json"]

#: the module the derived structs live in, so forward references (packs in items) resolve
_STRUCTS = "crossdock.mappings.x12._canonical_structs"
_SCALARS = (bool, int, Decimal, dt.date, dt.time)
_JSON_SCALARS = (str, int, bool)


class _Unsupported(Exception):
    """A model uses a type or feature the derivation does not know (raised once per model)."""


def _flat(metadata: list[Any]) -> list[Any]:
    """Constraints, with those inside a nested ``Field(...)`` (``Annotated[str, Field(min_length=1)]``)."""
    out: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.extend(_flat(list(item.metadata)))
        else:
            out.append(item)
    return out


def _meta(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in _flat(metadata):
        if isinstance(item, annotated_types.MinLen):
            found["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            found["max_length"] = item.max_length
        elif set(getattr(item, "__dict__", {})) == {"pattern"} and isinstance(item.pattern, str):
            pattern = item.pattern
            # Python's "$" also matches before a final newline, pydantic's (Rust) does not
            if pattern.endswith("$") and not pattern.endswith("\\$"):
                pattern = pattern[:-1] + "\\Z"
            found["pattern"] = pattern
        else:
            raise _Unsupported(repr(item))
    return found


class _Builder:
    """Derives one struct per model class, and the names it refers to them by."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.pending: list[type[BaseModel]] = []

    def name(self, model: type[BaseModel]) -> str:
        name = f"{model.__name__}_{id(model):x}"
        if not hasattr(self.module, name) and model not in self.pending:
            self.pending.append(model)
        return name

    def type_of(self, annotation: Any, metadata: list[Any]) -> Any:
        """The msgspec type for a pydantic annotation (forward references as strings)."""
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            return self.type_of(annotation.__origin__, [*annotation.__metadata__, *metadata])
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise _Unsupported(str(annotation))
            return typing.Optional[self.type_of(args[0], metadata)]
        meta = _meta(metadata)
        if origin is typing.Literal:
            if meta or not all(isinstance(v, str) for v in typing.get_args(annotation)):
                raise _Unsupported(str(annotation))
            return annotation
        if origin is tuple or origin is list:
            args = typing.get_args(annotation)
            if meta or (origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)):
                raise _Unsupported(str(annotation))
            return tuple[self.type_of(args[0], []), ...]
        if origin is dict:
            key, value = typing.get_args(annotation)
            if meta or key is not str or "JsonValue" not in str(value):
                raise _Unsupported(str(annotation))
            return dict[str, Any]  # checked in __post_init__ (pydantic's JsonValue)
        if annotation is str:
            return Annotated[str, msgspec.Meta(**meta)] if meta else str
        if meta:
            raise _Unsupported(str(annotation))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.name(annotation)
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            if not all(isinstance(m.value, str) for m in annotation):
                raise _Unsupported(annotation.__name__)
            return annotation
        if annotation in _SCALARS:
            return annotation
        raise _Unsupported(str(annotation))

    def build(self, model: type[BaseModel]) -> None:
        if model.model_config.get("extra") != "forbid":
            raise _Unsupported(f"{model.__name__} allows extra fields")
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.validators or decorators.root_validators \
                or decorators.field_serializers or decorators.model_serializers or decorators.computed_fields:
            raise _Unsupported(f"{model.__name__} has validators or serializers that are not derived")
        if any(d.info.mode != "after" for d in decorators.model_validators.values()):
            raise _Unsupported(f"{model.__name__} has a before/wrap model validator")
        fields: list[tuple[str, Any, Any]] = []
        fill: dict[str, Any] = {}
        checks = _Checks(tuple(d.func for d in decorators.model_validators.values()))
        for name, info in model.model_fields.items():
            if info.alias or info.serialization_alias or info.exclude:
                raise _Unsupported(f"{model.__name__}.{name} has an alias or is excluded")
            kind = self.type_of(info.annotation, list(info.metadata))
            nullable = typing.get_origin(kind) is typing.Union
            if info.is_required():
                if nullable:
                    raise _Unsupported(f"{model.__name__}.{name}: required but accepts None")
                fields.append((name, kind, msgspec.NODEFAULT))
            else:
                default = info.get_default(call_default_factory=True)
                if default is None:
                    fields.append((name, kind, None))
                else:
                    # declared UNSET and filled after conversion, so omit_defaults keeps it
                    fields.append((name, typing.Union[kind, msgspec.UnsetType], msgspec.UNSET))
                    fill[name] = _default(info, default)
            if _holds(info.annotation, Decimal):
                checks.decimals.append(name)
            if _holds(info.annotation, dict):
                checks.json.append(name)
        checks.fill = tuple(fill.items())
        post_init = checks.post_init
        struct = msgspec.defstruct(
            self.name(model), fields, kw_only=True, omit_defaults=True, forbid_unknown_fields=True,
            module=self.module.__name__, namespace={} if post_init is None else {"__post_init__": post_init},
        )
        setattr(self.module, struct.__name__, struct)


def _default(info: FieldInfo, default: Any) -> Any:
    """A non-None default as written in JSON by pydantic (models pre-encoded, the rest as is)."""
    if isinstance(default, BaseModel):
        return msgspec.Raw(TypeAdapter(info.annotation).dump_json(default, exclude_none=True))
    if isinstance(default, (str, Enum, tuple, list, dict, *_SCALARS)):
        return default
    raise _Unsupported(f"default {default!r}")


def _holds(annotation: Any, kind: type) -> bool:
    if annotation is kind or typing.get_origin(annotation) is kind:
        return True
    return any(_holds(arg, kind) for arg in typing.get_args(annotation) if not isinstance(arg, str))


class _Checks:
    """What a derived struct checks after conversion: what msgspec does not express as types.

    ``post_init`` is generated as straight-line code per struct (it runs for every object of
    every document, so no loops over field names)."""

    def __init__(self, validators: tuple[Callable[[Any], Any], ...]) -> None:
        self.validators = validators
        self.decimals: list[str] = []
        self.json: list[str] = []
        self.fill: tuple[tuple[str, Any], ...] = ()

    @property
    def post_init(self) -> Callable[[Any], None] | None:
        namespace: dict[str, Any] = {"_finite": _finite, "_json_value": _json_value, "UNSET": msgspec.UNSET,
                                     "_Decimal": Decimal}
        lines = ["def post_init(struct):"]
        for name in self.decimals:
            # _finite, with its usual case (one decimal) inlined
            lines += [f"    value = struct.{name}", "    if value.__class__ is _Decimal:",
                      "        if not value.is_finite():", "            raise ValueError('non-finite decimal')",
                      "    elif value.__class__ is tuple:", "        _finite(value)"]
        for name in self.json:
            lines += [f"    value = struct.{name}", "    if value is not UNSET and value is not None:",
                      "        _json_value(value)"]
        for number, (name, default) in enumerate(self.fill):
            namespace[f"_d{number}"] = default
            lines += [f"    if struct.{name} is UNSET:", f"        struct.{name} = _d{number}"]
        for number, validator in enumerate(self.validators):
            namespace[f"_v{number}"] = validator
            lines += ["    try:", f"        result = _v{number}(struct)",
                      "    except Exception as exc:  # msgspec reports only ValueError/TypeError",
                      "        raise ValueError(str(exc)) from exc",
                      "    if result is not struct:",
                      "        raise ValueError('model validator did not return the instance')"]
        if len(lines) == 1:
            return None
        exec(compile("\n".join(lines) + "\n", "<crossdock.jsonout post_init>", "exec"), namespace)  # noqa: S102
        return namespace["post_init"]


def _finite(value: Any) -> None:
    if value.__class__ is Decimal:
        if not value.is_finite():
            raise ValueError("non-finite decimal")
    elif value.__class__ is tuple:
        for item in value:
            _finite(item)


def _json_value(value: Any) -> None:
    """Raise unless ``value`` is a JSON value as pydantic's ``JsonValue`` keeps it byte for byte."""
    kind = value.__class__
    if value is None or kind in _JSON_SCALARS:
        return
    if kind is list:
        for item in value:
            _json_value(item)
        return
    if kind is dict:
        for key, item in value.items():
            if key.__class__ is not str:
                raise ValueError("non-string key")
            _json_value(item)
        return
    raise ValueError(f"{kind.__name__} is not kept as is in JSON")


@lru_cache(maxsize=1)
def _module() -> types.ModuleType:
    module = sys.modules.get(_STRUCTS)
    if module is None:
        module = sys.modules[_STRUCTS] = types.ModuleType(_STRUCTS, "msgspec structs derived from canonical models")
    return module


@lru_cache(maxsize=256)
def _struct(model: type[BaseModel]) -> type[msgspec.Struct] | None:
    """The struct derived from ``model`` (and from every model it holds), or ``None``."""
    module = _module()
    builder = _Builder(module)
    try:
        name = builder.name(model)
        while builder.pending:
            builder.build(builder.pending.pop())
    except _Unsupported:
        return None
    struct = getattr(module, name)
    # resolve forward references now, once, rather than inside the first conversion
    msgspec.inspect.type_info(struct)
    return struct


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
        or ``None`` when the data is not exactly valid as it is (pydantic might coerce it, or
        reject it) or the model uses something not derived: validate through the model then.
    """
    struct = _struct(model)
    if struct is None:
        return None
    try:
        return _encoder().encode(msgspec.convert(data, struct))
    except (msgspec.ValidationError, msgspec.EncodeError):
        return None
