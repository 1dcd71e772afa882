"""Hypothesis strategies for canonical documents restricted to what cXML / UBL can carry.

Shared by ``test_cxml_*`` and ``test_ubl_*``: each strategy builds only fields the format's rule
table maps, in the order reading produces them, so ``read(write(doc)) == doc`` is the property.
"""

from __future__ import annotations

import datetime as dt
import string
from decimal import Decimal

from hypothesis import strategies as st

from crossdock.schemas.canonical import gtin_check_digit

TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -./#&<>'\"é", min_size=1, max_size=16).map(str.strip).filter(bool)
CODE = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=6)
AMOUNT = st.decimals(min_value=Decimal("-99999"), max_value=Decimal("999999"), places=2, allow_nan=False, allow_infinity=False)
POSITIVE = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=3, allow_nan=False, allow_infinity=False)
CURRENCY = st.sampled_from(["USD", "EUR", "SEK", "GBP"])
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))
TIMES = st.times().map(lambda t: t.replace(microsecond=0))
ZONES = st.sampled_from(["Z", "+00:00", "-08:00", "+05:30"])


def money(currency=CURRENCY):
    return st.builds(lambda a, c: {"amount": str(a), "currency": c}, AMOUNT, st.none() | currency)


def quantity():
    return st.builds(
        lambda v, u: {"value": str(v), **({"unit": u, "unit_original": u} if u else {})},
        POSITIVE,
        st.none() | st.sampled_from(["EA", "CA", "KGM", "LTR"]),
    )


def datetime_value(zoned: bool = True):
    def build(day, time, zone):
        value = {"date": day.isoformat()}
        if time is not None:
            value.update(time=time.isoformat(), time_precision="second")
        if zone is not None and zoned:
            value["time_code"] = zone
        return value

    return st.builds(build, DATES, st.none() | TIMES, st.none() | ZONES)


def gtin():
    return st.text(alphabet=string.digits, min_size=12, max_size=12).map(lambda body: body + str(gtin_check_digit(body)))


def optional(key: str, strategy) -> st.SearchStrategy[dict]:
    return st.one_of(st.just({}), strategy.map(lambda value: {key: value}))


def merged(*parts) -> st.SearchStrategy[dict]:
    return st.tuples(*parts).map(lambda dicts: {k: v for d in dicts for k, v in d.items()})


def item_ids(*kinds: str) -> st.SearchStrategy[dict]:
    """``{"item": {"ids": [...]}}`` with at most one id per kind, in the given order (or ``{}``)."""
    def one(kind: str):
        value = gtin() if kind == "gtin" else TEXT
        return st.lists(value, max_size=1).map(lambda v: [{"kind": kind, "value": x} for x in v])

    return st.tuples(*(one(kind) for kind in kinds)).map(
        lambda parts: {"item": {"ids": [i for part in parts for i in part]}} if any(parts) else {}
    )
