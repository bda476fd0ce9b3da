"""A real patient has thousands of Observations: the cards must be the same with 5,000 irrelevant ones."""
import copy

import pytest

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
from cds_service.services import all_services

STORIES = ["malignant-iliac-mass-with-acute-dvt", "left-leg-swelling-no-imaging"]


def noise(patient_id: str, count: int) -> list[dict]:
    return [
        {"resource": {
            "resourceType": "Observation", "id": f"noise-{n}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]},
            "subject": {"reference": f"Patient/{patient_id}"},
            "effectiveDateTime": f"2026-{n % 12 + 1:02d}-{n % 27 + 1:02d}T08:00:00Z",
            "valueQuantity": {"value": 90 + n % 40, "unit": "mg/dL", "system": "http://unitsofmeasure.org",
                              "code": "mg/dL"},
        }}
        for n in range(count)
    ]


@pytest.mark.parametrize("story", STORIES)
def test_5000_irrelevant_observations_change_no_card(story, tmp_path):
    fixture = load_fixture(DEFAULT_DIRECTORY / f"{story}.json")
    app = create_app(Settings(auth="off", database_url=f"sqlite:///{tmp_path}/cds.db", clock=lambda: fixture.now))
    entry = next(s.discovery_json() for s in all_services() if s.id == "iliac-vein-patient-view")
    request = build_request(fixture, entry, prefetch=True)
    large = copy.deepcopy(request)
    observations = large["prefetch"].get("observations") or {"resourceType": "Bundle", "type": "searchset"}
    observations.setdefault("entry", []).extend(noise(fixture.patient_id, 5000))
    large["prefetch"]["observations"] = observations

    client = app.test_client()
    answers = [client.post("/cds-services/iliac-vein-patient-view", json=body) for body in (request, large)]
    assert [a.status_code for a in answers] == [200, 200]
    small_cards, large_cards = ([(c["source"]["topic"]["code"], c["indicator"], c["summary"]) for c in a.get_json()["cards"]]
                                for a in answers)
    assert large_cards == small_cards
    assert {rule: indicator for rule, indicator, _ in large_cards} == fixture.expected
