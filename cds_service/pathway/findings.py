"""What a rule concludes, as data: the finding base class, the proposals (suggested fixes) and the evidence helper."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from cds_service.pathway.facts import Evidence, Side

# Field metadata of a finding value computed from the clock rather than the record (days since X):
# `days: int = field(metadata=FROM_CLOCK)`. The evidence fingerprint leaves it out, so a card's
# evidence stays "the same" from one day to the next (site lockouts, issue 13).
FROM_CLOCK = MappingProxyType({"from_clock": True})


class Indicator(str, Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def urgency(self) -> int:
        return {"critical": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class CreateOrder:
    """Suggest a new diagnostic / procedure order (DATA-CONTRACT "Orders the service suggests")."""

    order: str  # "leg-duplex", "ct-venography", "ct-venography-with-mass", "mr-venography",
    #             "venography-ivus", "contrast-ct", "mri-pelvis", "iliocaval-duplex"
    side: Side = Side.UNKNOWN


@dataclass(frozen=True)
class CreateEnoxaparin:
    dose_mg: int
    per_day: int  # 2 = every 12 h, 1 = every 24 h


@dataclass(frozen=True)
class UpdateOrder:
    """Change fields of a draft order; everything not named stays as it was."""

    order_ref: str
    length_mm: float | None = None
    diameter_mm: float | None = None
    dose_mg: float | None = None
    per_day: int | None = None
    # The corrections other cards of the same response make to this order (RULES "Card text (R2)"):
    # the update carries them too, so that accepting one card's fix never undoes another's.
    together: tuple[UpdateOrder, ...] = ()


@dataclass(frozen=True)
class DeleteOrder:
    order_ref: str


Proposal = CreateOrder | CreateEnoxaparin | UpdateOrder | DeleteOrder


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What one rule concluded. Each rule unit subclasses it with the typed values its card shows."""

    indicator: Indicator
    evidence: tuple[Evidence, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    order_ref: str | None = None  # order rules: the draft order this finding is about
    rule_id: str = ""  # stamped by the rule that made it (`Rule.run`)


def evidence_of(*groups: object) -> tuple[Evidence, ...]:
    """Flatten evidence (single items, tuples, lists), dropping None and repeats, keeping order."""
    seen: list[Evidence] = []
    for group in groups:
        items = group if isinstance(group, (tuple, list)) else (group,)
        for item in items:
            if item is not None and item not in seen:
                seen.append(item)
    return tuple(seen)
