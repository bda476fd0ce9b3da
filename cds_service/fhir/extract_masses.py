"""Iliac / pelvic masses and what they are (DATA-CONTRACT "Conditions": mass rows and the mass-nature paragraph).

A nature diagnosis counts when its code is site-specific ("mass-nature-<kind>"), when a generic code
("mass-nature-<kind>-generic") carries a pelvic / retroperitoneal / iliac bodySite, when R59.* carries
a pelvic / inguinal / retroperitoneal bodySite, or when it is linked to the mass: its
`Condition.evidence.detail` references the mass (or the mass's references it), or a local `mass-nature`
Observation names the mass in `focus`.

A mass gets a nature (`MassFact.nature`) from a linked nature, else, when it is the only mass, from a
nature that counts by its code or site. Only an active, confirmed diagnosis (or a final Observation)
characterizes a mass; every nature that counts is listed in `facts.mass_natures` with its status.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cds_service.fhir.dates import first_date, period_start
from cds_service.fhir.extract_conditions import LYMPH_NODE_NATURE_SET, ConditionReading, mass_nature_set_ids
from cds_service.fhir.extract_context import ExtractionContext
from cds_service.fhir.fhir_json import codings, label, objects, reference_of, reference_target
from cds_service.pathway.facts import (
    ClinicalFacts,
    ConditionFact,
    Evidence,
    MassFact,
    MassNature,
    ResultStatus,
    Verification,
    newest,
)


@dataclass(frozen=True)
class NatureCandidate:
    nature: MassNature
    fact: ConditionFact  # listed in facts.mass_natures (kind = MassNature value)
    linked_to: frozenset[str]  # refs of the masses it names
    counts_alone: bool  # site-specific code or a pelvic body site: may characterize the only mass
    characterizes: bool  # active and confirmed (Condition) or final (Observation)


def mass_readings(context: ExtractionContext, readings: list[ConditionReading]) -> list[ConditionReading]:
    """Active, confirmed iliac / pelvic mass Conditions."""
    return [r for r in readings if r.match(context, "iliac-mass") and r.active and r.confirmed]


def nature_candidates_from_conditions(
    context: ExtractionContext, readings: list[ConditionReading], masses: list[ConditionReading]
) -> list[NatureCandidate]:
    mass_refs = {m.ref for m in masses}
    candidates = []
    for reading in readings:
        linked = _links(reading, masses, mass_refs)
        for nature, matched, counts_alone in _natures_of(context, reading):
            if counts_alone or linked:
                candidates.append(NatureCandidate(
                    nature=nature,
                    fact=reading.fact(matched, nature.value),
                    linked_to=frozenset(linked),
                    counts_alone=counts_alone,
                    characterizes=reading.active and reading.confirmed,
                ))
    return candidates


def _natures_of(context: ExtractionContext, reading: ConditionReading) -> list[tuple[MassNature, dict, bool]]:
    """(nature, matched coding, counts without a link) for every nature the Condition's codes name."""
    if reading.code_sets.isdisjoint(mass_nature_set_ids(context)):
        return []  # most Conditions: one set operation instead of a look-up per nature
    found: dict[MassNature, tuple[MassNature, dict, bool]] = {}
    pelvic_site = bool(context.match("pelvic-body-site", reading.site_codings))
    for nature in MassNature:
        specific = _reading_match_if_known(context, reading, f"mass-nature-{nature.value}")
        if specific:
            found[nature] = (nature, specific, True)
            continue
        generic = _reading_match_if_known(context, reading, f"mass-nature-{nature.value}-generic")
        if generic:
            found[nature] = (nature, generic, pelvic_site)
    nodes = _reading_match_if_known(context, reading, LYMPH_NODE_NATURE_SET)
    if nodes and MassNature.LYMPHADENOPATHY not in found:
        node_site = bool(context.match("lymph-node-site", reading.site_codings))
        found[MassNature.LYMPHADENOPATHY] = (MassNature.LYMPHADENOPATHY, nodes, node_site)
    return list(found.values())


def _reading_match_if_known(context: ExtractionContext, reading: ConditionReading, value_set_id: str) -> dict | None:
    return reading.match(context, value_set_id) if value_set_id in context.value_sets else None


def _match_if_known(context: ExtractionContext, value_set_id: str, codings_: list[dict]) -> dict | None:
    return context.match(value_set_id, codings_) if value_set_id in context.value_sets else None


def _links(reading: ConditionReading, masses: list[ConditionReading], mass_refs: set[str]) -> set[str]:
    """The masses a Condition is linked to: its evidence.detail names them, or theirs names it, or it is one."""
    linked = {t for t in evidence_detail_targets(reading.resource) if t in mass_refs}
    linked |= {m.ref for m in masses if reading.ref in evidence_detail_targets(m.resource)}
    if reading.ref in mass_refs:
        linked.add(reading.ref)  # a mass coded with its own nature (e.g. retroperitoneal lymphadenopathy)
    return linked


def evidence_detail_targets(resource: dict) -> set[str]:
    return {
        reference_target(detail)
        for item in objects(resource.get("evidence"))
        for detail in objects(item.get("detail"))
    } - {""}


def nature_candidate_from_observation(
    context: ExtractionContext, resource: dict, status: ResultStatus, mass_refs: set[str]
) -> NatureCandidate | None:
    """A local `mass-nature` Observation: its value is the nature, its `focus` the mass."""
    value = codings(resource.get("valueCodeableConcept"))
    for nature in MassNature:
        matched = _match_if_known(context, f"mass-nature-{nature.value}", value)
        if not matched:
            continue
        when = first_date(resource.get("effectiveDateTime"), period_start(resource.get("effectivePeriod")),
                          resource.get("effectiveInstant"), resource.get("issued"))
        verification = Verification.CONFIRMED if status is ResultStatus.FINAL else Verification.PROVISIONAL
        evidence = Evidence(reference_of(resource), label(resource.get("valueCodeableConcept"), matched), when)
        focus = {reference_target(f) for f in objects(resource.get("focus"))}
        return NatureCandidate(
            nature=nature,
            fact=ConditionFact(evidence, True, verification, kind=nature.value),
            linked_to=frozenset(focus & mass_refs),
            counts_alone=True,
            characterizes=status is ResultStatus.FINAL,
        )
    return None


def add_masses(masses: list[ConditionReading], candidates: list[NatureCandidate], facts: ClinicalFacts) -> None:
    seen: set[tuple[str, str]] = set()
    for candidate in candidates:
        key = (candidate.fact.evidence.ref, candidate.nature.value)
        if key not in seen:
            seen.add(key)
            facts.mass_natures.append(candidate.fact)
    only_mass = len(masses) == 1
    for mass in masses:
        nature = _nature_for(mass.ref, candidates, only_mass)
        facts.masses.append(MassFact(
            evidence=mass.evidence(),
            recorded=mass.recorded,
            nature=nature.nature if nature else None,
            nature_evidence=nature.fact.evidence if nature else None,
        ))


def _nature_for(mass_ref: str, candidates: list[NatureCandidate], only_mass: bool) -> NatureCandidate | None:
    """The newest nature linked to this mass; with one mass only, else the newest unlinked one that counts alone."""
    usable = [c for c in candidates if c.characterizes]
    linked = [c for c in usable if mass_ref in c.linked_to]
    if linked or not only_mass:
        return newest(linked, when=_stated)
    return newest([c for c in usable if c.counts_alone and not c.linked_to], when=_stated)


def _stated(candidate: NatureCandidate) -> datetime | None:
    return candidate.fact.evidence.when
