"""/metrics in the Prometheus text format: requests, latency, cards per rule, FHIR fetches, auth failures."""
import responses
from prometheus_client.parser import text_string_to_metric_families

from cds_service.app import create_app
from cds_service.fixtures import DEFAULT_DIRECTORY, build_request, load_fixture
from cds_service.services import all_services
from tests.helpers.hooks import FHIR_BASE


def samples(client) -> dict[tuple, float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_cards_requests_and_latency_are_counted(settings):
    fixture = load_fixture(DEFAULT_DIRECTORY / "order-sign-stent-50mm-devicerequest.json")
    client = create_app(settings.with_(clock=lambda: fixture.now)).test_client()
    entry = next(s.discovery_json() for s in all_services() if s.id == "iliac-vein-order-sign")
    for _ in range(2):
        assert client.post("/cds-services/iliac-vein-order-sign", json=build_request(fixture, entry)).status_code == 200
    found = samples(client)
    assert value(found, "cds_cards_issued_total", rule="STENT-LENGTH", indicator="critical") == 2
    endpoint = "/cds-services/<service_id>"
    assert value(found, "cds_requests_total", endpoint=endpoint, service="iliac-vein-order-sign", status="200") == 2
    assert value(found, "cds_request_duration_seconds_count", endpoint=endpoint, service="iliac-vein-order-sign") == 2


@responses.activate
def test_fhir_fetches_are_counted_by_outcome(settings):
    responses.add(responses.GET, f"{FHIR_BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    responses.add(responses.GET, f"{FHIR_BASE}/Condition", status=503)
    client = create_app(settings).test_client()
    body = {"hook": "order-sign", "hookInstance": "h", "fhirServer": FHIR_BASE,
            "fhirAuthorization": {"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "s",
                                  "subject": "c"},
            "context": {"userId": "Practitioner/x", "patientId": "p1",
                        "draftOrders": {"resourceType": "Bundle", "entry": []}},
            "prefetch": {"observations": None, "imagingStudies": None, "diagnosticReports": None,
                         "procedures": None, "medicationRequests": None, "medicationStatements": None}}
    assert client.post("/cds-services/iliac-vein-order-sign", json=body).status_code == 200
    found = samples(client)
    assert value(found, "cds_fhir_fetches_total", resource_type="Patient", outcome="ok") == 1
    assert value(found, "cds_fhir_fetches_total", resource_type="Condition", outcome="http-503") == 1


def test_authentication_failures_are_counted_by_reason(settings):
    client = create_app(settings.with_(auth="required", trust_cds_hooks_sandbox=True)).test_client()
    client.get("/cds-services")
    client.get("/cds-services", headers={"Authorization": "Bearer not.a.jwt"})
    found = samples(client)
    assert value(found, "cds_auth_failures_total", reason="missing-token") == 1
    assert sum(v for (name, _), v in found.items() if name == "cds_auth_failures_total") == 2
