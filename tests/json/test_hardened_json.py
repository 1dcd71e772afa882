"""BAD_INPUT.md 3.8 (items 56, 57, 59) and the other JSON refusals, each with its own code."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crossdock.adapters.json import JsonLimits, dump_json, iter_json_lines, load_json
from crossdock.schemas.errors import JsonRejected


def _code(data: bytes | str, limits: JsonLimits | None = None) -> str:
    with pytest.raises(JsonRejected) as caught:
        load_json(data, limits) if limits else load_json(data)
    return caught.value.code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"[" * 100_000, "JSON_TOO_DEEP"),  # 56: stdlib json would raise RecursionError
        (b"{" + b'"a":{' * 70 + b"}" * 71, "JSON_TOO_DEEP"),
        (b'{"qty": ' + b"1" + b"0" * 4999 + b"}", "JSON_NUMBER_TOO_LARGE"),  # 57
        (b'{"qty": -' + b"9" * 31 + b"}", "JSON_NUMBER_TOO_LARGE"),
        (b'{"qty": 1e999}', "JSON_NUMBER_TOO_LARGE"),
        (b'{"a": 1, "a": 2}', "JSON_DUPLICATE_KEY"),
        (b'[{"x": {"k": 1, "k": 1}}]', "JSON_DUPLICATE_KEY"),
        (b"[NaN]", "JSON_CONSTANT_FORBIDDEN"),
        (b'{"q": Infinity}', "JSON_CONSTANT_FORBIDDEN"),
        (b"[-Infinity]", "JSON_CONSTANT_FORBIDDEN"),
        (b'["\\ud800"]', "JSON_LONE_SURROGATE"),
        (b'{"\\udc00x": 1}', "JSON_LONE_SURROGATE"),
        (b"\xff\xfe[]", "JSON_ENCODING_INVALID"),
        (b"", "JSON_EMPTY"),
        (b"{", "JSON_NOT_WELL_FORMED"),
        (b"[1,]", "JSON_NOT_WELL_FORMED"),
    ],
)
def test_hostile_json_is_refused_with_its_code(data: bytes, code: str) -> None:
    assert _code(data) == code


def test_59_size_cap_is_checked_before_decoding() -> None:
    big = b"[" + b",".join([b'{"sku":"A1","qty":1}'] * 1000) + b"]"
    assert _code(big, JsonLimits(max_bytes=len(big) - 1)) == "JSON_TOO_LARGE"
    assert len(load_json(big, JsonLimits(max_bytes=len(big)))) == 1000


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    assert load_json(b'{"a": "[[[[[[[[[[", "b": "\\"{{{{"}', JsonLimits(max_depth=1)) == {"a": "[" * 10, "b": '"{{{{'}


def test_valid_json_keeps_decimals_and_pairs() -> None:
    value = load_json('\ufeff{"price": 12.50, "qty": 3, "emoji": "\\ud83d\\ude00"}'.encode())
    assert value == {"price": Decimal("12.50"), "qty": 3, "emoji": "\U0001f600"}
    assert dump_json(value) == '{"price":"12.50","qty":3,"emoji":"\U0001f600"}'.encode()


def test_json_lines_reports_each_bad_line_and_keeps_the_rest() -> None:
    rows = list(iter_json_lines(b'{"a":1}\n\n{"a":1,"a":2}\n[NaN]\n{"b":2}\n'))
    assert [(n, v if isinstance(v, dict) else v.code) for n, v in rows] == [
        (1, {"a": 1}),
        (3, "JSON_DUPLICATE_KEY"),
        (4, "JSON_CONSTANT_FORBIDDEN"),
        (5, {"b": 2}),
    ]
