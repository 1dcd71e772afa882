"""Position from the ledger: snapshot reconciliation, idempotency, the order pipeline."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.gateway.inventory import (
    DocumentRef,
    ItemLocationInput,
    ItemLocationKey,
    Movement,
    MovementInvalid,
    ReplenishmentPolicy,
    ScheduledReceipt,
    dedupe,
    explain,
    position,
)
from crossdock.schemas.errors import Issue

D0 = date(2025, 3, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


# (case, movements as (kind, qty, day, doc, extra), expected on_hand)
ON_HAND_CASES = [
    ("no snapshot: sales and receipts add up from zero",
     [("received", 50, 1, "r1", {}), ("sale", 20, 2, "s1", {})], 30),
    ("a snapshot replaces everything before it",
     [("received", 50, 1, "r1", {}), ("sale", 20, 2, "s1", {}), ("snapshot_on_hand", 80, 3, "q1", {})], 80),
    ("movements after the snapshot adjust from it",
     [("snapshot_on_hand", 80, 3, "q1", {}), ("sale", 15, 4, "s2", {}), ("received", 10, 5, "r2", {}),
      ("adjustment", -3, 6, "a1", {})], 72),
    ("a sale on the snapshot's own day is already in the count",
     [("snapshot_on_hand", 80, 3, "q1", {}), ("sale", 15, 3, "s2", {})], 80),
    ("a sale covering a period that ends after the snapshot counts in full",
     [("snapshot_on_hand", 80, 3, "q1", {}), ("sale", 14, 9, "s2", {"period_start": day(3)})], 66),
    ("the latest snapshot wins",
     [("snapshot_on_hand", 80, 3, "q1", {}), ("snapshot_on_hand", 40, 7, "q2", {}), ("sale", 5, 5, "s1", {})], 40),
    ("same-day snapshots: the later recorded (sequence) wins",
     [("snapshot_on_hand", 40, 7, "q2", {"sequence": 9}), ("snapshot_on_hand", 45, 7, "q3", {"sequence": 4})], 40),
    ("negative on hand reported by the retailer is kept as reported",
     [("snapshot_on_hand", -4, 3, "q1", {})], -4),
    ("movements after as_of are ignored",
     [("snapshot_on_hand", 80, 3, "q1", {}), ("sale", 15, 11, "s2", {}), ("snapshot_on_hand", 1, 12, "q9", {})], 80),
]


@pytest.mark.parametrize(("case", "rows", "expected"), ON_HAND_CASES, ids=[c[0] for c in ON_HAND_CASES])
def test_on_hand_rules(mv, case, rows, expected) -> None:
    ledger = [mv(kind, qty, day(d), doc, **extra) for kind, qty, d, doc, extra in rows]
    assert position(ledger, day(10)).on_hand == Decimal(expected)


# (case, movements, expected (on_order, in_transit, on_hand))
PIPELINE_CASES = [
    ("an order is on order", [("on_order", 100, 0, "po", {})], (100, 0, 0)),
    ("a shipment moves it to in transit", [("on_order", 100, 0, "po", {}), ("shipped", 60, 2, "asn", {})],
     (40, 60, 0)),
    ("a receipt clears in transit and adds to on hand",
     [("on_order", 100, 0, "po", {}), ("shipped", 60, 2, "asn", {}), ("received", 60, 4, "rcv", {})], (40, 0, 60)),
    ("a partial receipt leaves the rest in transit",
     [("on_order", 100, 0, "po", {}), ("shipped", 60, 2, "asn", {}), ("received", 25, 4, "rcv", {})], (40, 35, 25)),
    ("receipts clear the earliest-due shipment first",
     [("on_order", 100, 0, "po", {}), ("shipped", 30, 1, "asn1", {"due": day(9)}),
      ("shipped", 50, 2, "asn2", {"due": day(5)}), ("received", 60, 6, "rcv", {})], (20, 20, 60)),
    ("a receipt without an ASN clears on order",
     [("on_order", 100, 0, "po", {}), ("received", 30, 4, "rcv", {})], (70, 0, 30)),
    ("an 860 delta and a cancellation reduce on order",
     [("on_order", 100, 0, "po", {}), ("on_order", -20, 1, "chg", {}), ("cancelled", 30, 2, "cxl", {})],
     (50, 0, 0)),
    ("on order never goes negative", [("on_order", 10, 0, "po", {}), ("shipped", 25, 1, "asn", {})], (0, 25, 0)),
    ("a receipt before the snapshot still clears in transit (the count has it)",
     [("on_order", 100, 0, "po", {}), ("shipped", 100, 1, "asn", {}), ("received", 100, 2, "rcv", {}),
      ("snapshot_on_hand", 70, 3, "q1", {})], (0, 0, 70)),
]


@pytest.mark.parametrize(("case", "rows", "expected"), PIPELINE_CASES, ids=[c[0] for c in PIPELINE_CASES])
def test_pipeline_rules(mv, case, rows, expected) -> None:
    ledger = [mv(kind, qty, day(d), doc, order_ref="PO1", **extra) for kind, qty, d, doc, extra in rows
              if kind != "snapshot_on_hand"]
    ledger += [mv(kind, qty, day(d), doc) for kind, qty, d, doc, _ in rows if kind == "snapshot_on_hand"]
    pos = position(ledger, day(10))
    assert (pos.on_order, pos.in_transit, pos.on_hand) == tuple(Decimal(x) for x in expected)


def test_receipt_without_order_clears_in_transit_first_then_on_order(mv) -> None:
    ledger = [
        mv("on_order", 50, day(0), "po1", order_ref="PO1", due=day(9)),
        mv("on_order", 50, day(0), "po2", order_ref="PO2", due=day(5)),
        mv("shipped", 30, day(1), "asn", order_ref="PO1", due=day(3)),
        mv("received", 40, day(4), "852-qr"),  # the retailer's 852 QR: no PO
    ]
    pos = position(ledger, day(6))
    assert pos.in_transit == 0
    assert pos.receipts == (
        ScheduledReceipt("PO2", "on_order", Decimal(40), day(5), day(0)),
        ScheduledReceipt("PO1", "on_order", Decimal(20), day(9), day(0)),
    )
    assert (pos.on_hand, pos.on_order, pos.received) == (Decimal(40), Decimal(60), Decimal(40))


def test_shipment_without_order_consumes_the_earliest_open_order(mv) -> None:
    ledger = [
        mv("on_order", 50, day(0), "po1", order_ref="PO1", due=day(9)),
        mv("on_order", 50, day(0), "po2", order_ref="PO2", due=day(5)),
        mv("shipped", 60, day(1), "asn", due=day(3)),
    ]
    pos = position(ledger, day(2))
    assert pos.receipts == (
        ScheduledReceipt(None, "in_transit", Decimal(60), day(3)),
        ScheduledReceipt("PO1", "on_order", Decimal(40), day(9), day(0)),
    )


def test_confirmation_sets_the_promised_date_and_the_confirmed_quantity(mv) -> None:
    ledger = [
        mv("on_order", 100, day(0), "po", order_ref="PO1", due=day(6)),
        mv("confirmed", 60, day(1), "ack1", line="1", order_ref="PO1", due=day(8)),
        mv("confirmed", 40, day(1), "ack1", line="2", order_ref="PO1", due=day(12)),
        mv("confirmed", 80, day(0), "ack0", order_ref="PO1", due=day(7)),  # superseded by ack1
    ]
    pos = position(ledger, day(2))
    assert pos.receipts == (ScheduledReceipt("PO1", "on_order", Decimal(100), day(12), day(0), True),)
    assert pos.confirmed == 100


def test_window_figures_and_last_snapshot(mv) -> None:
    ledger = [
        mv("sale", 7, day(0), "s0"), mv("sale", 9, day(8), "s1"), mv("received", 12, day(9), "r1"),
        mv("snapshot_on_hand", 30, day(5), "q1"),
    ]
    pos = position(ledger, day(10), window_days=5)
    assert (pos.sold, pos.received, pos.last_snapshot_date) == (Decimal(9), Decimal(12), day(5))


def test_explain_names_the_documents_behind_each_figure(mv) -> None:
    ledger = [
        mv("snapshot_on_hand", 80, day(1), "q0"), mv("snapshot_on_hand", 70, day(3), "q1"),
        mv("sale", 15, day(4), "s2"), mv("sale", 6, day(2), "s1"), mv("adjustment", 2, day(2), "a0"),
        mv("on_order", 40, day(2), "po", order_ref="PO1"), mv("shipped", 10, day(3), "asn", order_ref="PO1"),
    ]
    pos = position(ledger, day(5), window_days=28)
    assert [r.document_id for r in explain(pos, "on_hand")] == ["q1", "s2"]
    assert [r.document_id for r in explain(pos, "sold")] == ["s1", "s2"]
    assert [r.document_id for r in explain(pos, "on_order")] == ["po", "asn"]
    assert [r.document_id for r in explain(pos, "in_transit")] == ["asn"]
    assert "a0" not in {m.source.document_id for m in pos.explanation}  # superseded by q1


def test_a_document_applied_twice_changes_nothing(mv) -> None:
    ledger = [mv("snapshot_on_hand", 50, day(0), "q"), mv("sale", 5, day(1), "s"),
              mv("on_order", 30, day(1), "po", order_ref="PO1")]
    replayed = ledger + [mv("sale", 5, day(1), "s"), mv("on_order", 30, day(1), "po", order_ref="PO1")]
    assert position(replayed, day(3)) == position(ledger, day(3))
    assert position(replayed, day(3)).issues == ()


def test_same_key_different_content_is_a_conflict_and_the_first_recorded_wins(mv) -> None:
    first = mv("sale", 5, day(1), "s", sequence=1)
    second = mv("sale", 50, day(1), "s", sequence=2)
    assert first.idempotency_key == second.idempotency_key
    for ledger in ([first, second], [second, first]):
        kept, issues = dedupe(ledger)
        assert kept == [first]
        assert issues == [Issue("LEDGER_KEY_CONFLICT", "rows share an idempotency key but differ; the first "
                                "recorded is kept", ("movements", first.idempotency_key), severity="warning")]


def test_idempotency_key_separates_kinds_and_locations_of_one_line(mv) -> None:
    qa = mv("snapshot_on_hand", 5, day(1), "852")
    qs = mv("sale", 5, day(1), "852")
    other_store = mv("sale", 5, day(1), "852", key=ItemLocationKey("SKU-1", "STORE-2"))
    assert len({qa.idempotency_key, qs.idempotency_key, other_store.idempotency_key}) == 3


INVALID_MOVEMENTS = [
    ({"kind": "on_order", "order_ref": None}, ["REQUIRED"]),
    ({"kind": "received", "quantity": Decimal(-1)}, ["NEGATIVE"]),
    ({"kind": "shipped", "period_start": D0}, ["UNEXPECTED"]),
    ({"kind": "sale", "period_start": day(5)}, ["PERIOD_INVERTED"]),
    ({"kind": "sale", "quantity": 1.5}, ["NOT_A_NUMBER"]),
    ({"kind": "sale", "quantity": Decimal("NaN")}, ["NOT_FINITE"]),
    ({"kind": "sold"}, ["UNKNOWN_KIND"]),
    ({"kind": "sale", "key": ("SKU-1", "")}, ["REQUIRED"]),
]


@pytest.mark.parametrize(("fields", "codes"), INVALID_MOVEMENTS)
def test_invalid_movements_are_rejected_with_codes(fields, codes) -> None:
    args = {"kind": "sale", "key": ("SKU-1", "STORE-1"), "quantity": Decimal(1), "effective": day(1),
            "source": DocumentRef("d", "852", "R", "1"), **fields}
    with pytest.raises(MovementInvalid) as caught:
        Movement(**args)
    assert caught.value.code == "MOVEMENT_INVALID"
    assert [i.code for i in caught.value.issues] == codes


def test_an_input_refuses_movements_of_another_item_location(mv) -> None:
    policy = ReplenishmentPolicy("min_max", min_qty=Decimal(1), max_qty=Decimal(2))
    stray = mv("sale", 1, day(1), "s", key=ItemLocationKey("SKU-2", "STORE-1"))
    with pytest.raises(MovementInvalid) as caught:
        ItemLocationInput(ItemLocationKey("SKU-1", "STORE-1"), policy, (mv("sale", 1, day(1), "t"), stray))
    assert [(i.code, i.loc) for i in caught.value.issues] == [("FOREIGN_MOVEMENT", ("movements", 1))]


# --------------------------------------------------------------------------- properties

KINDS = ["snapshot_on_hand", "sale", "on_order", "confirmed", "shipped", "received", "adjustment", "cancelled"]


def _row(kind: str, qty: int, offset: int, doc: int, ref: int | None, due: int | None, seq: int) -> Movement:
    needs_order = kind in ("on_order", "confirmed", "cancelled")
    if kind not in ("snapshot_on_hand", "sale", "on_order", "adjustment"):
        qty = abs(qty)
    return Movement(kind, ("SKU-1", "STORE-1"), Decimal(qty), day(offset), DocumentRef(f"d{doc}", "x", "k", "1"),
                    order_ref=f"PO{ref if ref is not None else 0}" if needs_order or ref is not None else None,
                    due=day(due) if due is not None else None, sequence=seq)


rows = st.builds(
    _row, st.sampled_from(KINDS), st.integers(-50, 200), st.integers(0, 20), st.integers(0, 12),
    st.one_of(st.none(), st.integers(0, 2)), st.one_of(st.none(), st.integers(0, 30)), st.integers(0, 3),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(rows, max_size=25), st.randoms(use_true_random=False), st.integers(0, 25))
def test_property_position_ignores_order_and_replays(ledger, rng: random.Random, as_of: int) -> None:
    shuffled = list(ledger)
    rng.shuffle(shuffled)
    replayed = ledger + rng.sample(ledger, k=len(ledger) // 2)
    rng.shuffle(replayed)
    expected = position(ledger, day(as_of))
    assert position(shuffled, day(as_of)) == expected
    assert position(replayed, day(as_of)) == expected
    assert position(ledger + ledger, day(as_of)) == expected
    assert expected.on_order >= 0 and expected.in_transit >= 0
