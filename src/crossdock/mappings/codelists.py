"""Code lists as data: X12 codes -> canonical enum values.

Each list has ``codes`` and an optional ``fallback``: a code not in the list maps to the fallback
(the original code is kept next to it, so nothing is lost); a list without a fallback is closed
and an unknown code is a ``CODE_INVALID`` issue. Outbound, the original code is written when it
still means the canonical value; otherwise the first code listed for the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from crossdock.schemas.canonical import X12_UNITS

__all__ = ["CodeList", "CODE_LISTS", "code_list"]


@dataclass(frozen=True, slots=True)
class CodeList:
    """One code list: X12 code -> canonical value, with an optional fallback value."""

    name: str
    codes: MappingProxyType[str, str]
    fallback: str | None = None
    #: canonical value -> the first code listed for it (what is written without an original)
    first: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, name: str, codes: dict[str, str], fallback: str | None) -> CodeList:
        first: dict[str, str] = {}
        for code, value in codes.items():
            first.setdefault(value, code)
        return cls(name, MappingProxyType(dict(codes)), fallback, MappingProxyType(first))

    def to_canonical(self, code: str) -> str | None:
        return self.codes.get(code, self.fallback)

    def to_code(self, value: str, original: str | None = None) -> str | None:
        """The code to write for ``value``: ``original`` when it means ``value``, else the first match."""
        if original is not None and (self.codes.get(original) == value or
                                     (value == self.fallback and original not in self.codes)):
            return original
        return self.first.get(value)


def _list(name: str, fallback: str | None, pairs: str) -> CodeList:
    """Build a list from ``"code=value code=value ..."`` text (compact and greppable)."""
    return CodeList.of(name, dict(item.split("=", 1) for item in pairs.split()), fallback)


_LISTS = (
    _list("purpose", "other", "00=original 01=cancellation 02=add 03=delete 04=change 05=replace "
          "06=confirmation 07=duplicate 08=status 11=response 13=request 18=replace 22=other"),
    _list("party_role", "other", "BY=buyer SE=seller VN=supplier SU=supplier ST=ship_to SF=ship_from "
          "BT=bill_to BS=bill_to SO=sold_to RI=remit_to PR=payer PE=payer MF=manufacturer OB=ordered_by "
          "CA=carrier CN=consignee WH=warehouse SN=store RL=reporting_location DS=distributor "
          "FR=sender TO=receiver MP=manufacturer EV=other"),
    _list("id_scheme", "other", "1=duns 9=duns_plus4 UL=gln 92=assigned_by_buyer 91=assigned_by_seller "
          "ZZ=mutually_defined 2=scac"),
    _list("item_id_kind", "other", "BP=buyer_part VP=vendor_part MG=manufacturer_part MF=manufacturer_part "
          "IN=buyer_item VN=vendor_item VC=vendor_item PI=buyer_item UP=gtin EN=gtin UK=gtin UA=gtin "
          "EO=gtin UI=upc_short UD=upc_short SK=sku IT=buyer_style VA=vendor_style CB=buyer_catalog "
          "CA=vendor_catalog BO=color CL=color SZ=size SM=size ND=ndc N4=ndc SN=serial LT=lot"),
    _list("date_kind", "other", "004=order 002=requested_delivery 010=requested_ship 037=ship_not_before "
          "038=ship_no_later 064=deliver_not_before 063=deliver_no_later 001=cancel_after "
          "069=promised_delivery 068=scheduled_ship 067=scheduled_delivery 011=shipped "
          "017=estimated_delivery 371=estimated_delivery 035=delivered 050=received 003=invoice "
          "007=effective 036=expiration 009=processed 196=period_start 090=period_start "
          "197=period_end 091=period_end"),
    _list("reference_kind", "other", "PO=purchase_order VN=vendor_order CO=vendor_order IV=invoice "
          "IA=internal_vendor DP=department BM=bill_of_lading CN=carrier_pro 2I=tracking "
          "PK=packing_list SI=shipment CT=contract CR=customer_reference PD=promotion "
          "ZZ=mutually_defined"),
    _list("charge_indicator", "other", "A=allowance C=charge N=no_charge P=promotion"),
    _list("ack_type", "other", "AC=accepted_with_changes AD=accepted AE=accepted_with_exceptions "
          "AK=accepted AP=accepted AT=accepted RD=rejected RF=rejected RJ=rejected RO=rejected "
          "AH=on_hold"),
    _list("line_ack_status", "other", "IA=accepted AC=accepted AR=accepted IC=accepted_with_changes "
          "IP=price_changed IQ=quantity_changed IB=backordered BP=backordered DR=rescheduled "
          "IS=substituted IH=on_hold IW=on_hold IF=on_hold IR=rejected R1=rejected R2=rejected "
          "R3=rejected R4=rejected ID=deleted"),
    _list("change_type", "other", "AI=add DI=delete CA=change PC=price_change QI=quantity_increase "
          "QD=quantity_decrease RS=reschedule RZ=replace CT=change PQ=price_change RQ=reschedule"),
    _list("activity_code", "other", "QA=on_hand QS=sold QP=on_order QI=in_transit QR=received "
          "QO=out_of_stock QL=minimum QM=maximum QN=planned_inventory PO=reorder_point "
          "OQ=planned_order LS=lost_sales QU=returned Q2=returned QT=adjustment QC=committed "
          "QH=on_hold QX=requested"),
    _list("inventory_quantity_kind", "other", "17=on_hand 33=available 02=on_order 63=on_order "
          "IQ=in_transit 38=committed BQ=backordered 76=damaged 7R=minimum 72=maximum"),
    _list("forecast_type", "other", "C=firm D=planning A=firm"),
    CodeList.of("unit", dict(X12_UNITS), None),
    _list("time_code", None, "ET=ET CT=CT MT=MT PT=PT UT=UT GM=GM"),
)

CODE_LISTS: MappingProxyType[str, CodeList] = MappingProxyType({c.name: c for c in _LISTS})


def code_list(name: str) -> CodeList:
    """The code list named ``name``.

    Raises:
        KeyError: no such list (``check_specs`` reports it as ``SPEC_INVALID`` first).
    """
    return CODE_LISTS[name]
