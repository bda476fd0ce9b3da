"""The pathway view: the three axes (DVT, lesion, stent), each with its state and dated evidence.

One entry point, `pathway_view(call)`: it reads the patient-view hook call's record and assesses it
with the hook pipeline's own steps (`pipeline.extract`, then `pipeline.assess_axes`), so the page can
never disagree with the cards. Pure: no Flask, no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cds_service.pathway import axes
from cds_service.pathway.assessment import Assessment
from cds_service.pathway.facts import (
    ClinicalFacts,
    ImagingKind,
    ResultStatus,
    ThrombusResult,
    VenousStudy,
)
from cds_service.pathway.settings import PathwaySettings
from cds_service.pipeline import assess_axes, extract
from cds_service.services.base import HookCall

# Imaging that counts as stent surveillance (G:45: ultrasound or CT); IVUS at placement does not.
SURVEILLANCE_KINDS = (ImagingKind.ILIOCAVAL_DUPLEX, ImagingKind.CT_VENOGRAPHY_PELVIS,
                      ImagingKind.MR_VENOGRAPHY_PELVIS, ImagingKind.CONTRAST_CT_MRI_ABDOMEN_PELVIS)
RESULT_WORDS = {ThrombusResult.PRESENT: "thrombus", ThrombusResult.ABSENT: "no thrombus",
                ThrombusResult.CHRONIC: "chronic thrombus", ThrombusResult.UNREADABLE: "result not coded"}
DVT_STATES = {  # axis value -> (label, tone)
    axes.CONFIRMED: ("DVT confirmed", "alert"),
    axes.PELVIC_IMAGING_NEEDED: ("Pelvic vein imaging needed", "pending"),
    axes.EXCLUDED: ("DVT excluded", "ok"),
    axes.UNASSESSED: ("DVT not yet ruled out", "pending"),
}
LESION_STATES = {
    "nivl-confirmed": ("NIVL confirmed", "alert"),
    "below-threshold": ("Stenosis below the IVUS threshold", "ok"),
    "dynamic": ("Dynamic lesion: no stent", "ok"),
    "extrinsic": ("Extrinsic compression by a mass", "alert"),
    "post-thrombotic": ("Post-thrombotic lesion", "alert"),
    "unknown": ("Not determined", "pending"),
}
STENT_STATES = {"post-stent": ("Stent in place", "alert"), "none": ("No stent", "ok")}
UNKNOWN_NOTES = {
    "dvt-studies": "Some DVT studies could not be read: DVT is not considered excluded.",
    "ivus": "IVUS results could not be read.",
    "imaging": "Some imaging could not be read.",
    "stents": "Procedures could not be read: a stent may exist.",
    "stent-imaging": "Imaging since the stent could not be read.",
    "mass-imaging": "Imaging of the mass could not be read.",
}


@dataclass(frozen=True)
class Mark:
    when: datetime | None
    label: str  # what it is: "Duplex, left: no thrombus"
    value: str = ""  # a result as a value: "75 %", "14 mm"
    kind: str = "study"  # study | finding | diagnosis | measure | stent | due
    deciding: bool = False  # one of the facts the axis state rests on
    percent: float | None = None  # plotted against the IVUS threshold (lesion row)
    short: str = ""  # the label on the timeline, where room is scarce

    @property
    def date(self) -> str:
        return self.when.date().isoformat() if self.when else "undated"


@dataclass(frozen=True)
class AxisRow:
    key: str  # dvt | lesion | stent
    title: str
    state: str  # the axis value, as the rules read it
    state_label: str
    tone: str  # ok | pending | alert: the colour of the state
    marks: tuple[Mark, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IvusReading:
    value: float | None
    threshold: float
    date: str

    @property
    def above(self) -> bool | None:
        """Above the threshold (> 61 %), compared in decimal as the rules do; None when unreadable."""
        if self.value is None:
            return None
        return Decimal(str(self.value)) > Decimal(str(self.threshold))


@dataclass(frozen=True)
class PathwayView:
    now: datetime
    facts: ClinicalFacts
    assessment: Assessment
    rows: tuple[AxisRow, ...]
    ivus: IvusReading | None
    threshold_pct: float

    def row(self, key: str) -> AxisRow:
        return next(r for r in self.rows if r.key == key)


def pathway_view(call: HookCall) -> PathwayView:
    settings = call.pathway
    facts = extract(call)
    a = assess_axes(facts, settings)
    ivus = None
    if a.ivus_stenosis is not None:
        ivus = IvusReading(a.ivus_stenosis.value, settings.ivus_stenosis_threshold_pct,
                           _day(a.ivus_stenosis.evidence.when))
    rows = (_dvt_row(facts, a), _lesion_row(facts, a, settings), _stent_row(facts, a, settings))
    return PathwayView(call.now, facts, a, rows, ivus, settings.ivus_stenosis_threshold_pct)


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when else "undated"


def _num(value: float | None) -> str:
    return f"{value:g}" if value is not None else "unreadable"


def _unknown_notes(a: Assessment, keys: tuple[str, ...]) -> list[str]:
    return [UNKNOWN_NOTES[k] for k in keys if k in a.unknown]


# -- DVT -------------------------------------------------------------------------------------------
def _study_label(name: str, study: VenousStudy) -> str:
    side = f", {study.side.value}" if study.side.value in ("left", "right", "both") else ""
    extent = f" ({study.extent.value})" if name == "Duplex" and study.extent.value != "unknown" else ""
    status = " (preliminary)" if study.status == ResultStatus.PRELIMINARY else ""
    return f"{name}{side}{extent}: {RESULT_WORDS[study.result]}{status}"


def _method(study: VenousStudy) -> str:
    return (study.method or "pelvic venography").replace("-", " ").replace("ct ", "CT ").replace("mr ", "MR ")


def _dvt_row(facts: ClinicalFacts, a: Assessment) -> AxisRow:
    deciding = {e.ref for e in a.dvt_evidence}
    marks = [Mark(s.evidence.when, _study_label("Duplex", s), deciding=s.evidence.ref in deciding,
                  short=f"Duplex: {RESULT_WORDS[s.result]}") for s in facts.duplex_results]
    marks += [Mark(s.evidence.when, _study_label(_method(s), s), deciding=s.evidence.ref in deciding,
                   short=f"{_method(s)}: {RESULT_WORDS[s.result]}") for s in facts.pelvic_venography]
    marks += [Mark(d.evidence.when, f"DVT diagnosis{', chronic' if d.chronic else ''}: {d.evidence.display}",
                   kind="diagnosis", deciding=d.evidence.ref in deciding,
                   short="Chronic DVT" if d.chronic else "DVT diagnosis") for d in facts.dvt_diagnoses]
    marks += [Mark(p.evidence.when, f"PE diagnosis: {p.evidence.display}", kind="diagnosis", short="PE diagnosis")
              for p in facts.pe_diagnoses]
    marks += [Mark(w.evidence.when, f"CFV flow: {w.value.value}", kind="finding", short=f"CFV {w.value.value}")
              for w in facts.cfv_waveforms]
    marks += [Mark(sw.recorded or sw.evidence.when, f"Swelling, {sw.side.value}{f' ({sw.grade})' if sw.grade else ''}",
                   kind="finding", short=f"Swelling, {sw.side.value}") for sw in facts.swellings]
    label, tone = DVT_STATES.get(a.dvt_axis, (a.dvt_axis, "pending"))
    if a.dvt_axis == axes.CONFIRMED and a.dvt_preliminary:
        label += " (preliminary result)"
    notes = [f"Pelvic trigger: {t.kind.replace('-', ' ')}" for t in a.pelvic_triggers]
    notes += _unknown_notes(a, ("dvt-studies",))
    return AxisRow("dvt", "DVT work-up", a.dvt_axis, label, tone, tuple(marks), tuple(notes))


# -- lesion and mass ----------------------------------------------------------------------------------
def _lesion_row(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> AxisRow:
    marks = [Mark(m.evidence.when, "CT compression", f"{_num(m.value)} %", "measure", percent=m.value, short="CT")
             for m in facts.ct_compression]
    marks += [Mark(m.evidence.when, "IVUS stenosis" + (" (preliminary)" if m.status != ResultStatus.FINAL else ""),
                   f"{_num(m.value)} %", "measure", a.ivus_stenosis is m, m.value, short="IVUS") for m in facts.ivus_stenosis]
    marks += [Mark(m.evidence.when, "IVUS EIV reference diameter", f"{_num(m.value)} mm", "measure",
                   a.eiv_reference is m, short="EIV reference") for m in facts.eiv_reference_diameter]
    marks += [Mark(e.when, f"Lesion {behavior.value}", kind="finding", short=f"Lesion {behavior.value}")
              for e, behavior in facts.lesion_behavior]
    marks += [Mark(c.evidence.when, f"Diagnosis: {c.evidence.display}", kind="diagnosis", short="Compression diagnosis")
              for c in facts.nivl_diagnoses]
    marks += [Mark(m.recorded or m.evidence.when, f"Mass: {m.evidence.display}", kind="diagnosis", short="Mass")
              for m in facts.masses]
    label, tone = LESION_STATES.get(a.lesion_axis, (a.lesion_axis, "pending"))
    notes = _mass_notes(facts, a)
    if a.lesion_axis == "unknown" and a.no_ivus:
        notes.append("No IVUS on record: the lesion is graded on IVUS, not on CT.")
    notes += _unknown_notes(a, ("ivus", "imaging", "mass-imaging"))
    return AxisRow("lesion", "Lesion and mass", a.lesion_axis, label, tone, tuple(marks), tuple(notes))


def _mass_notes(facts: ClinicalFacts, a: Assessment) -> list[str]:
    notes = []
    for mass in facts.masses:
        nature = mass.nature.value.replace("-", " ") if mass.nature else "nature not recorded"
        notes.append(f"Mass: {mass.evidence.display} ({nature})")
    if a.extrinsic_mass is not None and not facts.masses:
        notes.append(f"Compressing lesion: {a.extrinsic_mass.display} ({a.extrinsic_mass.kind.replace('-', ' ')})")
    return notes


# -- stent and its surveillance ---------------------------------------------------------------------------
def surveillance_due_days(s: PathwaySettings, placed: datetime, until: datetime) -> list[int]:
    """Days after placement a study is due (G:45: 30 days, 6 and 12 months, then yearly), up to `until`."""
    days = list(s.stent_followup_schedule_days)
    while placed + timedelta(days=days[-1]) <= until:
        days.append(days[-1] + s.stent_followup_yearly_days)
    return days


def _stent_row(facts: ClinicalFacts, a: Assessment, s: PathwaySettings) -> AxisRow:
    marks = [Mark(st.placed or st.evidence.when, f"Stent: {st.evidence.display}", kind="stent",
                  deciding=a.stent is st, short="Stent placed") for st in facts.stents]
    notes = _unknown_notes(a, ("stents", "stent-imaging"))
    label, tone = STENT_STATES.get(a.stent_axis, (a.stent_axis, "pending"))
    placed = a.stent.placed if a.stent else None
    if placed is not None:
        label += f" since {_day(placed)}"
        marks += [Mark(i.evidence.when, f"Surveillance: {i.evidence.display}", kind="study", short="Surveillance study")
                  for i in facts.imaging if i.kind in SURVEILLANCE_KINDS and i.evidence.when and i.evidence.when > placed]
        due = surveillance_due_days(s, placed, facts.now)
        marks += [Mark(placed + timedelta(days=d), f"Study due by day {d}", kind="due", short=f"Due (day {d})")
                  for d in due]
        upcoming = [d for d in due if placed + timedelta(days=d) > facts.now]
        if upcoming:
            notes.insert(0, f"Next surveillance study due by {_day(placed + timedelta(days=upcoming[0]))} (day {upcoming[0]}).")
    return AxisRow("stent", "Stent", a.stent_axis, label, tone, tuple(marks), tuple(notes))
