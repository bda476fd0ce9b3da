"""The DVT axis (RULES.md "Pathway state"): has acute DVT been confirmed, excluded, or not yet?

Reading rules from DATA-CONTRACT "General reading rules":
- a positive study (preliminary too) or a confirmed acute DVT diagnosis counts for 90 days;
- only a *final* negative excludes; a preliminary negative is ignored;
- only a negative *whole-leg* duplex can exclude (R2): a limited or unknown-extent one never does, not
  even with a negative pelvic venography after it (the calf veins were never imaged, G:4);
- within one kind of study (leg duplex, pelvic venography) the newest readable result wins;
  the two kinds image different segments, so one never overrides the other;
- a negative study is void after 90 days, or once new / worsening swelling is recorded after it;
  the same swelling recorded again is *persisting* swelling, a pelvic trigger;
- a study with no side counts for either leg.
Undated active conditions count as current: `clinicalStatus` active is the record's own word.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cds_service.pathway.facts import (
    ClinicalFacts,
    DuplexExtent,
    Evidence,
    ImagingKind,
    ResultStatus,
    Severity,
    Side,
    Swelling,
    ThrombusResult,
    VenousStudy,
    Verification,
    Waveform,
    WaveformFact,
    newest,
)
from cds_service.pathway.settings import PathwaySettings

CONFIRMED = "confirmed"
PELVIC_IMAGING_NEEDED = "pelvic-imaging-needed"
EXCLUDED = "excluded"
UNASSESSED = "unassessed"

# Pelvic trigger kinds (RULES DVT axis; G:5, G:6, G:54)
PERSISTING_SWELLING = "persisting-swelling"
ABNORMAL_CFV_WAVEFORM = "non-phasic-cfv-waveform"
PELVIC_MASS = "pelvic-mass"

# Where a confirming DVT fact places the thrombus (RULES POST-STENT-THROMBOSIS, DVT-DISTAL-SURVEILLANCE).
SITE_DISTAL = "distal"  # an isolated calf DVT diagnosis
SITE_PROXIMAL = "proximal"  # a positive pelvic venography: iliac / iliocaval
SITE_UNSPECIFIED = "unspecified"  # any other DVT diagnosis, or a positive leg duplex (it names no segment)

ABNORMAL_WAVEFORMS = (Waveform.NON_PHASIC, Waveform.ABSENT)
# A chronic thrombus is no acute DVT (docs/decisions.md): it reads as negative for the DVT axis.
NO_ACUTE_THROMBUS = (ThrombusResult.ABSENT, ThrombusResult.CHRONIC)
PELVIC_IMAGING_KINDS = (ImagingKind.CT_VENOGRAPHY_PELVIS, ImagingKind.MR_VENOGRAPHY_PELVIS)
REPORT_TYPES = ("Observation", "DiagnosticReport")  # where study results are read from
GRADE_RANK = {"mild": 1, "moderate": 2, "severe": 3}  # Swelling.grade, as recorded
SEVERITY_RANK = {Severity.MINIMAL: 1, Severity.SIGNIFICANT: 2}  # when no grade: significant = at least moderate


@dataclass(frozen=True)
class PelvicTrigger:
    kind: str  # PERSISTING_SWELLING | ABNORMAL_CFV_WAVEFORM | PELVIC_MASS
    evidence: Evidence


@dataclass(frozen=True)
class DvtEvent:
    """One fact that confirms the DVT: where, which leg and when (its evidence's date)."""

    evidence: Evidence
    side: Side
    site: str  # SITE_DISTAL | SITE_PROXIMAL | SITE_UNSPECIFIED


@dataclass(frozen=True)
class DvtAxis:
    value: str
    deciding: tuple[Evidence, ...] = ()  # the diagnosis / studies that decided the value
    preliminary: bool = False  # confirmed by preliminary results only
    proximal_or_unspecified: bool = False  # confirmed DVT that is not only an isolated calf DVT
    events: tuple[DvtEvent, ...] = ()  # confirmed: each deciding diagnosis / positive study, with site and side
    negative_duplex: VenousStudy | None = None  # the negative duplex the value rests on
    triggers: tuple[PelvicTrigger, ...] = ()
    # The newest negative duplex when it is of limited / unknown extent: the calf veins are not shown imaged,
    # so it never excludes DVT (R2), whatever pelvic venography followed; set for unassessed and
    # pelvic-imaging-needed alike.
    limited_study: VenousStudy | None = None
    unreadable_study: Evidence | None = None  # duplex done, result not coded (newer than any readable one)
    pending_study: Evidence | None = None  # preliminary negative duplex, the only one (awaits a final report)
    expired_study: VenousStudy | None = None  # negative duplex older than the window
    voided_by: Swelling | None = None  # new / worsening swelling after the negative duplex
    unreadable_pelvic_study: Evidence | None = None  # pelvic venography done after the duplex, result not final/coded
    pelvic_study_preliminary: bool = False  # that study has a coded result that is still preliminary
    abnormal_waveform: WaveformFact | None = None  # newest non-phasic / absent CFV waveform
    pelvic_imaging_since_waveform: bool = False
    reports_unreadable: tuple[str, ...] = ()  # resource types of results that could not be read


def within(when: datetime | None, now: datetime, window: timedelta) -> bool:
    """Dated facts count inside the window (inclusive); undated ones count as current."""
    return when is None or now - when <= window


def counts(condition) -> bool:
    """An active, confirmed condition (DATA-CONTRACT "Conditions")."""
    return condition.active and condition.verification == Verification.CONFIRMED


def legs_in_question(swelling_side: Side) -> tuple[Side, ...]:
    if swelling_side == Side.BOTH:
        return (Side.LEFT, Side.RIGHT)
    if swelling_side in (Side.LEFT, Side.RIGHT):
        return (swelling_side,)
    return (Side.UNKNOWN,)  # no swelling side: any study of any leg speaks for "the leg"


def covers(side: Side, leg: Side) -> bool:
    """Does a finding on `side` speak for `leg`? No side counts for either leg."""
    return leg == Side.UNKNOWN or side in (Side.UNKNOWN, Side.BOTH, leg)


def _sides_of(side: Side) -> set[Side]:
    if side in (Side.BOTH, Side.UNKNOWN):
        return {Side.LEFT, Side.RIGHT}
    return {side}


def _severity_rank(swelling: Swelling) -> int:
    """Mild 1, moderate 2, severe 3; 0 unknown. Moderate -> severe is worsening (DATA-CONTRACT)."""
    return GRADE_RANK.get(swelling.grade) or SEVERITY_RANK.get(swelling.severity, 0)


def _readable(study: VenousStudy) -> bool:
    """Counts as a result: positive at any status, or final. Preliminary negatives never decide."""
    if study.result == ThrombusResult.UNREADABLE:
        return False
    return study.result == ThrombusResult.PRESENT or study.status == ResultStatus.FINAL


def _after(when: datetime | None, reference: datetime | None) -> bool:
    return when is not None and reference is not None and when > reference


def _same_day(a: datetime | None, b: datetime | None) -> bool:
    return a is not None and b is not None and a.date() == b.date()


class _DvtReader:
    """Reads the DVT axis for one patient; small methods, one reading rule each."""

    def __init__(self, facts: ClinicalFacts, settings: PathwaySettings, swelling_side: Side):
        self.facts = facts
        self.s = settings
        self.now = facts.now
        self.legs = legs_in_question(swelling_side)
        self.current = timedelta(days=settings.acute_dvt_current_days)
        self.negative_valid = timedelta(days=settings.negative_study_valid_days)

    # -- confirmation -------------------------------------------------------------------------
    def current_diagnoses(self):
        return [
            d
            for d in self.facts.dvt_diagnoses
            if counts(d) and not d.chronic and within(d.evidence.when, self.now, self.current)
        ]

    def newest_readable(self, studies: list[VenousStudy], leg: Side) -> VenousStudy | None:
        return newest([st for st in studies if _readable(st) and covers(st.side, leg)])

    def positive_studies(self) -> list[VenousStudy]:
        """Newest readable duplex / pelvic venography per leg, when it is positive and current."""
        found: list[VenousStudy] = []
        for studies in (self.facts.duplex_results, self.facts.pelvic_venography):
            for leg in (Side.LEFT, Side.RIGHT):
                latest = self.newest_readable(studies, leg)
                if (
                    latest is not None
                    and latest.result == ThrombusResult.PRESENT
                    and within(latest.evidence.when, self.now, self.current)
                    and latest not in found
                ):
                    found.append(latest)
        return found

    def confirmed(self) -> DvtAxis | None:
        diagnoses = self.current_diagnoses()
        studies = self.positive_studies()
        if not diagnoses and not studies:
            return None
        preliminary = not diagnoses and all(st.status == ResultStatus.PRELIMINARY for st in studies)
        # A positive study names no calf-only site; only isolated-calf diagnoses make a DVT distal.
        proximal = bool(studies) or any(not d.distal_only for d in diagnoses)
        waveform = self.abnormal_waveform()
        events = tuple(DvtEvent(d.evidence, d.side, SITE_DISTAL if d.distal_only else SITE_UNSPECIFIED) for d in diagnoses)
        events += tuple(DvtEvent(st.evidence, st.side, self.study_site(st)) for st in studies)
        return DvtAxis(
            value=CONFIRMED,
            deciding=tuple(d.evidence for d in diagnoses) + tuple(st.evidence for st in studies),
            preliminary=preliminary,
            proximal_or_unspecified=proximal,
            events=events,
            abnormal_waveform=waveform,
            pelvic_imaging_since_waveform=waveform is not None and self.pelvic_imaging_since(waveform.evidence.when),
        )

    def study_site(self, study: VenousStudy) -> str:
        """A positive pelvic venography shows an iliac thrombus; a positive leg duplex names no segment."""
        return SITE_PROXIMAL if study in self.facts.pelvic_venography else SITE_UNSPECIFIED

    # -- triggers -----------------------------------------------------------------------------
    def abnormal_waveform(self) -> WaveformFact | None:
        """The newest CFV waveform of the leg(s) in question, when it shows proximal obstruction (G:6)."""
        for leg in self.legs:
            latest = newest([w for w in self.facts.cfv_waveforms if covers(w.side, leg)])
            if (
                latest is not None
                and latest.value in ABNORMAL_WAVEFORMS
                and within(latest.evidence.when, self.now, self.negative_valid)
            ):
                return latest
        return None

    def pelvic_imaging_since(self, since: datetime | None) -> bool:
        """Any pelvic CT / MR venography (result or study done) at or after `since`."""
        results = [st.evidence.when for st in self.facts.pelvic_venography]
        done = [i.evidence.when for i in self.facts.imaging if i.kind in PELVIC_IMAGING_KINDS]
        return any(when is None or since is None or when >= since for when in results + done)

    def swellings_before(self, moment: datetime, leg: Side) -> list[Swelling]:
        every = self.facts.swellings + self.facts.past_swellings
        return [sw for sw in every if sw.recorded is not None and sw.recorded <= moment and covers(sw.side, leg)]

    def is_new_or_worse(self, swelling: Swelling, before: list[Swelling]) -> bool:
        """New: on a leg not swollen before; worse: a higher recorded severity (DATA-CONTRACT)."""
        if not before:
            return True
        swollen_before = set().union(*(_sides_of(sw.side) for sw in before))
        if swelling.side != Side.UNKNOWN and not _sides_of(swelling.side) <= swollen_before:
            return True
        worst_before = max(_severity_rank(sw) for sw in before)
        # Unknown severity on either side cannot show worsening.
        return worst_before > 0 and _severity_rank(swelling) > worst_before

    def swellings_after(self, study: VenousStudy, leg: Side) -> list[Swelling]:
        return [
            sw
            for sw in self.facts.swellings
            if _after(sw.recorded, study.evidence.when) and covers(sw.side, leg)
        ]

    def voiding_swelling(self, study: VenousStudy, leg: Side) -> Swelling | None:
        if study.evidence.when is None:
            return None
        before = self.swellings_before(study.evidence.when, leg)
        for swelling in self.swellings_after(study, leg):
            if self.is_new_or_worse(swelling, before):
                return swelling
        return None

    def triggers(self, duplex: VenousStudy, leg: Side) -> tuple[PelvicTrigger, ...]:
        found: list[PelvicTrigger] = []
        for swelling in self.swellings_after(duplex, leg):
            found.append(PelvicTrigger(PERSISTING_SWELLING, swelling.evidence))
        for evidence in self.facts.persisting_swelling:
            if _after(evidence.when, duplex.evidence.when):
                found.append(PelvicTrigger(PERSISTING_SWELLING, evidence))
        waveform = self.abnormal_waveform()
        if waveform is not None:
            found.append(PelvicTrigger(ABNORMAL_CFV_WAVEFORM, waveform.evidence))
        for mass in self.facts.masses:
            found.append(PelvicTrigger(PELVIC_MASS, mass.evidence))
        return tuple(found)

    # -- results that could not be read ---------------------------------------------------------
    def unmatched_imaging(self, kinds, results: list[VenousStudy], leg: Side) -> list[Evidence]:
        """Studies done (ImagingStudy / Procedure / report) with no coded result of the same day.

        A preliminary result is coded: its report is awaited, but it is not "result not coded" (the
        preliminary report itself is also a study done, and must not be read as one without a result).
        """
        coded = [st for st in results if st.result != ThrombusResult.UNREADABLE]
        out = []
        for item in self.facts.imaging:
            if item.kind not in kinds or not covers(item.side, leg):
                continue
            if any(st.evidence.ref == item.evidence.ref or _same_day(st.evidence.when, item.evidence.when) for st in coded):
                continue
            out.append(item.evidence)
        return out

    def unreadable_duplex(self, leg: Side, newer_than: datetime | None) -> Evidence | None:
        coded_not = [
            st.evidence
            for st in self.facts.duplex_results
            if st.result == ThrombusResult.UNREADABLE and covers(st.side, leg)
        ]
        done = self.unmatched_imaging((ImagingKind.LEG_DUPLEX,), self.facts.duplex_results, leg)
        candidates = [
            e
            for e in coded_not + done
            if within(e.when, self.now, self.negative_valid) and (newer_than is None or _after(e.when, newer_than))
        ]
        return newest(candidates, when=lambda e: e.when)

    def pending_duplex(self, leg: Side, newer_than: datetime | None = None) -> Evidence | None:
        """The newest preliminary negative duplex of the leg (awaiting its final report)."""
        pending = [
            st.evidence
            for st in self.facts.duplex_results
            if st.status == ResultStatus.PRELIMINARY
            and st.result in NO_ACUTE_THROMBUS
            and covers(st.side, leg)
            and within(st.evidence.when, self.now, self.negative_valid)
            and (newer_than is None or _after(st.evidence.when, newer_than))
        ]
        return newest(pending, when=lambda e: e.when)

    def unreadable_pelvic(self, since: datetime | None, leg: Side) -> tuple[Evidence | None, bool]:
        """The newest pelvic venography since the duplex that has no final result: (study, preliminary?).

        Preliminary: a coded result awaiting its final report; otherwise done with no coded result.
        """
        preliminary = [
            st.evidence
            for st in self.facts.pelvic_venography
            if st.status == ResultStatus.PRELIMINARY and st.result in NO_ACUTE_THROMBUS
        ]
        not_coded = [st.evidence for st in self.facts.pelvic_venography if st.result == ThrombusResult.UNREADABLE]
        not_coded += self.unmatched_imaging(PELVIC_IMAGING_KINDS, self.facts.pelvic_venography, leg)
        candidates = [e for e in preliminary + not_coded if e.when is None or since is None or e.when >= since]
        latest = newest(candidates, when=lambda e: e.when)
        return latest, latest is not None and latest in preliminary

    # -- one leg --------------------------------------------------------------------------------
    def negative_pelvic_after(self, duplex: VenousStudy, leg: Side) -> VenousStudy | None:
        latest = self.newest_readable(self.facts.pelvic_venography, leg)
        if latest is None or latest.result not in NO_ACUTE_THROMBUS:
            return None
        if duplex.evidence.when is not None and (latest.evidence.when is None or latest.evidence.when < duplex.evidence.when):
            return None
        if not within(latest.evidence.when, self.now, self.negative_valid) or self.voiding_swelling(latest, leg):
            return None
        return latest

    def leg(self, leg: Side) -> DvtAxis:
        duplex = self.newest_readable(self.facts.duplex_results, leg)
        newer_unreadable = self.unreadable_duplex(leg, duplex.evidence.when if duplex else None)
        if duplex is None or duplex.result == ThrombusResult.PRESENT:
            # No readable duplex, or the newest positive one is history by now.
            return DvtAxis(UNASSESSED, unreadable_study=newer_unreadable, pending_study=self.pending_duplex(leg))
        if newer_unreadable is not None:
            return DvtAxis(UNASSESSED, negative_duplex=duplex, unreadable_study=newer_unreadable)
        if not within(duplex.evidence.when, self.now, self.negative_valid):
            return DvtAxis(UNASSESSED, expired_study=duplex, pending_study=self.pending_duplex(leg))
        # A newer study awaiting its final report: the card says so rather than ask for another one.
        voided_by = self.voiding_swelling(duplex, leg)
        if voided_by is not None:
            pending = self.pending_duplex(leg, newer_than=voided_by.recorded)
            return DvtAxis(UNASSESSED, negative_duplex=duplex, voided_by=voided_by, pending_study=pending)
        limited = duplex if duplex.extent != DuplexExtent.WHOLE_LEG else None
        pelvic = self.negative_pelvic_after(duplex, leg)
        if pelvic is not None and limited is None:
            return DvtAxis(EXCLUDED, deciding=(duplex.evidence, pelvic.evidence), negative_duplex=duplex)
        if pelvic is not None:  # R2: the pelvis is imaged, the calves are still not: never excluded
            pending = self.pending_duplex(leg, newer_than=duplex.evidence.when)
            return DvtAxis(UNASSESSED, negative_duplex=duplex, limited_study=limited, pending_study=pending)
        triggers = self.triggers(duplex, leg)
        if triggers:
            pelvic_study, pelvic_preliminary = self.unreadable_pelvic(duplex.evidence.when, leg)
            return DvtAxis(
                PELVIC_IMAGING_NEEDED,
                deciding=(duplex.evidence,),
                negative_duplex=duplex,
                triggers=triggers,
                limited_study=limited,
                unreadable_pelvic_study=pelvic_study,
                pelvic_study_preliminary=pelvic_preliminary,
                abnormal_waveform=self.abnormal_waveform(),
            )
        if duplex.extent == DuplexExtent.WHOLE_LEG:
            return DvtAxis(EXCLUDED, deciding=(duplex.evidence,), negative_duplex=duplex)
        pending = self.pending_duplex(leg, newer_than=duplex.evidence.when)
        return DvtAxis(UNASSESSED, negative_duplex=duplex, limited_study=duplex, pending_study=pending)

    def read(self) -> DvtAxis:
        confirmed = self.confirmed()
        if confirmed is not None:
            return confirmed
        per_leg = [self.leg(leg) for leg in self.legs]
        for value in (PELVIC_IMAGING_NEEDED, UNASSESSED, EXCLUDED):
            for axis in per_leg:
                if axis.value == value:
                    return self.guard_unreadable(axis)
        raise AssertionError("a DVT axis value was not covered")

    def guard_unreadable(self, axis: DvtAxis) -> DvtAxis:
        """A report type that could not be read may hold a newer positive: never conclude "excluded"."""
        missing = tuple(t for t in REPORT_TYPES if not self.facts.known(t))
        if not missing:
            return axis
        if axis.value == EXCLUDED:
            return DvtAxis(UNASSESSED, negative_duplex=axis.negative_duplex, reports_unreadable=missing)
        return replace(axis, reports_unreadable=missing)


def read_dvt_axis(facts: ClinicalFacts, settings: PathwaySettings, swelling_side: Side) -> DvtAxis:
    return _DvtReader(facts, settings, swelling_side).read()
