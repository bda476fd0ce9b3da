"""The stent sizing panel (G:37-40, G:52): from the IVUS external iliac reference diameter D, a stent
of D+1 to D+4 mm and at least 60 mm long (all from `PathwaySettings`), and whether a draft order
meets them. Compared in decimal, as the order rules compare. Pure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import DraftOrder
from cds_service.pathway.settings import PathwaySettings


def _dec(value: float) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class SizeCheck:
    what: str  # "Diameter" | "Length"
    ordered: str  # as ordered ("14 mm", "5.9 cm"), or "not stated"
    meets: bool | None  # None: the order states no readable size


@dataclass(frozen=True)
class OrderCheck:
    display: str
    ref: str
    checks: tuple[SizeCheck, ...]


@dataclass(frozen=True)
class Sizing:
    reference_mm: float
    reference_date: str
    diameter_min_mm: float
    diameter_max_mm: float
    min_length_mm: float
    order: OrderCheck | None = None
    order_note: str = ""  # why a draft order named by the launch is not checked

    @property
    def whole_mm_diameters(self) -> tuple[int, ...]:
        """Stents come in whole millimetres: the sizes inside the range."""
        return tuple(range(math.ceil(self.diameter_min_mm), math.floor(self.diameter_max_mm) + 1))


def stent_sizing(a: Assessment, s: PathwaySettings, order: DraftOrder | None = None, order_note: str = "") -> Sizing | None:
    """None without a readable IVUS reference diameter: the panel is then not shown."""
    reference = a.eiv_reference
    if reference is None or reference.value is None:
        return None
    low = float(_dec(reference.value) + _dec(s.oversize_min_mm))
    high = float(_dec(reference.value) + _dec(s.oversize_max_mm))
    when = reference.evidence.when
    sizing = Sizing(reference.value, when.date().isoformat() if when else "undated", low, high, s.min_stent_length_mm,
                    order_note=order_note)
    if order is None:
        return sizing
    return Sizing(**{**sizing.__dict__, "order": check_order(order, low, high, s.min_stent_length_mm)})


def check_order(order: DraftOrder, low: float, high: float, min_length: float) -> OrderCheck:
    diameter = order.diameter_mm
    length = order.length_mm
    checks = (
        SizeCheck("Diameter", order.diameter_as_ordered or _mm(diameter),
                  None if diameter is None else _dec(low) <= _dec(diameter) <= _dec(high)),
        SizeCheck("Length", order.length_as_ordered or _mm(length),
                  None if length is None else _dec(length) >= _dec(min_length)),
    )
    return OrderCheck(order.display, order.ref, checks)


def _mm(value: float | None) -> str:
    return f"{value:g} mm" if value is not None else "not stated"
