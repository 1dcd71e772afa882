"""Rule tables shared by several X12 sets: parties (N1 loop), references, dates, terms, lines ..."""

from __future__ import annotations

from dataclasses import replace

from crossdock.mappings.spec import Collect, Each, Field, Rule, Rules
from crossdock.mappings.x12.loops import LoopShape, shape

__all__ = [
    "REFERENCE", "DATE", "CONTACT", "PARTY", "CHARGE", "TERMS", "FOB", "CARRIER", "LADING",
    "EQUIPMENT", "PRICE", "DESCRIPTION", "NOTE", "MARK", "TAX", "packaging", "prefixed", "line_items", "N1_LOOP",
    "N1_MEMBERS", "HEADER_COMMON",
]

REFERENCE: Rules = (
    Field(("kind", "qualifier"), "REF01", ("coded(reference_kind)",), required=True),
    Field("value", "REF02", default=""),
    Field("description", "REF03"),
)

DATE: Rules = (
    Field(("kind", "qualifier"), "DTM01", ("coded(date_kind)",), required=True),
    Field("value", ("DTM02", "DTM03", "DTM04"), ("datetime",)),
)

CONTACT: Rules = (
    Field("function_code", "PER01"),
    Field("name", "PER02"),
    Field("channels", "PER03..08", ("channels",)),
)

N1_MEMBERS = "N2 N3 N4 NX2 REF PER SI FOB TD1 TD5 TD3 TD4 PKG"
N1_LOOP: LoopShape = shape("N1", N1_MEMBERS)

PARTY: Rules = (
    Field(("role", "role_code"), "N101", ("coded(party_role)",), required=True),
    Field("name", "N102"),
    Field("identifiers", ("N103", "N104"), ("party_ids",)),
    Collect("additional_names", "N2", "lines"),
    Collect("address.lines", "N3", "lines"),
    Field("address.city", "N401"),
    Field("address.region", "N402"),
    Field("address.postal_code", "N403"),
    Field("address.country", "N404"),
    Field("address.location_qualifier", "N405"),
    Field("address.location_id", "N406"),
    Each("references", "REF", REFERENCE),
    Each("contacts", "PER", CONTACT),
)

CHARGE: Rules = (
    Field(("indicator", "indicator_code"), "SAC01", ("coded(charge_indicator)",), required=True),
    Field("code", "SAC02"),
    Field("agency_qualifier", "SAC03"),
    Field("agency_code", "SAC04"),
    Field("amount", "SAC05", ("decimal", "money")),
    Field("percent_qualifier", "SAC06"),
    Field("percent", "SAC07", ("decimal",)),
    Field("rate", "SAC08", ("decimal",)),
    Field("quantity", ("SAC10", "SAC09"), ("quantity",)),
    Field("handling_code", "SAC12"),
    Field("reference", "SAC13"),
    Field("description", "SAC15"),
)

TERMS: Rules = (
    Field("type_code", "ITD01"),
    Field("basis_date_code", "ITD02"),
    Field("discount_percent", "ITD03", ("decimal",)),
    Field("discount_due_date", "ITD04", ("date",)),
    Field("discount_days", "ITD05", ("int",)),
    Field("net_due_date", "ITD06", ("date",)),
    Field("net_days", "ITD07", ("int",)),
    Field("discount_amount", "ITD08", ("decimal", "money")),
    Field("description", "ITD12"),
    Field("day_of_month", "ITD13", ("int",)),
)

FOB: Rules = (
    Field("payment_method", "FOB01"),
    Field("location_qualifier", "FOB02"),
    Field("location", "FOB03"),
    Field("terms_qualifier", "FOB04"),
    Field("terms_code", "FOB05"),
)

CARRIER: Rules = (
    Field("routing_sequence", "TD501"),
    Field("id_qualifier", "TD502"),
    Field("carrier_id", "TD503"),
    Field("transport_method", "TD504"),
    Field("routing", "TD505"),
    Field("service_level", "TD512"),
)

LADING: Rules = (
    Field("packaging_code", "TD101"),
    Field("lading_quantity", "TD102", ("decimal",)),
    Field("commodity_code", "TD104"),
    Field("weight_qualifier", "TD106"),
    Field("weight", ("TD107", "TD108"), ("quantity",)),
    Field("volume", ("TD109", "TD110"), ("quantity",)),
)

EQUIPMENT: Rules = (
    Field("equipment_code", "TD301"),
    Field("initial", "TD302"),
    Field("number", "TD303"),
    Field("seal_number", "TD309"),
)

PRICE: Rules = (
    Field("class_of_trade", "CTP01"),
    Field("qualifier", "CTP02"),
    Field("price", "CTP03", ("decimal",)),
    Field("quantity", ("CTP04", "CTP05-1"), ("quantity",)),
    Field("multiplier_qualifier", "CTP06"),
    Field("multiplier", "CTP07", ("decimal",)),
)

DESCRIPTION: Rules = (
    Field("type_code", "PID01"),
    Field("characteristic", "PID02"),
    Field("agency", "PID03"),
    Field("code", "PID04"),
    Field("text", "PID05"),
    Field("language", "PID09"),
)

NOTE: Rules = (
    Field("code", "NTE01"),
    Field("text", "NTE02", default=""),
)

MARK: Rules = (
    Field("qualifier", "MAN01"),
    Field("value", "MAN02", default=""),
    Field("value_to", "MAN03"),
)


TAX: Rules = (
    Field("tax_type", "TXI01"),
    Field("amount", "TXI02", ("decimal", "money")),
    Field("percent", "TXI03", ("decimal",)),
    Field("jurisdiction_qualifier", "TXI04"),
    Field("jurisdiction", "TXI05"),
    Field("exempt_code", "TXI06"),
)


def prefixed(prefix: str, rules: Rules) -> Rules:
    """``rules`` writing into the sub-object ``prefix`` (e.g. a location's ``party``)."""
    out: list[Rule] = []
    for rule in rules:
        if isinstance(rule, Field):
            targets = tuple(f"{prefix}.{t}" for t in rule.targets)
            out.append(replace(rule, target=targets if len(targets) > 1 else targets[0]))
        else:
            out.append(replace(rule, target=f"{prefix}.{rule.target}"))
    return tuple(out)


def packaging(prefix: str = "packaging") -> Rules:
    """PO4 item physical details into ``prefix`` (a Packaging field)."""
    return (
        Field(f"{prefix}.pack", "PO401", ("decimal",)),
        Field(f"{prefix}.size", ("PO402", "PO403"), ("quantity",)),
        Field(f"{prefix}.packaging_code", "PO404"),
        Field(f"{prefix}.weight_qualifier", "PO405"),
        Field(f"{prefix}.gross_weight", ("PO406", "PO407"), ("quantity",)),
        Field(f"{prefix}.inner_pack", "PO414", ("decimal",)),
    )


def line_items(segment: str, ids_from: int, ids_to: int) -> Rules:
    """The PO1-style line head (PO1, IT1: number, quantity, unit, price, basis, product ids)."""
    return (
        Field("line_number", f"{segment}01"),
        Field("quantity", (f"{segment}02", f"{segment}03"), ("quantity",)),
        Field("unit_price", f"{segment}04", ("decimal", "money")),
        Field("price_basis", f"{segment}05"),
        Field("item", f"{segment}{ids_from:02d}..{ids_to:02d}", ("item_ids",)),
    )


#: header rules common to order-like documents, in standard segment order after the BXX segment
HEADER_COMMON: Rules = (
    Field("currency", "CUR[BY|SE|BT|ST|VN|SU|PR|RI]02", ("upper",)),
    Each("references", "REF", REFERENCE),
    Each("contacts", "PER", CONTACT),
    Each("fob", "FOB", FOB),
    Each("charges", "SAC", CHARGE),
    Each("payment_terms", "ITD", TERMS),
    Each("dates", "DTM", DATE),
    Each("carriers", "TD5", CARRIER),
    Each("parties", "N1", PARTY),
)
