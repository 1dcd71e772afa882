"""Inventory services shared by the apply stage, HTTP, the portal, the CLI and the workers.

* :class:`InventoryEffects` — the apply stage's effects for 846/852/850/860/855/856/830: ledger rows
  (idempotent), positions of what the document touched, a debounced replanning request per
  supplier; problems become issues on the document. :func:`default_effects` composes it with the
  order records.
* :class:`Planner` — a worker service: runs due replanning requests, the daily run over every
  supplier (``schedule_hour_utc``), and sends approved proposals whose order is not out yet.
* Proposals: :func:`edit_proposal`, :func:`reject_proposal`, :func:`approve_proposal`. Approval
  writes the order into the ledger (on order) and sends the customer a vendor-generated order
  through the normal path — an 855, or an 850 on its behalf, per the VMI program — as an internal
  message from the host addressed to the customer (rendered and delivered per its agreement).

Approval is two steps, each exactly once: the proposal turns ``approved`` (a conditional update:
one of two concurrent approvals wins, the other gets ``PROPOSAL_DECIDED``) with its on-order row
in one transaction; then the order is ingested with ``Idempotency-Key: vmi-proposal-<id>``. A
crash between the two is repaired by the planner, which re-sends approved proposals without a
message (the key makes the resend a no-op if the first one got through).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from crossdock.gateway.effects import AppliedDocument, EffectsService, OrderRecords
from crossdock.gateway.inventory.errors import ProposalDecided, ProposalInvalid
from crossdock.gateway.inventory.movements import DOCUMENT_CODES, Lookups, References, extract, references
from crossdock.gateway.inventory.planning import refresh_positions, run_planning
from crossdock.gateway.inventory.store import (
    AppendRequest,
    InventoryNotFound,
    PartyRoles,
    append_extractions,
    append_movements,
    lookups,
    merge_references,
    movement_key,
    party_roles_of,
)
from crossdock.gateway.settings import InventorySettings
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import execute_later, insert_ignore, is_postgres, shared_reads
from crossdock.schemas.canonical import (
    AckType,
    DateKind,
    DateReference,
    DateTimeValue,
    IdScheme,
    ItemId,
    ItemIdentifiers,
    ItemIdKind,
    LineAck,
    LineAckStatus,
    OrderLine,
    OrderResponse,
    Party,
    PartyIdentifier,
    PartyRole,
    Purpose,
    PurchaseOrder,
    Quantity,
    ResponseLine,
    document_adapter,
)
from crossdock.schemas.errors import CrossdockError, Issue

__all__ = [
    "InventoryEffects",
    "ComposedEffects",
    "default_effects",
    "request_replan",
    "Planner",
    "edit_proposal",
    "reject_proposal",
    "approve_proposal",
    "send_approved",
    "document_identity",
]

log = structlog.get_logger("crossdock.inventory")
MAX_QUANTITY = Decimal("99999999")


# ------------------------------------------------------------------------------- effects


def document_identity(partner_id: int | None, document_id: int, code: str, body: Any) -> tuple[str, str]:
    """(identity hashed into the ledger keys, business key shown) of an applied document.

    The same business document re-sent in a new envelope keeps its identity, so its rows are not
    counted twice: a PO number, an ASN number, an 852 report id and period, an 846 report id and
    date. A confirmation (855) keeps its own document id: the latest one wins in the engine anyway.
    """
    number = _business_number(code, body)
    if number is None:
        return f"doc:{document_id}", str(document_id)
    return f"{partner_id}:{code}:{number}", number


def _business_number(code: str, body: Any) -> str | None:
    if code in ("850", "860"):
        suffix = f"/{body.change_sequence}" if code == "860" and body.change_sequence else ""
        return f"{body.po_number}{suffix}"
    if code == "856":
        return body.asn_number
    if code == "852" and (body.report_id or body.period_start or body.period_end):
        return f"{body.report_id or ''}@{body.period_start or ''}..{body.period_end or ''}"
    if code == "846":
        dated = body.report_date.date if body.report_date and body.report_date.date else ""
        return f"{body.report_id}@{dated}"
    if code == "830" and body.schedule_number:
        return body.schedule_number
    return None


class InventoryEffects:
    """Applies inventory documents (see :mod:`.movements` for the rules), a message at a time.

    The cost is per message, not per document: the senders' roles, the identifiers of every
    document and the orders they name are looked up in one batch per sender, the ledger rows of
    all documents go in as one multi-row insert, positions are refreshed once, issues are noted in
    one round trip and one log line gives the counts. A document naming an order that an earlier
    document of the same message placed is extracted after those rows are stored, so the order is
    seen exactly as if the documents had come one by one.
    """

    def __init__(self, settings: InventorySettings | None = None) -> None:
        self._settings = settings or InventorySettings()

    def apply(self, conn: Connection, documents: Sequence[AppliedDocument], *, now: datetime) -> list[Issue]:
        parsed = [_Parsed.of(d, code) for d in documents if (code := DOCUMENT_CODES.get(d.document_type))]
        if not parsed:
            return []
        batch = _Batch(conn, now.date(), parsed)
        for document in parsed:
            batch.add(document)
        batch.flush()
        if batch.noted:
            _note_issues(conn, batch.noted, {p.document.id: p.document.issues for p in parsed})
        if batch.touched:
            refresh_positions(conn, batch.touched, now.date())
            suppliers = conn.execute(select(t.inv_item_locations.c.supplier_id).distinct().where(
                t.inv_item_locations.c.id.in_(sorted(batch.touched)))).scalars().all()
            request_replan(conn, suppliers, now=now.timestamp(), delay_s=self._settings.replan_debounce_s,
                           reason="documents")
        # a line per message only when inventory changed or a document was rejected
        changed = batch.added or batch.touched or batch.rejected
        (log.info if changed else log.debug)(
            "inventory applied", documents=len(parsed), movements=batch.added, item_locations=len(batch.touched),
            issues=len(batch.issues), rejected=batch.rejected)
        return batch.issues


@dataclass(frozen=True, slots=True)
class _Parsed:
    """An applied document as the engine reads it: the canonical model and what it names."""

    document: AppliedDocument
    code: str
    body: Any
    refs: References

    @classmethod
    def of(cls, document: AppliedDocument, code: str) -> _Parsed:
        body = document.model if document.model is not None else document_adapter().validate_python(dict(document.body))
        refs = references(body)
        if code not in _READS_ORDERS:  # an 850 names its own order but never reads it back
            refs = replace(refs, orders=frozenset())
        return cls(document, code, body, refs)


#: documents whose rows depend on what the ledger holds for their order (860 deltas, 855/856 lines)
_READS_ORDERS = frozenset({"860", "855", "856"})


class _Batch:
    """The inventory effects of one message: lookups per sender, rows stored together."""

    def __init__(self, conn: Connection, today: date, parsed: Sequence[_Parsed]) -> None:
        self.conn, self.today = conn, today
        partners = {p.document.partner_id for p in parsed}
        shared = shared_reads(conn)
        self.roles = _party_roles(conn, partners, shared)
        self.answers = {partner: _lookups(conn, merge_references(p.refs for p in parsed
                                                                 if p.document.partner_id == partner),
                                          self.roles[partner], shared) for partner in partners}
        self.pending: list[AppendRequest] = []
        self.ordered: set[str] = set()  # orders this message wrote to the ledger
        self.added = 0
        self.rejected = 0
        self.touched: set[int] = set()
        self.issues: list[Issue] = []
        self.noted: dict[int, list[Issue]] = {}

    def add(self, parsed: _Parsed) -> None:
        document = parsed.document
        found = self.answers[document.partner_id]
        if parsed.refs.orders & self.ordered:
            self.flush()
            fresh = lookups(self.conn, References(frozenset(), frozenset(), parsed.refs.orders),
                            self.roles[document.partner_id])
            found = replace(found, order_lines=fresh.order_lines)
        extraction = extract(parsed.body, found, self.today)
        issues = [Issue(i.code, i.msg, ("inventory", *i.loc), i.severity, i.input) for i in extraction.issues]
        if extraction.rejected:
            self.rejected += 1
            issues.insert(0, Issue("INVENTORY_REJECTED", "the document is refused by the inventory: nothing of it "
                                   "was applied", ("inventory",)))
        else:
            identity, business_key = document_identity(document.partner_id, document.id, parsed.code, parsed.body)
            self.pending.append(AppendRequest(extraction, identity, parsed.code, business_key, document.id))
            self.ordered |= {m.order_ref for m in extraction.movements if m.order_ref}
        if issues:
            self.issues += issues
            self.noted[document.id] = issues

    def flush(self) -> None:
        if self.pending:
            added, touched = append_extractions(self.conn, self.pending)
            self.added += added
            self.touched |= touched
            self.pending = []


def _party_roles(conn: Connection, partners: set[int | None], shared: dict | None) -> dict[int | None, PartyRoles]:
    """:func:`party_roles_of`, answered once per transaction when its reads are shared (a
    worker batch): no effect adds items or locations, so a partner's roles cannot change."""
    if shared is None:
        return party_roles_of(conn, partners)
    known = shared.setdefault(("inventory", "roles"), {})
    missing = {p for p in partners if p not in known}
    if missing:
        known.update(party_roles_of(conn, missing))
    return {p: known[p] for p in {*partners, None}}


def _lookups(conn: Connection, refs: References, roles: PartyRoles, shared: dict | None) -> Lookups:
    """:func:`lookups`; with shared reads, items and locations (master data no effect writes)
    are looked up once per transaction and sender role, the ledger's orders every time."""
    if shared is None:
        return lookups(conn, refs, roles)
    known = shared.setdefault(("inventory", "lookups", roles), {})
    items = frozenset(r for r in refs.items if ("item", r) not in known)
    places = frozenset(r for r in refs.locations if ("place", r) not in known)
    fresh = lookups(conn, References(items, places, refs.orders), roles)
    known.update({("item", r): fresh.items.get(r) for r in items})
    known.update({("place", r): fresh.locations.get(r) for r in places})
    return Lookups({r: found for r in refs.items if (found := known[("item", r)]) is not None},
                   {r: found for r in refs.locations if (found := known[("place", r)]) is not None},
                   fresh.order_lines)


def _note_issues(conn: Connection, noted: Mapping[int, Sequence[Issue]],
                 stored: Mapping[int, Sequence[Mapping[str, Any]] | None]) -> None:
    """Keep inventory issues on the document rows, where the message detail shows them (one
    ``executemany`` for the whole message, after one read of the rows' issues unless the caller
    handed them in with the documents)."""
    d = t.documents
    if all(stored.get(document_id) is not None for document_id in noted):
        current = {document_id: stored[document_id] for document_id in noted}
    else:
        current = dict(conn.execute(select(d.c.id, d.c.issues).where(d.c.id.in_(sorted(noted)))).all())
    rows = [{"_id": document_id, "_issues": [*(current.get(document_id) or []), *(
        {"code": i.code, "msg": i.msg, "loc": list(i.loc), "severity": i.severity, "input": i.input}
        for i in issues[:200])]} for document_id, issues in noted.items() if document_id in current]
    execute_later(conn, _issues_update(), rows)  # (read back by no stage: with a batch's other rows)


@cache
def _issues_update():
    d = t.documents
    return update(d).where(d.c.id == bindparam("_id")).values(issues=bindparam("_issues"))


class ComposedEffects:
    """Several effects services applied in order, in the same transaction."""

    def __init__(self, *services: EffectsService) -> None:
        self.services = services

    def apply(self, conn: Connection, documents: Sequence[AppliedDocument], *, now: datetime) -> list[Issue]:
        issues: list[Issue] = []
        for service in self.services:
            issues += service.apply(conn, documents, now=now)
        return issues


def default_effects(settings: InventorySettings | None = None) -> EffectsService:
    """Order records, then the inventory."""
    return ComposedEffects(OrderRecords(), InventoryEffects(settings))


def request_replan(conn: Connection, supplier_ids: Sequence[int], *, now: float, delay_s: float,
                   reason: str) -> None:
    """Ask for a planning run of each supplier ``delay_s`` from now (a later request pushes it on;
    the first request time is kept, so a steady stream of documents cannot starve the run)."""
    r = t.inv_replan_requests
    for supplier in supplier_ids:
        inserted = insert_ignore(conn, r, {"supplier_id": supplier, "due_at": now + delay_s, "requested_at": now,
                                           "reason": reason}, ("supplier_id",))
        if not inserted:
            conn.execute(update(r).where(r.c.supplier_id == supplier).values(due_at=now + delay_s))


# ------------------------------------------------------------------------------- planner


class Planner:
    """Worker service: due replanning requests, the daily run, and unsent approved orders."""

    def __init__(self, runtime: Any, clock=time.time) -> None:
        self.runtime = runtime
        self.settings: InventorySettings = runtime.settings.inventory
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.planner_poll_s <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="crossdock-planner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.planner_poll_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the loop must survive a bad tick; logged once here
                log.exception("planner tick failed")

    def tick(self) -> int:
        """One pass: schedule the daily run if due, run due requests, resend approved orders.

        Returns:
            Runs done.
        """
        now = self.clock()
        self._schedule_daily(now)
        runs = 0
        while (claim := self._claim(now)) is not None:
            supplier, requested_at, reason = claim
            today = datetime.fromtimestamp(now, UTC).date()
            report = run_planning(self.runtime.engine, today, supplier_id=supplier, reason=reason,
                                  chunk_size=self.settings.chunk_size, now=datetime.fromtimestamp(now, UTC),
                                  processes=self.settings.run_processes)
            self._release(supplier, requested_at)
            log.info("planning run", supplier_id=supplier, reason=reason, item_locations=report.item_locations,
                     proposals=report.proposals, new=report.proposals_new, duration_s=round(report.duration_s, 3))
            runs += 1
        send_approved(self.runtime)
        return runs

    def _claim(self, now: float) -> tuple[int, float, str] | None:
        r = t.inv_replan_requests
        starve = self.settings.replan_debounce_s * 10
        with self.runtime.engine.begin() as conn:
            query = (select(r.c.supplier_id, r.c.requested_at, r.c.reason)
                     .where((r.c.due_at <= now) | (r.c.requested_at <= now - starve)).order_by(r.c.due_at).limit(1))
            if is_postgres(conn):
                query = query.with_for_update(skip_locked=True)
            row = conn.execute(query).first()
            if row is None:
                return None
            # Leased: another worker takes it over only if this run dies.
            conn.execute(update(r).where(r.c.supplier_id == row.supplier_id)
                         .values(due_at=now + self.settings.planner_lease_s, requested_at=now + self.settings.planner_lease_s))
        return row.supplier_id, now + self.settings.planner_lease_s, row.reason

    def _release(self, supplier: int, claimed: float) -> None:
        r = t.inv_replan_requests
        with self.runtime.engine.begin() as conn:
            # A request that arrived during the run moved requested_at/due_at: keep it for the next pass.
            conn.execute(r.delete().where(r.c.supplier_id == supplier, r.c.requested_at == claimed,
                                          r.c.due_at == claimed))

    def _schedule_daily(self, now: float) -> None:
        moment = datetime.fromtimestamp(now, UTC)
        if moment.hour < self.settings.schedule_hour_utc:
            return
        with self.runtime.engine.begin() as conn:
            done = conn.execute(select(t.inv_runs.c.id).where(
                t.inv_runs.c.trigger == "schedule", t.inv_runs.c.today == moment.date()).limit(1)).first()
            pending = conn.execute(select(t.inv_replan_requests.c.supplier_id).where(
                t.inv_replan_requests.c.reason == "schedule").limit(1)).first()
            if done or pending:
                return
            suppliers = conn.execute(select(t.inv_item_locations.c.supplier_id).distinct()).scalars().all()
            request_replan(conn, suppliers, now=now, delay_s=0.0, reason="schedule")
            if suppliers:
                # Marks the day as scheduled even before the first supplier's run finishes.
                conn.execute(t.inv_runs.insert().values(
                    supplier_id=None, trigger="schedule", today=moment.date(), started_at=moment, duration_s=0.0,
                    item_locations=0, proposals=0, issues=0))


# ------------------------------------------------------------------------------ proposals


def _proposal(conn: Connection, proposal_id: int, scope: int | None, *, lock: bool = False):
    pr, il = t.inv_proposals, t.inv_item_locations
    query = (select(pr, il.c.item_id, il.c.location_id, il.c.item_code, il.c.location_code, il.c.pack_multiple)
             .join(il, il.c.id == pr.c.item_location_id).where(pr.c.id == proposal_id))
    if scope is not None:
        query = query.where(pr.c.supplier_id == scope)
    if lock and is_postgres(conn):
        query = query.with_for_update(of=pr)
    row = conn.execute(query).first()
    if row is None:
        raise InventoryNotFound(f"no proposal {proposal_id}", code="PROPOSAL_NOT_FOUND")
    return row


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ProposalInvalid("the quantity is not a number") from None
    if not quantity.is_finite() or quantity <= 0 or quantity > MAX_QUANTITY or quantity != quantity.quantize(
            Decimal("0.0001")):
        raise ProposalInvalid(f"the quantity must be positive, at most {MAX_QUANTITY}, with at most 4 decimals")
    return quantity


def edit_proposal(conn: Connection, proposal_id: int, quantity: Any, *, scope: int | None, actor: str,
                  now: datetime) -> None:
    """Change the quantity an open proposal will order.

    Raises:
        InventoryNotFound: no such proposal for this caller.
        ProposalDecided: not open any more.
        ProposalInvalid: the quantity cannot be ordered.
    """
    value = _quantity(quantity)
    _proposal(conn, proposal_id, scope)
    pr = t.inv_proposals
    done = conn.execute(update(pr).where(pr.c.id == proposal_id, pr.c.state == "open")
                        .values(approved_quantity=value)).rowcount
    if not done:
        raise ProposalDecided(f"proposal {proposal_id} is not open")
    log.info("proposal edited", proposal_id=proposal_id, actor=actor)


def reject_proposal(conn: Connection, proposal_id: int, *, scope: int | None, actor: str, now: datetime) -> None:
    """Reject an open proposal (the planner proposes again only when the picture changes).

    Raises:
        InventoryNotFound, ProposalDecided: as for :func:`edit_proposal`.
    """
    _proposal(conn, proposal_id, scope)
    pr = t.inv_proposals
    done = conn.execute(update(pr).where(pr.c.id == proposal_id, pr.c.state == "open")
                        .values(state="rejected", decided_at=now, decided_by=actor[:160])).rowcount
    if not done:
        raise ProposalDecided(f"proposal {proposal_id} is not open")
    log.info("proposal rejected", proposal_id=proposal_id, actor=actor)


def approve_proposal(runtime: Any, proposal_id: int, *, scope: int | None, actor: str,
                     quantity: Any = None, now: datetime | None = None) -> dict[str, Any]:
    """Approve an open proposal: record the order, then send it to the customer.

    Args:
        runtime: the process runtime (engine, dispatch).
        proposal_id: the proposal.
        scope: the caller's supplier (None: every supplier).
        actor: who approves (for the record).
        quantity: an edited quantity (else the edited or proposed one).
        now: the clock.

    Returns:
        ``{"id", "state", "po_number", "message_id"}``.

    Raises:
        InventoryNotFound, ProposalDecided, ProposalInvalid: as for :func:`edit_proposal`; also
            ``ProposalInvalid`` when the location has no customer to order for.
    """
    now = now or datetime.now(UTC)
    with runtime.engine.begin() as conn:
        row = _proposal(conn, proposal_id, scope, lock=True)
        if row.state != "open":
            raise ProposalDecided(f"proposal {proposal_id} is {row.state}")
        chosen = _quantity(quantity) if quantity is not None else (row.approved_quantity or row.quantity)
        order = _order_context(conn, row)
        po_number = f"{order['po_prefix']}-{proposal_id:06d}"
        pr = t.inv_proposals
        won = conn.execute(update(pr).where(pr.c.id == proposal_id, pr.c.state == "open").values(
            state="approved", approved_quantity=chosen, decided_at=now, decided_by=actor[:160],
            po_number=po_number)).rowcount
        if not won:
            raise ProposalDecided(f"proposal {proposal_id} is not open")
        _record_order(conn, row, order["customer_id"], po_number, chosen, now)
        refresh_positions(conn, [row.item_location_id], now.date())
    log.info("proposal approved", proposal_id=proposal_id, actor=actor, po_number=po_number)
    message_id = _send(runtime, proposal_id, now)
    return {"id": proposal_id, "state": "approved", "po_number": po_number, "message_id": message_id}


def _order_context(conn: Connection, row) -> dict[str, Any]:
    location = conn.execute(select(t.inv_locations).where(t.inv_locations.c.id == row.location_id)).one()
    if location.customer_id is None:
        raise ProposalInvalid(f"location {location.code} belongs to no customer to send the order to")
    program = conn.execute(select(t.inv_programs).where(
        t.inv_programs.c.supplier_id == row.supplier_id, t.inv_programs.c.customer_id == location.customer_id)).first()
    return {"customer_id": location.customer_id, "order_document": program.order_document if program else
            "order_response", "po_prefix": program.po_prefix if program else "VMI"}


def _record_order(conn: Connection, row, customer_id: int, po_number: str, quantity: Decimal, now: datetime) -> None:
    """The vendor-generated order on order, keyed as the customer's 850 line 1 would be, so an 850
    sent on the customer's behalf and applied later adds nothing."""
    identity = f"{customer_id}:850:{po_number}"
    append_movements(conn, [{
        "idempotency_key": movement_key(identity, "850", po_number, "1", "on_order", row.item_id, row.location_id),
        "item_location_id": row.item_location_id, "kind": "on_order", "quantity": quantity,
        "effective": now.date(), "period_start": None, "due": row.needed_by, "order_ref": po_number,
        "document_id": None, "document_type": "vmi", "business_key": po_number, "line": f"proposal {row.id}",
    }])


def _send(runtime: Any, proposal_id: int, now: datetime) -> str | None:
    """Ingest the vendor-generated order for an approved proposal (idempotent by key)."""
    from crossdock.gateway.ingest import IngestRequest, ingest
    from crossdock.gateway.partners import partner_by_id

    with runtime.engine.connect() as conn:
        row = _proposal(conn, proposal_id, None)
        order = _order_context(conn, row)
        body = _order_document(conn, row, order["order_document"], now)
        host_id = conn.execute(select(t.partners.c.id).where(t.partners.c.kind == "host")
                               .order_by(t.partners.c.id).limit(1)).scalar()
        if host_id is None:
            log.warning("no host partner: approved order not sent", proposal_id=proposal_id)
            return None
        host, customer = partner_by_id(conn, host_id), partner_by_id(conn, order["customer_id"])
    result = ingest(runtime.engine, IngestRequest(
        body=body, channel="internal", partner=host, recipient=customer, content_type="application/json",
        idempotency_key=f"vmi-proposal-{proposal_id}"))
    with runtime.engine.begin() as conn:
        conn.execute(update(t.inv_proposals).where(t.inv_proposals.c.id == proposal_id)
                     .values(message_id=result.message_id))
    if result.work_id is not None:
        runtime.dispatch(result.work_id)
    return result.message_id


def send_approved(runtime: Any) -> int:
    """Send approved proposals whose order never went out (a crash after approval)."""
    with runtime.engine.connect() as conn:
        ids = conn.execute(select(t.inv_proposals.c.id).where(
            t.inv_proposals.c.state == "approved", t.inv_proposals.c.message_id.is_(None)).limit(100)).scalars().all()
    sent = 0
    for proposal_id in ids:
        try:
            sent += _send(runtime, proposal_id, datetime.now(UTC)) is not None
        except CrossdockError as exc:
            log.warning("approved order not sent", proposal_id=proposal_id, code=exc.code)
    return sent


def _item_ids(item) -> ItemIdentifiers:
    ids = []
    if item.buyer_sku:
        ids.append(ItemId(kind=ItemIdKind.BUYER_PART, qualifier="BP", value=item.buyer_sku))
    if item.vendor_part:
        ids.append(ItemId(kind=ItemIdKind.VENDOR_PART, qualifier="VP", value=item.vendor_part))
    if item.gtin:
        upc = item.gtin.startswith("00")
        ids.append(ItemId(kind=ItemIdKind.GTIN, qualifier="UP" if upc else "UK",
                          value=item.gtin[2:] if upc else item.gtin))
    return ItemIdentifiers(ids=tuple(ids))


def _ship_to(location) -> Party:
    if location.gln:
        identifier = PartyIdentifier(scheme=IdScheme.GLN, qualifier="UL", value=location.gln)
    else:
        identifier = PartyIdentifier(scheme=IdScheme.ASSIGNED_BY_BUYER, qualifier="92",
                                     value=location.partner_code or location.code)
    return Party(role=PartyRole.SHIP_TO, role_code="ST", name=location.name, identifiers=(identifier,))


def _order_document(conn: Connection, row, kind: str, now: datetime) -> bytes:
    item = conn.execute(select(t.inv_items).where(t.inv_items.c.id == row.item_id)).one()
    location = conn.execute(select(t.inv_locations).where(t.inv_locations.c.id == row.location_id)).one()
    quantity = Quantity(value=row.approved_quantity or row.quantity, unit=item.unit or "EA",
                        unit_original=item.unit or "EA")
    today = DateTimeValue(date=now.date())
    due = DateReference(kind=DateKind.REQUESTED_DELIVERY, qualifier="002", value=DateTimeValue(date=row.needed_by))
    parties = (_ship_to(location),)
    if kind == "purchase_order":
        document: Any = PurchaseOrder(
            purpose=Purpose.ORIGINAL, purpose_code="00", order_type_code="SA", po_number=row.po_number,
            order_date=today, dates=(due,), parties=parties,
            lines=(OrderLine(line_number="1", item=_item_ids(item), quantity=quantity),), line_count=1)
    else:
        ack = LineAck(status=LineAckStatus.ACCEPTED, status_code="IA", quantity=quantity, date_qualifier="068",
                      date=row.needed_by)
        document = OrderResponse(
            purpose=Purpose.ORIGINAL, purpose_code="00", ack_type=AckType.ACCEPTED, ack_type_code="AD",
            po_number=row.po_number, po_date=today, ack_date=today, parties=parties,
            lines=(ResponseLine(line_number="1", item=_item_ids(item), quantity=quantity, acks=(ack,)),),
            line_count=1)
    return document.model_dump_json(exclude_none=True).encode("utf-8")

