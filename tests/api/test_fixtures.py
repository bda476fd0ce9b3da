"""Acceptance: every clinical fixture through the HTTP API, with the prefetch and against a FHIR server.

The expected cards come from each fixture's `meta.tag` (written from RULES.md and
DATA-CONTRACT.md, never from the implementation). The answer must hold exactly the
expected rule IDs, each with its indicator, and keep the CDS Hooks invariants.
"""
from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from fhir.resources.R4B import get_fhir_model_class

from cds_service.fixtures import Fixture, FixtureStore, all_fixtures, build_request

FHIR_BASE = "https://fhir.fixtures.test/r4"
TOKEN = "fixture-access-token"
PAGE_SIZE = 2  # the mock server's page cap: any search with more matches must be paged through `next`
URGENCY = {"critical": 0, "warning": 1, "info": 2}
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PREFILLED_ENOXAPARIN = {"854228", "854235", "854238", "854241", "854248", "854245", "854252"}

FIXTURES = all_fixtures()
WITH_PREFETCH = [f for f in FIXTURES if not f.fhir_server_down]


def fixture_named(name: str) -> Fixture:
    return next(f for f in FIXTURES if f.id == name)


# ---------------------------------------------------------------- the app


def call(client, entry: dict, body: dict):
    return client.post(f"/cds-services/{entry['id']}", json=body)


# ---------------------------------------------------------------- a FHIR server made of the fixture


class MockFhirServer:
    """Answers the service's FHIR queries from one fixture, paged, and records what was asked."""

    def __init__(self, fixture: Fixture, mock: responses.RequestsMock, down: bool = False,
                 failing_types: tuple[str, ...] = ()):
        self.fixture = fixture
        self.store = FixtureStore([fixture], max_page_size=PAGE_SIZE)
        self.down = down
        self.failing_types = failing_types
        self.requests: list = []
        mock.add_callback(responses.GET, re.compile(re.escape(FHIR_BASE) + r"/.*"), callback=self.answer)

    def answer(self, request):
        self.requests.append(request)
        relative = request.url[len(FHIR_BASE) + 1:]
        resource_type = re.split(r"[/?]", relative, maxsplit=1)[0]
        if self.down:
            return 503, {"Content-Type": "text/plain"}, "Service Unavailable"
        if resource_type in self.failing_types:
            return 500, {"Content-Type": "application/fhir+json"}, json.dumps(
                {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]})
        status, body = self.store.respond(relative, base=FHIR_BASE)
        return status, {"Content-Type": "application/fhir+json"}, json.dumps(body)

    def searches(self) -> list[tuple[str, dict[str, list[str]]]]:
        found = []
        for request in self.requests:
            parts = urlsplit(request.url)
            if parts.query:
                found.append((parts.path.rsplit("/", 1)[-1], parse_qs(parts.query)))
        return found


def run_against_server(client, entry: dict, fixture: Fixture, **server_options):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        server = MockFhirServer(fixture, mock, **server_options)
        body = build_request(fixture, entry, prefetch=False, fhir_server=FHIR_BASE, access_token=TOKEN)
        response = call(client, entry, body)
    return response, server


# ---------------------------------------------------------------- what every answer must satisfy


def rule_of(card: dict) -> str:
    return card["source"]["topic"]["code"]


def check_card_invariants(card: dict) -> None:
    assert 0 < len(card["summary"]) < 140, card["summary"]
    assert str(uuid.UUID(card["uuid"])) == card["uuid"].lower()
    assert card["indicator"] in URGENCY
    assert card["source"]["label"]
    assert card["source"].get("url"), "source.url explains the rule"
    assert card["source"]["topic"]["code"]
    if card["indicator"] in ("warning", "critical"):
        assert card.get("overrideReasons"), f"{rule_of(card)}: warning and critical cards offer override reasons"
    suggestions = card.get("suggestions") or []
    if suggestions:
        assert card.get("selectionBehavior") in ("at-most-one", "any")
    for suggestion in suggestions:
        assert suggestion["label"]
        uuid.UUID(suggestion["uuid"])
        for action in suggestion.get("actions", []):
            assert action["type"] in ("create", "update", "delete")
            assert action["description"]


def pathway_rank(rule_id: str) -> int:
    """RULES.md: within an indicator, DVT before mass before lesion before stent."""
    for rank, prefix in enumerate(("DVT-", "MASS-", "NIVL-", "POST-STENT-")):
        if rule_id.startswith(prefix):
            return rank
    return 4


def assert_answer(fixture: Fixture, response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    cards = response.get_json()["cards"]
    for card in cards:
        check_card_invariants(card)
    got = {rule_of(card): card["indicator"] for card in cards}
    missing = sorted(set(fixture.expected) - set(got))
    unexpected = sorted(set(got) - set(fixture.expected))
    assert not missing and not unexpected, (
        f"{fixture.id}: missing {missing}, unexpected {unexpected}\nstory: {fixture.story}\n"
        + "\n".join(f"  {rule_of(c)} {c['indicator']}: {c['summary']}" for c in cards)
    )
    for card in cards:
        assert card["indicator"] == fixture.expected[rule_of(card)], (
            f"{rule_of(card)}: indicator {card['indicator']}, expected {fixture.expected[rule_of(card)]}"
        )
    ranks = [URGENCY[card["indicator"]] for card in cards]
    assert ranks == sorted(ranks), "cards come in order of urgency"
    if fixture.hook == "patient-view":
        assert len(cards) == len(got), "one card per patient-view rule"
        order = [(URGENCY[c["indicator"]], pathway_rank(rule_of(c))) for c in cards]
        assert order == sorted(order), "within an indicator, pathway order"
    return cards


# ---------------------------------------------------------------- suggestions


def walk_codings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "coding" and isinstance(item, list):
                yield from ((c.get("system"), c.get("code")) for c in item if isinstance(c, dict))
            else:
                yield from walk_codings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_codings(item)


def created(card: dict) -> list[dict]:
    return [action["resource"] for suggestion in card.get("suggestions") or []
            for action in suggestion.get("actions", []) if action["type"] == "create"]


def check_suggested_resources(fixture: Fixture, cards: list[dict]) -> None:
    """DATA-CONTRACT: suggested resources are valid R4, status draft, intent order, the patient as subject."""
    for card in cards:
        for suggestion in card.get("suggestions") or []:
            for action in suggestion.get("actions", []):
                if action["type"] == "delete":
                    assert action.get("resourceId")
                    continue
                resource = action["resource"]
                get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                if action["type"] == "create":
                    assert resource["status"] == "draft"
                    assert resource.get("intent") == "order"
                    assert resource["subject"]["reference"] == f"Patient/{fixture.patient_id}"


def creates(*codes: tuple[str, str], never: tuple[tuple[str, str], ...] = ()):
    def check(card: dict) -> None:
        resources = created(card)
        assert resources, "a create suggestion is expected"
        found = {code for resource in resources for code in walk_codings(resource)}
        assert set(codes) <= found, f"missing codes {set(codes) - found}"
        assert not set(never) & found, f"unexpected codes {set(never) & found}"
    return check


def no_suggestions(card: dict) -> None:
    assert not card.get("suggestions"), "nothing to suggest"


def enoxaparin(dose_mg: int, per_day: int, product: str | None):
    def check(card: dict) -> None:
        orders = [r for r in created(card) if r["resourceType"] == "MedicationRequest"]
        assert len(orders) == 1, "one enoxaparin order"
        codes = set(walk_codings(orders[0]))
        assert (RXNORM, "67108") in codes
        assert {code for system, code in codes if system == RXNORM} & PREFILLED_ENOXAPARIN == (
            {product} if product else set())
        dosage = orders[0]["dosageInstruction"][0]
        dose = dosage["doseAndRate"][0]["doseQuantity"]
        assert dose["value"] == dose_mg and (dose.get("code") or dose.get("unit")) == "mg"
        repeat = dosage["timing"]["repeat"]
        assert (repeat["frequency"], repeat["period"], repeat["periodUnit"]) == (per_day, 1, "d")
    return check


def no_dosed_medication(card: dict) -> None:
    for resource in created(card):
        if resource["resourceType"] == "MedicationRequest":
            for dosage in resource.get("dosageInstruction", []):
                assert not dosage.get("doseAndRate"), "no weight: no dose"


def no_heparin(card: dict) -> None:
    for resource in created(card):
        codes = {code for system, code in walk_codings(resource) if system == RXNORM}
        assert not codes & ({"67108", "67109", "69646", "5224"} | PREFILLED_ENOXAPARIN), "HIT: no heparin product"
        assert not re.search(r"\b(enoxaparin|dalteparin|tinzaparin|heparin)\b", json.dumps(resource), re.I)


def labelled(*words: str):
    """Every create suggestion's label names the words (R2: "without gadolinium" in pregnancy)."""
    def check(card: dict) -> None:
        labels = [s["label"] for s in card.get("suggestions") or []
                  if any(a["type"] == "create" for a in s.get("actions", []))]
        assert labels, "a create suggestion is expected"
        for label in labels:
            for word in words:
                assert word.lower() in label.lower(), f"{word!r} not in the label {label!r}"
    return check


def actions_of(card: dict, kind: str) -> list[dict]:
    return [a for s in card.get("suggestions") or [] for a in s.get("actions", []) if a["type"] == kind]


def deletes_the_order(card: dict) -> None:
    assert actions_of(card, "delete"), "RULES.md: critical THROMBOLYSIS-NOT-INDICATED suggests deleting the order"


def no_delete(card: dict) -> None:
    assert not actions_of(card, "delete"), "R2: with phlegmasia recorded, no delete suggestion"


def stent_size(resource: dict) -> dict[str, float]:
    names = {"408703009": "length", "stent-length": "length", "408706001": "diameter", "stent-diameter": "diameter"}
    size = {}
    for parameter in resource.get("parameter", []):
        for coding in (parameter.get("code") or {}).get("coding", []):
            if coding.get("code") in names and "valueQuantity" in parameter:
                quantity = parameter["valueQuantity"]
                assert quantity.get("code") == "mm", "suggested sizes in mm"
                size[names[coding["code"]]] = quantity["value"]
    return size


def updates_carry(length_mm: float, diameter_mm: float):
    """R2 item 9: every update of the draft stent carries every correction of the response."""
    def check(card: dict) -> None:
        updates = actions_of(card, "update")
        assert updates, "an update suggestion is expected"
        for action in updates:
            assert stent_size(action["resource"]) == {"length": length_mm, "diameter": diameter_mm}
    return check


def detail_says(*phrases: str, never: tuple[str, ...] = ()):
    def check(card: dict) -> None:
        detail = card.get("detail", "")
        for phrase in phrases:
            assert re.search(phrase, detail, re.IGNORECASE), f"{phrase!r} not in the detail"
        for phrase in never:
            assert not re.search(phrase, detail, re.IGNORECASE), f"{phrase!r} in the detail"
    return check


def offers_override(phrase: str):
    def check(card: dict) -> None:
        displays = [reason.get("display", "") for reason in card.get("overrideReasons") or []]
        assert any(phrase.lower() in display.lower() for display in displays), f"{phrase!r} not in {displays}"
    return check


VENOGRAPHY_IVUS = ((CPT, "75820"), (CPT, "37252"), (SNOMED, "241466007"))
LEFT_DUPLEX = ((LOINC, "39432-0"), (CPT, "93971"))
CT_VENOGRAPHY = ((SNOMED, "431676002"), (CPT, "74174"))
NO_IVUS_STEP = detail_says(never=(r"venography with (IVUS|intravascular ultrasound)",))
NO_OTHER_CAUSE_RECORDED = detail_says(r"no other cause of edema recorded", never=(r"excluded",))
# Derived from DATA-CONTRACT "Orders the service suggests" and RULES.md; keyed by fixture id.
SUGGESTION_CHECKS = {
    "left-leg-swelling-no-imaging": [("DVT-DUPLEX", creates((LOINC, "39432-0"), (CPT, "93971")))],
    "limited-femoropopliteal-duplex-negative": [("DVT-DUPLEX", creates((LOINC, "39432-0"), (CPT, "93971")))],
    "negative-duplex-voided-by-new-right-leg-swelling": [
        ("DVT-DUPLEX", creates((LOINC, "39443-7"), (CPT, "93971"), never=((LOINC, "39432-0"),)))],
    "duplex-report-without-coded-result": [("DVT-DUPLEX", no_suggestions)],
    "negative-whole-leg-duplex-persisting-swelling": [
        ("DVT-PELVIC-IMAGING", creates((SNOMED, "431676002"), (CPT, "74174")))],
    "pregnant-negative-duplex-persisting-swelling": [
        ("DVT-PELVIC-IMAGING", creates((LOINC, "36789-6"), (CPT, "72198"), never=((CPT, "74174"),))),
        ("DVT-PELVIC-IMAGING", labelled("without gadolinium"))],
    "pelvic-ct-venography-result-not-coded": [("DVT-PELVIC-IMAGING", no_suggestions)],
    "iliac-mass-negative-duplex-one-ct-for-both": [
        ("DVT-PELVIC-IMAGING", creates((SNOMED, "431676002"), (CPT, "74174")))],
    "left-iliac-mass-no-imaging": [("MASS-CHARACTERIZE", creates((CPT, "74177")))],
    "pregnant-iliac-mass-no-imaging": [  # R2: CPT 72195 (without contrast), never 72197 (with contrast)
        ("MASS-CHARACTERIZE", creates((CPT, "72195"), never=((CPT, "74177"), (CPT, "72197")))),
        ("MASS-CHARACTERIZE", labelled("without gadolinium"))],
    "positive-duplex-no-anticoagulant": [("DVT-ANTICOAGULATE", enoxaparin(70, 2, None))],
    "weight-in-pounds-enoxaparin-80-mg": [("DVT-ANTICOAGULATE", enoxaparin(80, 2, "854241"))],
    "egfr-exactly-30-enoxaparin-twice-daily": [("DVT-ANTICOAGULATE", enoxaparin(80, 2, "854241"))],
    "confirmed-dvt-no-weight-recorded": [("DVT-ANTICOAGULATE", no_dosed_medication)],
    "heparin-induced-thrombocytopenia-with-dvt": [("DVT-ANTICOAGULATE", no_heparin)],
    "may-thurner-diagnosis-needs-ivus": [("NIVL-IVUS-REQUIRED", creates(*VENOGRAPHY_IVUS)),
                                         ("NIVL-WORKUP", NO_IVUS_STEP)],  # R2: one card per action
    "ct-compression-without-ivus": [("NIVL-CT-NOT-DIAGNOSTIC", creates(*VENOGRAPHY_IVUS)),
                                    ("NIVL-WORKUP", NO_IVUS_STEP)],
    "bilateral-edema-with-may-thurner-diagnosis": [("NIVL-IVUS-REQUIRED", no_suggestions)],
    "stent-placed-31-days-ago-no-imaging": [("POST-STENT-FOLLOWUP", creates((CPT, "93979"), (LOINC, "39497-3")))],
    # ---- revision 2 (RULES.md "Revision 2", DATA-CONTRACT (R2) rows)
    "limited-duplex-negative-pelvic-ct-dvt-not-excluded": [("DVT-DUPLEX", creates(*LEFT_DUPLEX))],
    "limited-duplex-negative-persisting-swelling": [("DVT-DUPLEX", creates(*LEFT_DUPLEX)),
                                                    ("DVT-PELVIC-IMAGING", creates(*CT_VENOGRAPHY))],
    "limited-duplex-non-phasic-cfv-duplex-and-pelvic-imaging": [("DVT-DUPLEX", creates(*LEFT_DUPLEX))],
    "duplex-extent-unknown-cpt-93971-negative": [("DVT-DUPLEX", no_suggestions),
                                                 ("DVT-DUPLEX", offers_override("study was complete"))],
    "duplex-cpt-93971-negative-then-negative-pelvic-ct": [("DVT-DUPLEX", no_suggestions),
                                                          ("DVT-DUPLEX", offers_override("study was complete"))],
    "duplex-cpt-93971-negative-persisting-swelling": [("DVT-DUPLEX", no_suggestions),
                                                      ("DVT-PELVIC-IMAGING", creates(*CT_VENOGRAPHY))],
    # DVT-DISTAL-SURVEILLANCE names the contraindication and suggests the complete duplex of that leg
    "isolated-calf-dvt-low-platelets-surveillance": [("DVT-DISTAL-SURVEILLANCE", creates(*LEFT_DUPLEX)),
                                                     ("DVT-DISTAL-SURVEILLANCE", detail_says("platelet"))],
    "isolated-calf-dvt-with-bleeding-no-filter": [("DVT-DISTAL-SURVEILLANCE", creates(*LEFT_DUPLEX)),
                                                  ("DVT-DISTAL-SURVEILLANCE", detail_says("bleed|hemorrhage"))],
    "isolated-calf-dvt-prophylactic-enoxaparin-surveillance": [
        ("DVT-DISTAL-SURVEILLANCE", detail_says("bleed|hemorrhage"))],
    # every missed study is named: day 30, month 6 and month 12 all came due
    "stent-400-days-no-imaging-three-studies-missed": [
        ("POST-STENT-FOLLOWUP", creates((CPT, "93979"), (LOINC, "39497-3"))),
        ("POST-STENT-FOLLOWUP", detail_says(r"\b30\b", r"\b6\b|six", r"\b12\b|twelve"))],
    # eGFR < 30: the card never opens with "twice daily" and then recommends every 24 h
    "egfr-29-enoxaparin-once-daily": [("DVT-ANTICOAGULATE", enoxaparin(80, 1, "854241")),
                                      ("DVT-ANTICOAGULATE", detail_says(never=(r"twice daily",)))],
    "order-sign-thrombolysis-alteplase-dvt": [("THROMBOLYSIS-NOT-INDICATED", deletes_the_order)],
    "order-sign-alteplase-2mg-three-doses-thrombolysis": [("THROMBOLYSIS-NOT-INDICATED", deletes_the_order)],
    "order-sign-thrombolysis-phlegmasia-normal-bp-warning": [("THROMBOLYSIS-NOT-INDICATED", no_delete)],
    "order-sign-thrombolysis-phlegmasia-one-low-reading": [("THROMBOLYSIS-NOT-INDICATED", no_delete)],
    "order-sign-thrombolysis-phlegmasia-readings-10-min-apart": [("THROMBOLYSIS-NOT-INDICATED", no_delete)],
    "order-sign-stent-50mm-long-20mm-wide-reference-14mm": [("STENT-LENGTH", updates_carry(60, 18)),
                                                             ("STENT-DIAMETER", updates_carry(60, 18))],
    "dvt-with-hit-snomed-73397007": [("DVT-ANTICOAGULATE", no_heparin)],
    # the facts name the DVT evidence (dated 2026-11-24), not only the order
    "order-sign-enoxaparin-once-daily-dvt-on-pelvic-ct": [("ANTICOAG-REGIMEN", detail_says("2026-11-24"))],
    "order-sign-pradaxa-coded-dabigatran": [("ANTICOAG-REGIMEN", detail_says("2026-11-24"))],
    "may-thurner-stent-candidate": [("NIVL-STENT-CANDIDATE", NO_OTHER_CAUSE_RECORDED),
                                    ("NIVL-STENT-CANDIDATE", detail_says("albumin"))],  # no albumin on record
    "nivl-stent-candidate-labs-on-record": [("NIVL-STENT-CANDIDATE", NO_OTHER_CAUSE_RECORDED)],
    "right-leg-may-thurner-needs-ivus-workup": [("NIVL-WORKUP", NO_IVUS_STEP),
                                                ("NIVL-WORKUP", detail_says(never=(r"left-sided presentation",)))],
}


def test_suggestion_checks_name_existing_fixtures_and_expected_rules():
    for name, checks in SUGGESTION_CHECKS.items():
        fixture = fixture_named(name)
        for rule_id, _ in checks:
            assert rule_id in fixture.expected, f"{name}: {rule_id} is not expected"


# ---------------------------------------------------------------- the runs


@pytest.mark.parametrize("fixture", WITH_PREFETCH, ids=[f.id for f in WITH_PREFETCH])
def test_fixture_with_prefetch(fixture, client, services, clock):
    clock["now"] = fixture.now
    entry = services[fixture.hook]
    cards = assert_answer(fixture, call(client, entry, build_request(fixture, entry, prefetch=True)))
    check_suggested_resources(fixture, cards)
    for rule_id, check in SUGGESTION_CHECKS.get(fixture.id, []):
        check(next(card for card in cards if rule_of(card) == rule_id))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_fixture_against_fhir_server(fixture, client, services, clock):
    clock["now"] = fixture.now
    entry = services[fixture.hook]
    response, server = run_against_server(client, entry, fixture, down=fixture.fhir_server_down)
    assert_answer(fixture, response)
    assert server.requests, "with no prefetch the service asks the FHIR server"
    for request in server.requests:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
    if fixture.fhir_server_down:
        return
    for resource_type, params in server.searches():
        for name in ("patient", "subject"):
            for value in params.get(name, []):
                assert value.removeprefix("Patient/") == fixture.patient_id, "only this patient's data is asked for"
    paged = {t for t, params in server.searches() if "_offset" in params}
    for resource_type in {r["resourceType"] for r in fixture.resources}:
        matching = [r for r in fixture.resources if r["resourceType"] == resource_type]
        asked = {t for t, _ in server.searches()}
        if len(matching) > PAGE_SIZE and resource_type in asked:
            assert resource_type in paged, f"{resource_type}: the `next` pages were not read"


def test_paging_is_exercised_by_the_fixtures():
    """At least some fixtures hold more resources of one type than a page: the `next` links matter."""
    def biggest(fixture: Fixture) -> int:
        types = [r["resourceType"] for r in fixture.resources]
        return max((types.count(t) for t in set(types)), default=0)

    assert sum(1 for f in FIXTURES if biggest(f) > PAGE_SIZE) >= 20


# ---------------------------------------------------------------- unknown is not false


MEDICATIONS = ("MedicationRequest", "MedicationStatement")


def medications_unreadable_in_prefetch(fixture: Fixture, entry: dict) -> dict:
    body = build_request(fixture, entry, prefetch=True)
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    for key, template in entry["prefetch"].items():
        if template.startswith(MEDICATIONS):
            body["prefetch"][key] = outcome
    return body


def rules_with_unreadable_medications(client, services, clock, name: str, via: str) -> set[str]:
    fixture = fixture_named(name)
    clock["now"] = fixture.now
    entry = services["patient-view"]
    if via == "server":
        response, _ = run_against_server(client, entry, fixture, failing_types=MEDICATIONS)
    else:
        response = call(client, entry, medications_unreadable_in_prefetch(fixture, entry))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    cards = response.get_json()["cards"]
    for card in cards:
        check_card_invariants(card)
    return {rule_of(card) for card in cards}


@pytest.mark.parametrize("via", ["server", "prefetch"])
def test_unreadable_medications_never_silence_anticoagulation(client, services, clock, via):
    """The patient is on apixaban, but the service cannot read medications: it must not assume treatment."""
    assert fixture_named("apixaban-treated-dvt-no-card").expected == {}
    rules = rules_with_unreadable_medications(client, services, clock, "apixaban-treated-dvt-no-card", via)
    assert "DVT-ANTICOAGULATE" in rules


@pytest.mark.parametrize("via", ["server", "prefetch"])
def test_unreadable_medications_never_make_a_stent_candidate(client, services, clock, via):
    """"No other edema cause" needs the medications read: an edema-causing drug may be hidden."""
    assert "NIVL-STENT-CANDIDATE" in fixture_named("may-thurner-stent-candidate").expected
    rules = rules_with_unreadable_medications(client, services, clock, "may-thurner-stent-candidate", via)
    assert "NIVL-STENT-CANDIDATE" not in rules
