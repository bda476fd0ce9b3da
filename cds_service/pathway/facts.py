"""Typed clinical facts: what the pathway knows about one patient.

`cds_service.fhir.extract` builds a `ClinicalFacts` from FHIR JSON; the rules in
`cds_service.pathway` read nothing else. Every fact keeps the FHIR reference it
came from (`ref`, e.g. "Condition/abc") so that a card can cite its evidence.

Unknown is not absent: `ClinicalFacts.unreadable` names the FHIR resource types
the service could not read (a failed prefetch key, an unreachable FHIR server).
A rule that concludes "no X on record" must first check `facts.known(...)` for
the resource types X is read from. A single value that could not be read (a
quantity in an unknown unit, a dose without a number) is `None` on its fact.

This module is pure data: no FHIR models, no HTTP, no Flask.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar


class Side(str, Enum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"
    UNKNOWN = "unknown"  # no laterality recorded: counts for either leg


class Severity(str, Enum):
    SIGNIFICANT = "significant"  # SNOMED severe / moderate
    MINIMAL = "minimal"  # SNOMED mild
    UNKNOWN = "unknown"  # no Condition.severity


class Verification(str, Enum):
    CONFIRMED = "confirmed"  # confirmed, or verificationStatus absent
    PROVISIONAL = "provisional"  # provisional / differential / unconfirmed


class ResultStatus(str, Enum):
    FINAL = "final"  # final / amended / corrected
    PRELIMINARY = "preliminary"


class ThrombusResult(str, Enum):
    PRESENT = "thrombus-present"
    ABSENT = "thrombus-absent"
    CHRONIC = "thrombus-chronic"
    UNREADABLE = "unreadable"  # a study exists, its result is not coded


class DuplexExtent(str, Enum):
    WHOLE_LEG = "whole-leg"  # common femoral vein through the calf veins
    LIMITED = "femoropopliteal"  # femoropopliteal / limited study
    UNKNOWN = "unknown"


class Waveform(str, Enum):
    PHASIC = "phasic"
    NON_PHASIC = "non-phasic"
    ABSENT = "absent"
    PULSATILE = "pulsatile"


class ImagingKind(str, Enum):
    LEG_DUPLEX = "leg-duplex"
    ILIOCAVAL_DUPLEX = "iliocaval-duplex"
    CT_VENOGRAPHY_PELVIS = "ct-venography-pelvis"  # also counts as contrast CT of the mass
    MR_VENOGRAPHY_PELVIS = "mr-venography-pelvis"  # pelvic imaging, never imaging of the mass
    LEG_CT_MR_VENOGRAPHY = "leg-ct-mr-venography"  # never pelvic imaging
    CONTRAST_CT_MRI_ABDOMEN_PELVIS = "contrast-ct-mri-abdomen-pelvis"  # mass imaging, never venography
    # MRI pelvis without contrast (CPT 72195): the mass study, but only for a pregnant patient (R2)
    MASS_STUDY_IN_PREGNANCY = "mass-study-in-pregnancy"
    IVUS = "ivus"


class MassNature(str, Enum):
    MALIGNANCY = "malignancy"
    LYMPHADENOPATHY = "lymphadenopathy"
    ABSCESS = "abscess"
    HEMATOMA = "hematoma"
    ILIOPSOAS_BURSITIS = "iliopsoas-bursitis"
    DISC_BULGE = "disc-bulge-compression"
    BENIGN_COMPRESSIVE = "benign-compressive-lesion"
    NON_COMPRESSIVE = "non-compressive"


class EdemaCauseKind(str, Enum):
    HEART_FAILURE = "heart-failure"
    RENAL = "renal-disease"
    LIVER = "liver-disease"
    HYPOALBUMINEMIA = "hypoalbuminemia"  # diagnosis, or albumin / protein lab below threshold
    MEDICATION = "medication"
    LYMPHEDEMA_PRIMARY = "primary-lymphedema"
    LYMPHEDEMA_SECONDARY = "secondary-lymphedema"


class DrugClass(str, Enum):
    LMWH = "lmwh"
    ANTICOAGULANT = "anticoagulant"  # non-LMWH anticoagulant
    ANTIPLATELET = "antiplatelet"
    THROMBOLYTIC = "thrombolytic"
    VASOPRESSOR = "vasopressor"
    EDEMA_CAUSING = "edema-causing"


class LesionBehavior(str, Enum):
    FIXED = "fixed"
    DYNAMIC = "dynamic"


@dataclass(frozen=True)
class Evidence:
    """Where a fact came from: enough for a card to cite it."""

    ref: str  # "Condition/abc"; a resource sent without an id is its bare type ("Condition")
    display: str  # human-readable: the coding display or text, or the value with its unit
    when: datetime | None = None  # onset / recorded / effective / performed / authored (aware, UTC)


T = TypeVar("T")


def _evidence_when(item: Any) -> datetime | None:
    return item.evidence.when


def newest(items: Sequence[T], when: Callable[[T], datetime | None] = _evidence_when) -> T | None:
    """The item with the latest date (`when`, by default its evidence's); when none is dated, the
    first one; None for no items. An undated item never wins over a dated one."""
    dated = [(stamp, item) for stamp, item in ((when(item), item) for item in items) if stamp is not None]
    if dated:
        return max(dated, key=lambda pair: pair[0])[1]
    return items[0] if items else None


@dataclass(frozen=True)
class Swelling:
    evidence: Evidence
    side: Side
    severity: Severity
    recorded: datetime | None  # recordedDate (else onset): decides "recorded after the duplex"
    # Added (additive): Condition.severity as recorded, finer than `severity`: "severe", "moderate",
    # "mild", or "" (not recorded). Moderate -> severe is worsening (DATA-CONTRACT time windows); G:48
    # needs "severe".
    grade: str = ""


@dataclass(frozen=True)
class ConditionFact:
    """A coded condition of one of the data contract's rows (mass, heart failure, bleeding...)."""

    evidence: Evidence
    active: bool  # clinicalStatus active / recurrence / relapse / absent
    verification: Verification
    side: Side = Side.UNKNOWN
    kind: str = ""  # row-specific detail, e.g. EdemaCauseKind value, or "primary" lymphedema


@dataclass(frozen=True)
class DvtDiagnosis:
    evidence: Evidence
    active: bool
    verification: Verification
    side: Side
    distal_only: bool  # isolated calf DVT
    chronic: bool  # chronic DVT / post-thrombotic lesion row


@dataclass(frozen=True)
class MassFact:
    evidence: Evidence  # the mass Condition
    recorded: datetime | None
    nature: MassNature | None = None  # linked or site-specific nature, if recorded
    nature_evidence: Evidence | None = None


@dataclass(frozen=True)
class VenousStudy:
    """A leg duplex or a pelvic CT / MR venography result (Observation or DiagnosticReport)."""

    evidence: Evidence
    result: ThrombusResult
    status: ResultStatus
    side: Side  # Side.UNKNOWN counts for either leg
    extent: DuplexExtent = DuplexExtent.UNKNOWN  # duplex only
    method: str = ""  # pelvic venography: "ct-venography" / "mr-venography"


@dataclass(frozen=True)
class WaveformFact:
    evidence: Evidence
    value: Waveform
    side: Side = Side.UNKNOWN


@dataclass(frozen=True)
class ImagingDone:
    """A study performed (ImagingStudy, DiagnosticReport or Procedure), with or without a coded result."""

    evidence: Evidence
    kind: ImagingKind
    side: Side = Side.UNKNOWN


@dataclass(frozen=True)
class Measurement:
    """A numeric finding converted to the contract's unit (%, mm, g/dL, 10*3/uL, kg, mL/min/1.73m2, mm[Hg])."""

    evidence: Evidence
    value: float | None  # None: the unit could not be converted (unknown, not absent)
    unit: str
    status: ResultStatus = ResultStatus.FINAL


@dataclass(frozen=True)
class Medication:
    """Current therapy (active MedicationRequest / MedicationStatement)."""

    evidence: Evidence
    drug_class: DrugClass
    ingredient: str  # lower-case ingredient name, e.g. "enoxaparin"
    dose: float | None = None  # numeric dose of one administration, in `dose_unit`
    dose_unit: str = ""  # "mg", "[iU]", "mL", ...
    per_day: float | None = None  # administrations per day (2 = every 12 h); None unknown
    route: str = ""  # lower-case text or code: "subcutaneous", "intravenous"
    is_infusion: bool = False
    reason_codes: tuple[str, ...] = ()  # "system|code" of reasonCode, for "other indication"
    reason_text: str = ""


@dataclass(frozen=True)
class StentRecord:
    evidence: Evidence
    placed: datetime | None
    # DATA-CONTRACT "Side" (R2): the Procedure's bodySite / laterality qualifier, or the words
    # "left" / "right" in its text; otherwise unknown (then any leg's DVT may be stent thrombosis).
    side: Side = Side.UNKNOWN


@dataclass
class ClinicalFacts:
    """Everything the pathway reads. Lists hold every matching item, newest first where dated."""

    now: datetime
    patient_ref: str = ""
    gender: str = ""
    # Resource types that could not be read: facts from them are unknown, not absent.
    unreadable: frozenset[str] = frozenset()

    # presentation
    swellings: list[Swelling] = field(default_factory=list)  # active lower-limb swelling
    past_swellings: list[Swelling] = field(default_factory=list)  # inactive / resolved
    masses: list[MassFact] = field(default_factory=list)  # active iliac / pelvic masses
    mass_natures: list[ConditionFact] = field(default_factory=list)  # nature diagnoses (kind = MassNature value)
    genital_edema: list[ConditionFact] = field(default_factory=list)
    skin_changes: list[ConditionFact] = field(default_factory=list)
    persisting_swelling: list[Evidence] = field(default_factory=list)  # whole-leg-swelling-persistent = true

    # DVT
    dvt_diagnoses: list[DvtDiagnosis] = field(default_factory=list)  # acute and chronic, active and history
    pe_diagnoses: list[ConditionFact] = field(default_factory=list)
    vte_history: list[ConditionFact] = field(default_factory=list)  # history codes (Z86.71x, 161508001...)
    duplex_results: list[VenousStudy] = field(default_factory=list)
    pelvic_venography: list[VenousStudy] = field(default_factory=list)
    cfv_waveforms: list[WaveformFact] = field(default_factory=list)
    imaging: list[ImagingDone] = field(default_factory=list)

    # lesion
    nivl_diagnoses: list[ConditionFact] = field(default_factory=list)  # iliac vein compression
    ct_compression: list[Measurement] = field(default_factory=list)  # %
    ivus_stenosis: list[Measurement] = field(default_factory=list)  # %
    eiv_reference_diameter: list[Measurement] = field(default_factory=list)  # mm
    lesion_behavior: list[tuple[Evidence, LesionBehavior]] = field(default_factory=list)

    # other causes of edema
    edema_causes: list[ConditionFact] = field(default_factory=list)  # kind = EdemaCauseKind value
    albumin: list[Measurement] = field(default_factory=list)  # g/dL
    total_protein: list[Measurement] = field(default_factory=list)  # g/dL

    # therapy and safety
    medications: list[Medication] = field(default_factory=list)
    long_term_anticoagulant: list[Evidence] = field(default_factory=list)  # Z79.01: dose unknown
    bleeding: list[ConditionFact] = field(default_factory=list)  # recent bleeding / local contraindication
    hit: list[ConditionFact] = field(default_factory=list)  # heparin-induced thrombocytopenia
    platelets: list[Measurement] = field(default_factory=list)  # 10*3/uL
    egfr: list[Measurement] = field(default_factory=list)  # mL/min/{1.73_m2}
    weight: list[Measurement] = field(default_factory=list)  # kg
    systolic_bp: list[Measurement] = field(default_factory=list)  # mm[Hg]
    pregnancy: list[ConditionFact] = field(default_factory=list)
    phlegmasia: list[ConditionFact] = field(default_factory=list)
    shock: list[ConditionFact] = field(default_factory=list)  # shock / severe hypotension diagnoses
    hemorrhagic_shock: list[ConditionFact] = field(default_factory=list)
    other_antithrombotic_indications: list[ConditionFact] = field(default_factory=list)
    other_thrombolysis_indications: list[ConditionFact] = field(default_factory=list)
    stents: list[StentRecord] = field(default_factory=list)  # iliac venous stents on record

    def known(self, *resource_types: str) -> bool:
        """True when every named resource type was read (possibly empty)."""
        return not any(t in self.unreadable for t in resource_types)


class OrderKind(str, Enum):
    STENT = "stent"
    VENOPLASTY = "venoplasty"
    IVUS = "ivus"
    IVC_FILTER = "ivc-filter"
    THROMBOLYSIS = "thrombolysis"  # drug or catheter-directed procedure
    ANTICOAGULANT = "anticoagulant"  # LMWH or other
    ANTIPLATELET = "antiplatelet"


@dataclass(frozen=True)
class DraftOrder:
    """One recognized order of `context.draftOrders` (see DATA-CONTRACT "Orders in draftOrders")."""

    ref: str  # "DeviceRequest/abc"
    resource_type: str
    display: str  # what was ordered, as the clinician wrote it
    kind: OrderKind
    iliac: bool = False  # clearly iliac venous (body site, whole words iliac / CIV / EIV / May-Thurner, local code)
    length_mm: float | None = None
    length_as_ordered: str = ""  # "5.9 cm", "2 [in_i]", "60 mm" (from text: the text fragment)
    diameter_mm: float | None = None
    diameter_as_ordered: str = ""
    medication: Medication | None = None  # drug orders: ingredient, dose, frequency
    # Thrombolytic drug orders (DATA-CONTRACT Orders, catheter clearance (R2)): the largest single dose in mg
    # and the number of doses (None: cannot be read, e.g. an open-ended repeat), and whether the drug is
    # instilled into a catheter or device (route / method, or a catheter-occlusion reason).
    thrombolytic_dose_mg: float | None = None
    thrombolytic_doses: int | None = None
    into_catheter: bool = False
    reason_codes: tuple[str, ...] = ()  # "system|code" of reasonCode / reasonReference codes
    status: str = "draft"
    # Added for the order checks (additive):
    reason_text: str = ""  # reasonCode texts / displays, lower-case, joined by "; "
    based_on: tuple[str, ...] = ()  # "Type/id" of basedOn: a stent DeviceRequest names its procedure
    size_ref: str = ""  # the resource that carries the stent size when it is not this order (basedOn DeviceRequest)
    # What the order's reason is, by value set: "leg-dvt", "thrombolysis-indication" (stroke, MI, arterial
    # limb ischemia), "pulmonary-embolism" (a thrombolysis indication only with shock or hypotension).
    reason_kinds: tuple[str, ...] = ()
