"""Orders the service suggests (DATA-CONTRACT "Orders the service suggests"), as FHIR R4 JSON.

A `CreateOrder` becomes a draft ServiceRequest and a `CreateEnoxaparin` a draft
MedicationRequest, each wrapped in a `Suggestion` with one `create` action.
Every resource: status draft, intent order, the patient as subject, coded with
both the LOINC / SNOMED and the CPT code where both exist.
"""
from __future__ import annotations

from dataclasses import dataclass

from cds_service.fhir.valuesets import CPT, LOINC, RXNORM, SNOMED, UCUM
from cds_service.pathway.dosing import ENOXAPARIN_INGREDIENT_RXNORM, prefilled_syringe_rxnorm
from cds_service.pathway.facts import Side
from cds_service.pathway.findings import CreateEnoxaparin, CreateOrder, Proposal
from cds_service.protocol.cards import Action, Suggestion


@dataclass(frozen=True)
class OrderSpec:
    title: str
    codings: tuple[tuple[str, str, str], ...]  # (system, code, display)


def _leg_duplex(side: Side) -> OrderSpec:
    if side == Side.LEFT:
        return OrderSpec(
            "Duplex ultrasound of the left leg veins, complete (common femoral through calf veins)",
            ((LOINC, "39432-0", "US.doppler Lower extremity vein - left"),
             (CPT, "93971", "Duplex scan of extremity veins; unilateral or limited study")),
        )
    if side == Side.RIGHT:
        return OrderSpec(
            "Duplex ultrasound of the right leg veins, complete (common femoral through calf veins)",
            ((LOINC, "39443-7", "US.doppler Lower extremity vein - right"),
             (CPT, "93971", "Duplex scan of extremity veins; unilateral or limited study")),
        )
    return OrderSpec(
        "Duplex ultrasound of both legs' veins, complete (common femoral through calf veins)",
        ((LOINC, "39420-5", "US.doppler Lower extremity vein - bilateral"),
         (CPT, "93970", "Duplex scan of extremity veins; complete bilateral study")),
    )


CT_VENOGRAPHY_CODES = (
    (SNOMED, "431676002", "Computed tomography venography with contrast"),
    (CPT, "74174", "CT angiography, abdomen and pelvis, with contrast"),
)

ORDERS: dict[str, OrderSpec] = {
    "ct-venography": OrderSpec("CT venography of the abdomen and pelvis", CT_VENOGRAPHY_CODES),
    "ct-venography-with-mass": OrderSpec("CT abdomen/pelvis with IV contrast, venous phase", CT_VENOGRAPHY_CODES),
    "mr-venography": OrderSpec(
        "MR venography of the pelvis without gadolinium",
        ((LOINC, "36789-6", "MRA Pelvis veins"), (CPT, "72198", "MR angiography, pelvis")),
    ),
    "venography-ivus": OrderSpec(
        "Venography with intravascular ultrasound (IVUS) of the iliac veins",
        ((SNOMED, "241466007", "Intravascular ultrasound"),
         (CPT, "75820", "Venography, extremity, unilateral, radiological supervision and interpretation"),
         (CPT, "37252", "Intravascular ultrasound (non-coronary vessel), initial vessel")),
    ),
    "contrast-ct": OrderSpec(
        "CT abdomen and pelvis with IV contrast",
        ((CPT, "74177", "CT abdomen and pelvis with contrast"),),
    ),
    # Pregnancy only: MRI of the mass without contrast (DATA-CONTRACT R2; departs from G:26 on purpose).
    "mri-pelvis": OrderSpec(
        "MRI pelvis without contrast (without gadolinium)",
        ((CPT, "72195", "MRI pelvis without contrast"),),
    ),
    "iliocaval-duplex": OrderSpec(
        "Iliocaval duplex ultrasound (iliac venous stent surveillance)",
        ((LOINC, "39497-3", "US.doppler Iliac vessels"),
         (CPT, "93979", "Duplex scan of aorta, IVC, iliac vasculature; unilateral or limited study")),
    ),
}

LEG_BODY_SITES = {
    Side.LEFT: (SNOMED, "32153003", "Structure of left lower limb"),
    Side.RIGHT: (SNOMED, "62175007", "Structure of right lower limb"),
}
SUBCUTANEOUS = (SNOMED, "34206005", "Subcutaneous route")


def order_spec(proposal: CreateOrder) -> OrderSpec:
    if proposal.order == "leg-duplex":
        return _leg_duplex(proposal.side)
    try:
        return ORDERS[proposal.order]
    except KeyError:
        raise ValueError(f"no order is defined for {proposal.order!r}") from None


def _coding(system: str, code: str, display: str) -> dict:
    return {"system": system, "code": code, "display": display}


def _subject(patient_id: str) -> dict:
    return {"reference": f"Patient/{patient_id}"}


def service_request(proposal: CreateOrder, patient_id: str) -> dict:
    spec = order_spec(proposal)
    resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "order",
        "subject": _subject(patient_id),
        "code": {"coding": [_coding(*c) for c in spec.codings], "text": spec.title},
    }
    body_site = LEG_BODY_SITES.get(proposal.side)
    if body_site is not None and proposal.order in ("leg-duplex", "venography-ivus"):
        resource["bodySite"] = [{"coding": [_coding(*body_site)]}]
    return resource


def enoxaparin_text(proposal: CreateEnoxaparin) -> str:
    interval = "every 12 h" if proposal.per_day == 2 else "every 24 h"
    return f"Enoxaparin {proposal.dose_mg} mg subcutaneously {interval}"


def medication_request(proposal: CreateEnoxaparin, patient_id: str) -> dict:
    codings = [_coding(RXNORM, ENOXAPARIN_INGREDIENT_RXNORM, "enoxaparin")]
    product = prefilled_syringe_rxnorm(proposal.dose_mg)
    if product is not None:
        codings.append(_coding(RXNORM, product, f"enoxaparin sodium {proposal.dose_mg} mg prefilled syringe"))
    text = enoxaparin_text(proposal)
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "order",
        "subject": _subject(patient_id),
        "medicationCodeableConcept": {"coding": codings, "text": f"enoxaparin {proposal.dose_mg} mg"},
        "dosageInstruction": [
            {
                "text": text,
                "timing": {"repeat": {"frequency": proposal.per_day, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [_coding(*SUBCUTANEOUS)]},
                "doseAndRate": [{"doseQuantity": {"value": proposal.dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}],
            }
        ],
    }


def suggestion_label(proposal: CreateOrder | CreateEnoxaparin) -> str:
    if isinstance(proposal, CreateEnoxaparin):
        return "Order " + enoxaparin_text(proposal).replace("Enoxaparin", "enoxaparin", 1)
    return f"Order {order_spec(proposal).title}"


def suggestion(proposal: Proposal, patient_id: str) -> Suggestion:
    """One `create` suggestion for a CreateOrder / CreateEnoxaparin proposal."""
    if isinstance(proposal, CreateEnoxaparin):
        resource = medication_request(proposal, patient_id)
    elif isinstance(proposal, CreateOrder):
        resource = service_request(proposal, patient_id)
    else:
        raise TypeError(f"patient-view suggests new orders only, not {type(proposal).__name__}")
    label = suggestion_label(proposal)
    return Suggestion(label=label, actions=[Action(type="create", description=label, resource=resource)])
