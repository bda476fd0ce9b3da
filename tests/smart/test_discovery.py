"""Endpoint discovery: .well-known first, then the CapabilityStatement; v1 servers get v1 scopes."""
import pytest
import requests
import responses

from cds_service.fhir.client import CallBudget, FhirClient
from cds_service.smart.discovery import discover
from cds_service.smart.errors import LaunchError

ISS = "https://ehr.example.test/fhir"
ALLOW = (ISS,)


def client() -> FhirClient:
    return FhirClient(requests.Session(), ISS, None, 1, 1, 100_000, 1, CallBudget.after(5))


@responses.activate
def test_well_known_first():
    responses.add(responses.GET, f"{ISS}/.well-known/smart-configuration", json={
        "authorization_endpoint": "https://a.test/auth", "token_endpoint": "https://a.test/token",
        "capabilities": ["permission-v2"]})
    endpoints = discover(client(), ALLOW)
    assert (endpoints.authorize_url, endpoints.token_url, endpoints.smart_v2) == (
        "https://a.test/auth", "https://a.test/token", True)
    assert endpoints.scope(ehr_launch=True) == "launch openid fhirUser patient/*.rs"
    assert len(responses.calls) == 1


@responses.activate
def test_capability_statement_when_there_is_no_well_known():
    responses.add(responses.GET, f"{ISS}/.well-known/smart-configuration", status=404)
    responses.add(responses.GET, f"{ISS}/metadata", json={"resourceType": "CapabilityStatement", "rest": [{"security": {
        "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                       "extension": [{"url": "authorize", "valueUri": "https://a.test/auth"},
                                     {"url": "token", "valueUri": "https://a.test/token"}]}]}}]})
    endpoints = discover(client(), ALLOW)
    assert endpoints.token_url == "https://a.test/token" and not endpoints.smart_v2
    assert endpoints.scope(ehr_launch=False) == "launch/patient openid fhirUser patient/*.read"


@responses.activate
@pytest.mark.parametrize("token_url", ["http://a.test/token", "javascript:alert(1)", "https://user@a.test/token", None])
def test_unusable_endpoints_are_refused(token_url):
    responses.add(responses.GET, f"{ISS}/.well-known/smart-configuration",
                  json={"authorization_endpoint": "https://a.test/auth", "token_endpoint": token_url})
    responses.add(responses.GET, f"{ISS}/metadata", status=500)
    with pytest.raises(LaunchError) as failure:
        discover(client(), ALLOW)
    assert failure.value.status == 502


@responses.activate
def test_a_server_without_pkce_s256_is_refused():
    responses.add(responses.GET, f"{ISS}/.well-known/smart-configuration", json={
        "authorization_endpoint": "https://a.test/auth", "token_endpoint": "https://a.test/token",
        "code_challenge_methods_supported": ["plain"]})
    responses.add(responses.GET, f"{ISS}/metadata", status=404)
    with pytest.raises(LaunchError):
        discover(client(), ALLOW)
