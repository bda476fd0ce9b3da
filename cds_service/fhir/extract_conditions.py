"""Conditions → facts (DATA-CONTRACT "General reading rules: Conditions" and the "Conditions" table).

A Condition counts when clinicalStatus is active / recurrence / relapse (or absent); inactive /
remission / resolved make it *history* (`active=False`). verificationStatus confirmed (or absent)
is CONFIRMED; provisional / differential / unconfirmed is PROVISIONAL and never confirms anything;
refuted and entered-in-error are ignored. Its date is onsetDateTime, else recordedDate.

Rows whose codes count only in a context (a lower-limb bodySite, an active leg DVT, lower-limb
swelling on record...) are read in two steps: `add_condition_facts` reads every row that needs
nothing else, `add_contextual_condition_facts` the rest once the whole record has been read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cds_service.fhir.dates import first_date, period_start
from cds_service.fhir.extract_context import ExtractionContext
from cds_service.fhir.fhir_json import (
    body_site_codings,
    codings,
    combine_sides,
    has_whole_word,
    label,
    note_texts,
    objects,
    reference_of,
    side_of,
    texts,
)
from cds_service.fhir.valuesets import ValueSets
from cds_service.pathway.facts import (
    ClinicalFacts,
    ConditionFact,
    DvtDiagnosis,
    EdemaCauseKind,
    Evidence,
    MassNature,
    Severity,
    Side,
    StentRecord,
    Swelling,
    ThrombusResult,
    Verification,
)

ACTIVE_STATUSES = {"active", "recurrence", "relapse"}
HISTORY_STATUSES = {"inactive", "remission", "resolved"}
CONFIRMED_STATUSES = {"confirmed"}
PROVISIONAL_STATUSES = {"provisional", "differential", "unconfirmed"}
IGNORED_STATUSES = {"refuted", "entered-in-error"}

# Whole words that make a code iliac (RULES Scope; DATA-CONTRACT I87.1 and "iliac venous stent placed").
NIVL_CONTEXT_WORDS = ("iliac", "May-Thurner")
STENT_CONTEXT_WORDS = ("iliac", "CIV", "EIV", "May-Thurner")

EDEMA_CAUSE_SETS = (
    ("heart-failure", EdemaCauseKind.HEART_FAILURE),
    ("renal-disease", EdemaCauseKind.RENAL),
    ("liver-disease", EdemaCauseKind.LIVER),
    ("hypoalbuminemia", EdemaCauseKind.HYPOALBUMINEMIA),
)
SIMPLE_ROWS = (  # value set id -> ClinicalFacts list
    ("venous-skin-changes", "skin_changes"),
    ("vte-history", "vte_history"),
    ("iliac-vein-compression", "nivl_diagnoses"),
    ("genital-edema", "genital_edema"),
    ("phlegmasia", "phlegmasia"),
    ("shock", "shock"),
    ("hemorrhagic-shock", "hemorrhagic_shock"),
    ("bleeding", "bleeding"),
    ("heparin-induced-thrombocytopenia", "hit"),
    ("pregnancy", "pregnancy"),
    ("other-antithrombotic-indication", "other_antithrombotic_indications"),
    ("other-thrombolysis-indication", "other_thrombolysis_indications"),
)
CONDITION_SETS = (
    "leg-swelling", "leg-swelling-needs-lower-limb-site", "acute-dvt", "acute-dvt-needs-leg-site", "distal-dvt",
    "acute-pe", "chronic-dvt", "iliac-vein-compression-needs-context", "iliac-mass",
    "heart-failure", "renal-disease", "liver-disease", "hypoalbuminemia", "lymphedema-primary", "lymphedema",
    "phlegmasia-needs-dvt", "long-term-anticoagulant", "iliac-stent-status",
) + tuple(row for row, _ in SIMPLE_ROWS)
SWELLING_GRADES = ("severe", "moderate", "mild")
LEG_SITE_SETS = ("lower-limb-body-site", "leg-deep-vein-body-site")
LYMPH_NODE_NATURE_SET = "mass-nature-lymphadenopathy-needs-node-site"


@dataclass(frozen=True)
class ConditionReading:
    """One Condition that passed the code filter, the status rules and validation."""

    resource: dict
    codings: list[dict]
    site_codings: list[dict]
    active: bool
    verification: Verification
    when: datetime | None  # onset, else recorded
    recorded: datetime | None  # recorded, else onset
    side: Side
    code_sets: frozenset[str]  # the value sets holding one of `codings`

    def match(self, context: ExtractionContext, value_set_id: str) -> dict | None:
        """`context.match` on the code; one set lookup when no coding is in the value set (the usual case)."""
        return context.match_in(value_set_id, self.codings, self.code_sets)

    @property
    def ref(self) -> str:
        return reference_of(self.resource)

    @property
    def confirmed(self) -> bool:
        return self.verification is Verification.CONFIRMED

    def evidence(self, matched: dict | None = None) -> Evidence:
        return Evidence(ref=self.ref, display=label(self.resource.get("code"), matched) or self.ref, when=self.when)

    def fact(self, matched: dict | None = None, kind: str = "") -> ConditionFact:
        return ConditionFact(self.evidence(matched), self.active, self.verification, self.side, kind)

    def code_and_site_texts(self) -> list[str]:
        return texts(self.resource.get("code")) + [t for site in objects(self.resource.get("bodySite")) for t in texts(site)]

    def words(self) -> list[str]:
        """Where a context word may appear: the code's and the body sites' texts and displays, the notes."""
        site_texts = [t for site in objects(self.resource.get("bodySite")) for t in texts(site)]
        return texts(self.resource.get("code")) + site_texts + note_texts(self.resource)


def read_conditions(context: ExtractionContext) -> list[ConditionReading]:
    readings = []
    for resource in context.resources("Condition"):
        code_codings = codings(resource.get("code"))
        if not context.match_any(CONDITION_SETS, code_codings) and not _is_mass_nature_candidate(context, code_codings):
            continue
        verification = verification_of(resource)
        if verification is None or not context.validator.is_valid(resource):
            continue
        site_codings = body_site_codings(resource.get("bodySite"))
        readings.append(ConditionReading(
            resource=resource,
            codings=code_codings,
            site_codings=site_codings,
            active=is_active(resource),
            verification=verification,
            when=first_date(resource.get("onsetDateTime"), period_start(resource.get("onsetPeriod")),
                            resource.get("recordedDate")),
            recorded=first_date(resource.get("recordedDate"), resource.get("onsetDateTime"),
                                period_start(resource.get("onsetPeriod"))),
            side=side_of(code_codings + site_codings, context.value_sets),
            code_sets=context.value_sets.sets_of(code_codings),
        ))
    return readings


def _is_mass_nature_candidate(context: ExtractionContext, code_codings: list[dict]) -> bool:
    return context.match_any(mass_nature_set_ids(context), code_codings)


def mass_nature_set_ids(context: ExtractionContext) -> tuple[str, ...]:
    """Every mass-nature value set: "mass-nature-<kind>", "...-generic" and the R59 row."""
    return _mass_nature_set_ids(context.value_sets)


@lru_cache(maxsize=8)  # one ValueSets per app (a few in tests); value sets never change once loaded
def _mass_nature_set_ids(value_sets: ValueSets) -> tuple[str, ...]:
    candidates = [f"mass-nature-{nature.value}{suffix}" for nature in MassNature for suffix in ("", "-generic")]
    candidates.append(LYMPH_NODE_NATURE_SET)
    return tuple(v for v in candidates if v in value_sets)


def _status_codes(concept: object) -> set[str]:
    found = {str(c.get("code", "")).lower() for c in codings(concept)}
    if isinstance(concept, dict) and isinstance(concept.get("text"), str):
        found.add(concept["text"].strip().lower())
    return found


def is_active(resource: dict) -> bool:
    """clinicalStatus active / recurrence / relapse, or absent (or unreadable): active. Inactive / resolved: history."""
    statuses = _status_codes(resource.get("clinicalStatus"))
    return not (statuses & HISTORY_STATUSES and not statuses & ACTIVE_STATUSES)


def verification_of(resource: dict) -> Verification | None:
    """CONFIRMED (confirmed or absent), PROVISIONAL, or None (refuted / entered-in-error: ignore).

    A status the service cannot read is not a confirmation: PROVISIONAL.
    """
    if resource.get("verificationStatus") is None:
        return Verification.CONFIRMED
    statuses = _status_codes(resource.get("verificationStatus"))
    if statuses & IGNORED_STATUSES:
        return None
    if statuses & CONFIRMED_STATUSES:
        return Verification.CONFIRMED
    return Verification.PROVISIONAL


# ---------------------------------------------------------------- rows that need nothing else

def add_condition_facts(context: ExtractionContext, readings: list[ConditionReading], facts: ClinicalFacts) -> None:
    for reading in readings:
        _swelling(context, reading, facts)
        _dvt(context, reading, facts)
        _pe(context, reading, facts)
        _edema_causes(context, reading, facts)
        _long_term_anticoagulant(context, reading, facts)
        for value_set_id, attribute in SIMPLE_ROWS:
            matched = reading.match(context, value_set_id)
            if matched:
                getattr(facts, attribute).append(reading.fact(matched))


def _swelling(context: ExtractionContext, reading: ConditionReading, facts: ClinicalFacts) -> None:
    matched = reading.match(context, "leg-swelling")
    if not matched:
        matched = reading.match(context, "leg-swelling-needs-lower-limb-site")
        if matched and not context.match("lower-limb-body-site", reading.site_codings):
            matched = None
    if not matched or not reading.confirmed:
        return
    swelling = Swelling(
        evidence=reading.evidence(matched),
        side=reading.side,
        severity=severity_of(context, reading.resource),
        recorded=reading.recorded,
        grade=grade_of(context, reading.resource),
    )
    (facts.swellings if reading.active else facts.past_swellings).append(swelling)


def severity_of(context: ExtractionContext, resource: dict) -> Severity:
    severity = codings(resource.get("severity"))
    if context.match("swelling-severity-significant", severity):
        return Severity.SIGNIFICANT
    if context.match("swelling-severity-minimal", severity):
        return Severity.MINIMAL
    return Severity.UNKNOWN


def grade_of(context: ExtractionContext, resource: dict) -> str:
    """The recorded severity itself ("severe" / "moderate" / "mild"; "" not recorded): moderate -> severe is worse."""
    severity = codings(resource.get("severity"))
    for grade in SWELLING_GRADES:
        if context.match(f"swelling-grade-{grade}", severity):
            return grade
    return ""


def _dvt(context: ExtractionContext, reading: ConditionReading, facts: ClinicalFacts) -> None:
    acute = [c for c in reading.codings if _is_acute_dvt_coding(context, reading, c)]
    if acute:
        facts.dvt_diagnoses.append(DvtDiagnosis(
            evidence=reading.evidence(acute[0]),
            active=reading.active,
            verification=reading.verification,
            side=reading.side,
            distal_only=all(context.value_sets.contains("distal-dvt", c.get("system"), c.get("code")) for c in acute),
            chronic=False,
        ))
    chronic = reading.match(context, "chronic-dvt")
    if chronic:
        facts.dvt_diagnoses.append(DvtDiagnosis(
            reading.evidence(chronic), reading.active, reading.verification, reading.side,
            distal_only=False, chronic=True,
        ))


def _is_acute_dvt_coding(context: ExtractionContext, reading: ConditionReading, coding: dict) -> bool:
    system, code = coding.get("system"), coding.get("code")
    if context.value_sets.contains("acute-dvt", system, code) or context.value_sets.contains("distal-dvt", system, code):
        return True
    return (context.value_sets.contains("acute-dvt-needs-leg-site", system, code)
            and context.match_any(LEG_SITE_SETS, reading.site_codings))


def _pe(context: ExtractionContext, reading: ConditionReading, facts: ClinicalFacts) -> None:
    for coding in reading.codings:
        system, code = coding.get("system"), coding.get("code")
        if context.value_sets.contains("acute-pe", system, code) and not context.value_sets.contains(
                "acute-pe-septic", system, code):
            facts.pe_diagnoses.append(reading.fact(coding))
            return


def _edema_causes(context: ExtractionContext, reading: ConditionReading, facts: ClinicalFacts) -> None:
    for value_set_id, kind in EDEMA_CAUSE_SETS:
        matched = reading.match(context, value_set_id)
        if matched:
            facts.edema_causes.append(reading.fact(matched, kind.value))
    primary = reading.match(context, "lymphedema-primary")
    if primary:
        facts.edema_causes.append(reading.fact(primary, EdemaCauseKind.LYMPHEDEMA_PRIMARY.value))
        return
    other = reading.match(context, "lymphedema")
    if other:
        # Not coded as primary: the card calls it secondary (see docs/decisions.md).
        facts.edema_causes.append(reading.fact(other, EdemaCauseKind.LYMPHEDEMA_SECONDARY.value))


def _long_term_anticoagulant(context: ExtractionContext, reading: ConditionReading, facts: ClinicalFacts) -> None:
    matched = reading.match(context, "long-term-anticoagulant")
    if matched and reading.active and reading.confirmed:
        facts.long_term_anticoagulant.append(reading.evidence(matched))


# ---------------------------------------------------------------- rows that need the rest of the record

def add_contextual_condition_facts(
    context: ExtractionContext, readings: list[ConditionReading], facts: ClinicalFacts
) -> None:
    """I87.1, phlegmasia by SNOMED, PE with shock and stent status codes: after everything else is read."""
    swelling_on_record = bool(facts.swellings or facts.past_swellings or facts.persisting_swelling)
    leg_dvt_active = has_active_leg_dvt(facts)
    shock_active = any(s.active and s.verification is Verification.CONFIRMED for s in facts.shock)
    for reading in readings:
        matched = reading.match(context, "iliac-vein-compression-needs-context")
        if matched and (context.match("iliac-vein-body-site", reading.site_codings)
                        or has_whole_word(reading.words(), NIVL_CONTEXT_WORDS) or swelling_on_record):
            facts.nivl_diagnoses.append(reading.fact(matched))
        matched = reading.match(context, "phlegmasia-needs-dvt")
        if matched and leg_dvt_active:
            facts.phlegmasia.append(reading.fact(matched))
        matched = reading.match(context, "iliac-stent-status")
        if matched and reading.confirmed and is_iliac_context(context, reading.site_codings, reading.words(),
                                                              swelling_on_record):
            side = reading.side if reading.side != Side.UNKNOWN else side_in_words(reading.code_and_site_texts())
            facts.stents.append(StentRecord(reading.evidence(matched), placed=reading.when, side=side))
    if shock_active:
        for pe in facts.pe_diagnoses:
            if pe.active:
                facts.other_thrombolysis_indications.append(
                    ConditionFact(pe.evidence, pe.active, pe.verification, pe.side, kind="pe-with-shock"))


def has_active_leg_dvt(facts: ClinicalFacts) -> bool:
    """An active, confirmed acute leg DVT diagnosis, or a positive duplex / pelvic venography (final or preliminary)."""
    diagnosed = any(d.active and not d.chronic and d.verification is Verification.CONFIRMED for d in facts.dvt_diagnoses)
    imaged = any(s.result is ThrombusResult.PRESENT for s in facts.duplex_results + facts.pelvic_venography)
    return diagnosed or imaged


def side_in_words(words: list[str]) -> Side:
    """A stent's side from the whole words "left" / "right" in its text; both read as both legs (DATA-CONTRACT "Side", R2)."""
    found = {side for word, side in (("left", Side.LEFT), ("right", Side.RIGHT)) if has_whole_word(words, (word,))}
    return combine_sides(found)


def is_iliac_context(context: ExtractionContext, site_codings: list[dict], words: list[str],
                     swelling_on_record: bool) -> bool:
    """An iliac vein body site, the whole words iliac / CIV / EIV / May-Thurner, or lower-limb swelling on record."""
    return bool(context.match("iliac-vein-body-site", site_codings)
                or has_whole_word(words, STENT_CONTEXT_WORDS) or swelling_on_record)
