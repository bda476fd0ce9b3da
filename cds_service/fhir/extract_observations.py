"""Observations → facts (DATA-CONTRACT "Observations and reports", and the labs / vital signs of "Conditions").

Status final / amended / corrected is FINAL, preliminary is PRELIMINARY; anything else is ignored.
The date is effectiveDateTime (or effectivePeriod.start, effectiveInstant), else issued. Quantities
are converted with `units.quantity_to`; a value in a unit the service does not know is kept as a
Measurement with value None (unknown, never absent).
"""
from __future__ import annotations

from datetime import datetime

from cds_service.fhir.dates import first_date, period_start
from cds_service.fhir.extract_context import ExtractionContext
from cds_service.fhir.extract_masses import NatureCandidate, nature_candidate_from_observation
from cds_service.fhir.fhir_json import body_site_codings, codings, label, objects, reference_of, side_of
from cds_service.fhir.units import quantity_to
from cds_service.pathway.facts import (
    ClinicalFacts,
    DuplexExtent,
    Evidence,
    ImagingDone,
    ImagingKind,
    LesionBehavior,
    Measurement,
    ResultStatus,
    Side,
    ThrombusResult,
    VenousStudy,
    Waveform,
    WaveformFact,
)

FINAL_STATUSES = {"final", "amended", "corrected"}
PRELIMINARY_STATUSES = {"preliminary"}

# value set -> (ClinicalFacts list, unit the rules compare in)
LAB_ROWS = (
    ("body-weight", "weight", "kg"),
    ("egfr", "egfr", "mL/min/{1.73_m2}"),
    ("albumin", "albumin", "g/dL"),
    ("total-protein", "total_protein", "g/dL"),
    ("platelets", "platelets", "10*3/uL"),
    ("systolic-bp", "systolic_bp", "mm[Hg]"),
)
# The name a card gives each lab (RULES.md "Card text (R2)": plain clinical words), not the code's long
# display ("Platelets [#/volume] in Blood by Automated count").
LAB_NAMES = {
    "body-weight": "Body weight", "egfr": "eGFR", "albumin": "Albumin", "total-protein": "Total protein",
    "platelets": "Platelets", "systolic-bp": "Systolic blood pressure",
}
WAVEFORM_SETS = (
    ("waveform-non-phasic", Waveform.NON_PHASIC),
    ("waveform-absent", Waveform.ABSENT),
    ("waveform-pulsatile", Waveform.PULSATILE),
    ("waveform-phasic", Waveform.PHASIC),
)
# Checked in this order: a report that says both present and absent is read as present.
THROMBUS_SETS = (
    ("thrombus-present", ThrombusResult.PRESENT),
    ("thrombus-chronic", ThrombusResult.CHRONIC),
    ("thrombus-absent", ThrombusResult.ABSENT),
)
OBSERVATION_SETS = tuple(row[0] for row in LAB_ROWS) + (
    "bp-panel", "venous-duplex-observation", "pelvic-venography-observation", "cfv-waveform",
    "swelling-persistent", "ct-compression", "diameter-stenosis", "ivus-stenosis", "eiv-reference-diameter",
    "vessel-lumen-diameter", "lesion-behavior", "mass-nature-observation",
)


def result_status(resource: dict, final: set[str] = FINAL_STATUSES,
                  preliminary: set[str] = PRELIMINARY_STATUSES) -> ResultStatus | None:
    """FINAL or PRELIMINARY by the resource's status; None for a status that never counts."""
    status = str(resource.get("status", "")).lower()
    if status in final:
        return ResultStatus.FINAL
    if status in preliminary:
        return ResultStatus.PRELIMINARY
    return None


def effective_date(resource: dict) -> datetime | None:
    return first_date(resource.get("effectiveDateTime"), period_start(resource.get("effectivePeriod")),
                      resource.get("effectiveInstant"), resource.get("issued"))


def read_observations(context: ExtractionContext, facts: ClinicalFacts, mass_refs: set[str]) -> list[NatureCandidate]:
    """Adds every Observation fact; returns the mass-nature Observations for the mass reading."""
    natures = []
    for resource in context.resources("Observation"):
        code = codings(resource.get("code"))
        if not context.match_any(OBSERVATION_SETS, code):
            continue  # the cheap filter: most of a record's Observations stop here
        status = result_status(resource)
        if status is None or not context.validator.is_valid(resource):
            continue
        observation = ObservationReading(context, resource, code, status)
        observation.add_to(facts)
        if context.match("mass-nature-observation", code):
            candidate = nature_candidate_from_observation(context, resource, status, mass_refs)
            if candidate:
                natures.append(candidate)
    return natures


class ObservationReading:
    """One kept Observation and the facts it yields."""

    def __init__(self, context: ExtractionContext, resource: dict, code: list[dict], status: ResultStatus):
        self.context = context
        self.resource = resource
        self.code = code
        self.status = status
        self.when = effective_date(resource)
        self.method = codings(resource.get("method"))
        self.site = body_site_codings(resource.get("bodySite"))
        self.code_sets = context.value_sets.sets_of(code)  # each of ~20 value-set checks is then one lookup

    def matches(self, value_set_id: str, codings_: list[dict] | None = None) -> dict | None:
        if codings_ is None:
            return self.context.match_in(value_set_id, self.code, self.code_sets)
        return self.context.match(value_set_id, codings_)

    def evidence(self, display: str | None = None) -> Evidence:
        ref = reference_of(self.resource)
        return Evidence(ref, display or label(self.resource.get("code")) or ref, self.when)

    def side(self) -> Side:
        return side_of(self.code + self.site, self.context.value_sets)

    def add_to(self, facts: ClinicalFacts) -> None:
        self._labs(facts)
        self._duplex(facts)
        self._pelvic_venography(facts)
        self._waveform(facts)
        self._persisting_swelling(facts)
        self._compression_and_ivus(facts)
        self._lesion_behavior(facts)

    # -- labs and vital signs

    def measurement(self, quantity: object, unit: str, name: str) -> Measurement:
        value = quantity_to(quantity, unit) if _has_text_unit(quantity) else None
        return Measurement(self.evidence(f"{name} {_as_recorded(quantity)}".strip()), value, unit, self.status)

    def _labs(self, facts: ClinicalFacts) -> None:
        for value_set_id, attribute, unit in LAB_ROWS:
            if self.matches(value_set_id):
                getattr(facts, attribute).append(
                    self.measurement(self.resource.get("valueQuantity"), unit, LAB_NAMES[value_set_id]))
        if self.matches("bp-panel"):
            for component in objects(self.resource.get("component")):
                if self.matches("systolic-bp", codings(component.get("code"))):
                    facts.systolic_bp.append(self.measurement(
                        component.get("valueQuantity"), "mm[Hg]", LAB_NAMES["systolic-bp"]))

    # -- venous studies

    def thrombus_result(self) -> ThrombusResult:
        return thrombus_result_of(self.context, codings(self.resource.get("valueCodeableConcept")))

    def _duplex(self, facts: ClinicalFacts) -> None:
        if not self.matches("venous-duplex-observation"):
            return
        result = self.thrombus_result()
        facts.duplex_results.append(VenousStudy(
            evidence=self.evidence(self._result_display(result)),
            result=result,
            status=self.status,
            side=self.side(),
            extent=self._extent(),
        ))
        facts.imaging.append(ImagingDone(self.evidence(), ImagingKind.LEG_DUPLEX, self.side()))

    def _extent(self) -> DuplexExtent:
        """Method or a component whole-leg / femoropopliteal, else what the study code says, else unknown."""
        stated = self.method + [c for comp in objects(self.resource.get("component"))
                                for c in codings(comp.get("code")) + codings(comp.get("valueCodeableConcept"))]
        if self.matches("duplex-extent-whole-leg", stated):
            return DuplexExtent.WHOLE_LEG
        if self.matches("duplex-extent-limited", stated):
            return DuplexExtent.LIMITED
        return duplex_extent_of_study(self.context, self.code)

    def _result_display(self, result: ThrombusResult) -> str:
        value = label(self.resource.get("valueCodeableConcept"))
        name = label(self.resource.get("code"))
        return f"{name}: {value}" if value else f"{name}: {result.value}"

    def _pelvic_venography(self, facts: ClinicalFacts) -> None:
        if not self.matches("pelvic-venography-observation"):
            return
        method = venography_method(self.context, self.method)
        result = self.thrombus_result()
        facts.pelvic_venography.append(VenousStudy(
            evidence=self.evidence(self._result_display(result)),
            result=result,
            status=self.status,
            side=self.side(),
            method=method,
        ))
        kind = {"ct-venography": ImagingKind.CT_VENOGRAPHY_PELVIS,
                "mr-venography": ImagingKind.MR_VENOGRAPHY_PELVIS}.get(method)
        if kind:
            facts.imaging.append(ImagingDone(self.evidence(), kind, self.side()))

    def _waveform(self, facts: ClinicalFacts) -> None:
        if not self.matches("cfv-waveform"):
            return
        value = codings(self.resource.get("valueCodeableConcept"))
        for value_set_id, waveform in WAVEFORM_SETS:
            matched = self.matches(value_set_id, value)
            if matched:
                display = f"{label(self.resource.get('code'))}: {label(self.resource.get('valueCodeableConcept'), matched)}"
                facts.cfv_waveforms.append(WaveformFact(self.evidence(display), waveform, self.side()))
                return

    def _persisting_swelling(self, facts: ClinicalFacts) -> None:
        if self.matches("swelling-persistent") and self.resource.get("valueBoolean") is True:
            facts.persisting_swelling.append(self.evidence())

    # -- the lesion

    def _compression_and_ivus(self, facts: ClinicalFacts) -> None:
        name = label(self.resource.get("code"))
        quantity = self.resource.get("valueQuantity")
        by_ivus = bool(self.matches("method-ivus", self.method))
        by_ct_mr = bool(self.matches("method-ct-venography", self.method) or self.matches("method-mr-venography", self.method))
        if self.matches("ct-compression") or (self.matches("diameter-stenosis") and by_ct_mr and not by_ivus):
            facts.ct_compression.append(self.measurement(quantity, "%", name))
        if self.matches("ivus-stenosis") or (self.matches("diameter-stenosis") and by_ivus):
            facts.ivus_stenosis.append(self.measurement(quantity, "%", name))
            facts.imaging.append(ImagingDone(self.evidence(), ImagingKind.IVUS, self.side()))
        at_eiv = bool(self.matches("external-iliac-vein-body-site", self.site))
        if self.matches("eiv-reference-diameter") or (self.matches("vessel-lumen-diameter") and at_eiv and by_ivus):
            facts.eiv_reference_diameter.append(self.measurement(quantity, "mm", name))
            facts.imaging.append(ImagingDone(self.evidence(), ImagingKind.IVUS, self.side()))

    def _lesion_behavior(self, facts: ClinicalFacts) -> None:
        if not self.matches("lesion-behavior"):
            return
        value = codings(self.resource.get("valueCodeableConcept"))
        for value_set_id, behavior in (("lesion-dynamic", LesionBehavior.DYNAMIC), ("lesion-fixed", LesionBehavior.FIXED)):
            matched = self.matches(value_set_id, value)
            if matched:
                display = f"{label(self.resource.get('code'))}: {label(self.resource.get('valueCodeableConcept'), matched)}"
                facts.lesion_behavior.append((self.evidence(display), behavior))
                return


def thrombus_result_of(context: ExtractionContext, result_codings: list[dict]) -> ThrombusResult:
    """The coded result of a venous study; a study whose result is not coded is UNREADABLE."""
    for value_set_id, result in THROMBUS_SETS:
        if context.match(value_set_id, result_codings):
            return result
    return ThrombusResult.UNREADABLE


def duplex_extent_of_study(context: ExtractionContext, study_codings: list[dict]) -> DuplexExtent:
    if context.match("duplex-study-whole-leg", study_codings):
        return DuplexExtent.WHOLE_LEG
    if context.match("duplex-study-limited", study_codings):
        return DuplexExtent.LIMITED
    return DuplexExtent.UNKNOWN


def venography_method(context: ExtractionContext, method_codings: list[dict]) -> str:
    if context.match("method-ct-venography", method_codings):
        return "ct-venography"
    if context.match("method-mr-venography", method_codings):
        return "mr-venography"
    return ""


def _has_text_unit(quantity: object) -> bool:
    """A Quantity whose unit `units.quantity_to` can read (sloppy JSON may put a list there)."""
    if not isinstance(quantity, dict):
        return False
    unit = quantity.get("code") or quantity.get("unit")
    return isinstance(unit, str)


def _as_recorded(quantity: object) -> str:
    """The value as the EHR wrote it ("<10 10*3/uL"): the card shows what was recorded."""
    if not isinstance(quantity, dict) or quantity.get("value") is None:
        return "(no value)"
    value = quantity["value"]
    number = f"{value:g}" if isinstance(value, float) else str(value)
    unit = quantity.get("unit") or quantity.get("code") or ""
    return f"{quantity.get('comparator', '')}{number} {unit}".strip()
