"""Units of measure: X12 element 355 codes normalised to a canonical unit, kept as data.

The canonical unit is the common X12/UN-ECE style short code for the unit family (``EA`` for
each, piece and unit; ``CA`` for case). :class:`~crossdock.schemas.canonical.values.Quantity`
keeps the code the partner sent next to the canonical one.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["X12_UNITS", "normalise_x12_unit", "x12_unit_for"]

#: X12 unit code -> canonical unit. The first X12 code listed for a canonical unit is the one
#: written when a document has no original code (see :func:`x12_unit_for`).
X12_UNITS: MappingProxyType[str, str] = MappingProxyType({
    "EA": "EA", "PC": "EA", "UN": "EA", "EC": "EA",
    "CA": "CA", "CS": "CA",
    "BX": "BX", "CT": "CT", "DZ": "DZ", "GS": "GS", "PK": "PK", "PH": "PK", "PL": "PL",
    "LB": "LB", "KG": "KG", "OZ": "OZ", "GR": "GR", "TN": "TN", "MT": "MT",
    "GA": "GA", "LT": "LT", "ML": "ML", "QT": "QT", "PT": "PT", "FO": "FO",
    "FT": "FT", "MR": "M", "IN": "IN", "YD": "YD", "CM": "CM", "MM": "MM",
    "SF": "SF", "SY": "SY", "SM": "SM", "CF": "CF",
    "RL": "RL", "ST": "ST", "PR": "PR", "BG": "BG", "DR": "DR", "BO": "BO", "CN": "CN",
    "TB": "TB", "BE": "BE", "BD": "BD", "CR": "CR", "KT": "KT", "LO": "LO", "SH": "SH",
    "HR": "HR", "DA": "DAY", "MO": "MON", "WK": "WK",
    "CH": "CH", "CQ": "CQ", "JR": "JR", "PA": "PA", "RM": "RM", "SX": "SX", "TK": "TK",
    "AM": "AM", "AY": "AY", "BL": "BL", "BR": "BR", "CC": "CC", "CL": "CL", "PD": "PD",
    "AS": "AS", "BA": "BA", "BC": "BC", "BI": "BI", "BK": "BK", "CG": "CG", "CY": "CY",
    "EP": "EP", "GT": "GT", "LF": "FT", "LM": "M", "SK": "SK", "SP": "SP", "SR": "SR",
})

_X12_FOR_CANONICAL: MappingProxyType[str, str] = MappingProxyType(
    {canonical: x12 for x12, canonical in reversed(tuple(X12_UNITS.items()))}
)


def normalise_x12_unit(code: str) -> str | None:
    """Canonical unit for an X12 unit code, or ``None`` when the code is not in the table."""
    return X12_UNITS.get(code.strip().upper())


def x12_unit_for(canonical: str) -> str:
    """X12 unit code to write for a canonical unit (the canonical code itself when unknown)."""
    return _X12_FOR_CANONICAL.get(canonical, canonical)
