"""Loading the trusted-clients file: every mistake stops the service at start-up, with a clear message."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from cds_service.auth import Authenticator, TrustedClientsError
from cds_service.auth.testkit import jwks_of, new_rs384_key, write_trusted_clients
from cds_service.auth.trusted_clients import (
    SANDBOX_ISS,
    SANDBOX_JKU,
    configured_clients,
    load_trusted_clients,
    sandbox_client,
)
from cds_service.config import Settings
from tests.helpers.auth import ISS_A, ISS_B, SANDBOX_KID, SERVICE_URL, bearer, claims
from tests.helpers.hooks import SHARED


def write(tmp_path: Path, clients) -> Path:
    return write_trusted_clients(tmp_path / "clients.json", clients)


def load_error(path: Path) -> str:
    with pytest.raises(TrustedClientsError) as raised:
        load_trusted_clients(path)
    return str(raised.value)


def test_inline_file_and_jku_clients_load(clients_file, keys):
    clients = load_trusted_clients(clients_file)
    assert set(clients) == {ISS_A, ISS_B, "https://ehr-c.example.org"}
    assert set(clients[ISS_A].keys) == {keys.a.kid}
    assert clients[ISS_A].keys[keys.a.kid].algorithms == {"ES384"}
    assert set(clients[ISS_B].keys) == {keys.b.kid}  # read from jwks_file, relative to the clients file
    assert clients["https://ehr-c.example.org"].jkus == ("https://ehr-c.example.org/.well-known/jwks.json",)
    assert clients["https://ehr-c.example.org"].tenants == {"org-c"}


def test_yaml_file_loads(tmp_path, keys):
    import yaml

    path = tmp_path / "clients.yaml"
    path.write_text(yaml.safe_dump({"clients": [{"iss": ISS_A, "jwks": jwks_of([keys.a]), "tenants": ["t1"]}]}))
    assert load_trusted_clients(path)[ISS_A].tenants == {"t1"}


def test_several_keys_and_jkus_per_client_for_rotation(tmp_path, keys):
    path = write(
        tmp_path,
        [{"iss": ISS_A, "jwks": jwks_of([keys.a, keys.attacker]), "jku": ["https://a.example.org/1", "https://a.example.org/2"]}],
    )
    client = load_trusted_clients(path)[ISS_A]
    assert set(client.keys) == {keys.a.kid, keys.attacker.kid}
    assert client.jkus == ("https://a.example.org/1", "https://a.example.org/2")


def test_missing_file_is_a_start_up_error(tmp_path, engine):
    settings = Settings(trusted_clients_file=str(tmp_path / "nope.json"))
    with pytest.raises(TrustedClientsError, match="cannot read trusted clients file"):
        Authenticator(settings, engine)


@pytest.mark.parametrize("text", ["{not json", "", "[]", '{"clients": {}}', '{"client": []}'])
def test_malformed_file_is_a_start_up_error(tmp_path, text):
    path = tmp_path / "clients.json"
    path.write_text(text)
    assert str(path) in load_error(path)


def test_malformed_yaml_is_a_start_up_error(tmp_path):
    path = tmp_path / "clients.yaml"
    path.write_text("clients: [ {iss: a\n")
    assert "not valid JSON/YAML" in load_error(path)


def test_misspelt_field_is_an_error_not_ignored(tmp_path, keys):
    path = write(tmp_path, [{"iss": ISS_A, "jwks": jwks_of([keys.a]), "tenant": ["t1"]}])
    assert "unknown field(s) ['tenant']" in load_error(path)


def test_duplicate_issuer_is_an_error(tmp_path, keys):
    path = write(tmp_path, [{"iss": ISS_A, "jwks": jwks_of([keys.a])}, {"iss": ISS_A, "jwks": jwks_of([keys.b])}])
    assert "listed twice" in load_error(path)


@pytest.mark.parametrize("iss", [None, "", " https://a.example.org", 42])
def test_bad_issuer_is_an_error(tmp_path, keys, iss):
    assert "'iss'" in load_error(write(tmp_path, [{"iss": iss, "jwks": jwks_of([keys.a])}]))


def test_client_without_keys_is_an_error(tmp_path):
    assert "give its keys" in load_error(write(tmp_path, [{"iss": ISS_A}]))


def test_private_key_in_the_file_is_an_error_that_does_not_echo_it(tmp_path, keys):
    leaked = {**keys.a.public_jwk(), "d": "PRIVATE-SCALAR-VALUE"}
    message = load_error(write(tmp_path, [{"iss": ISS_A, "jwks": {"keys": [leaked]}}]))
    assert "private or symmetric key material" in message
    assert "PRIVATE-SCALAR-VALUE" not in message


def test_symmetric_key_in_the_file_is_an_error(tmp_path):
    secret = {"kty": "oct", "kid": "k1", "k": "c2VjcmV0"}
    assert "private or symmetric" in load_error(write(tmp_path, [{"iss": ISS_A, "jwks": {"keys": [secret]}}]))


def test_short_rsa_key_is_an_error(tmp_path):
    weak = new_rs384_key("weak", bits=1024)
    assert "shorter than 2048 bits" in load_error(write(tmp_path, [{"iss": ISS_A, "jwks": jwks_of([weak])}]))


def test_rsa_key_of_2048_bits_is_accepted(tmp_path, keys):
    assert keys.b.private_key.key_size == 2048
    assert load_trusted_clients(write(tmp_path, [{"iss": ISS_B, "jwks": jwks_of([keys.b])}]))[ISS_B].keys


def test_encryption_key_is_an_error(tmp_path, keys):
    encryption = {**keys.a.public_jwk(), "use": "enc"}
    assert "not a signing key" in load_error(write(tmp_path, [{"iss": ISS_A, "jwks": {"keys": [encryption]}}]))


def test_key_without_kid_is_an_error(tmp_path, keys):
    anonymous = {k: v for k, v in keys.a.public_jwk().items() if k != "kid"}
    assert "no 'kid'" in load_error(write(tmp_path, [{"iss": ISS_A, "jwks": {"keys": [anonymous]}}]))


def test_duplicate_kid_is_an_error(tmp_path, keys):
    twin = {**keys.attacker.public_jwk(), "kid": keys.a.kid}
    path = write(tmp_path, [{"iss": ISS_A, "jwks": {"keys": [keys.a.public_jwk(), twin]}}])
    assert "appears twice" in load_error(path)


def test_missing_jwks_file_is_an_error(tmp_path):
    assert "cannot read" in load_error(write(tmp_path, [{"iss": ISS_A, "jwks_file": "absent.json"}]))


def test_jwks_and_jwks_file_together_are_an_error(tmp_path, keys):
    path = write(tmp_path, [{"iss": ISS_A, "jwks": jwks_of([keys.a]), "jwks_file": "x.json"}])
    assert "not both" in load_error(path)


@pytest.mark.parametrize("jku", ["http://ehr.example.org/jwks.json", "ehr.example.org/jwks", "https:///jwks", [], 7])
def test_jku_must_be_an_https_url(tmp_path, jku):
    assert "jku" in load_error(write(tmp_path, [{"iss": ISS_A, "jku": jku}]))


@pytest.mark.parametrize("tenants", [[], "org-1", [""], [1]])
def test_tenants_must_be_a_non_empty_list_of_strings(tmp_path, keys, tenants):
    path = write(tmp_path, [{"iss": ISS_A, "jwks": jwks_of([keys.a]), "tenants": tenants}])
    assert "'tenants'" in load_error(path)


def test_trusting_nobody_is_a_start_up_error(engine):
    with pytest.raises(TrustedClientsError, match="no client is trusted"):
        Authenticator(Settings(trusted_clients_file="", trust_cds_hooks_sandbox=False), engine)


def test_sandbox_alone_is_a_valid_configuration(engine):
    authenticator = Authenticator(Settings(trusted_clients_file="", trust_cds_hooks_sandbox=True), engine)
    assert authenticator.trusted_issuers == (SANDBOX_ISS,)


def test_sandbox_configured_twice_is_an_error(tmp_path, keys):
    path = write(tmp_path, [{"iss": SANDBOX_ISS, "jwks": jwks_of([keys.a])}])
    with pytest.raises(TrustedClientsError, match="keep one"):
        configured_clients(str(path), trust_sandbox=True)


def test_shipped_sandbox_key_set_loads_and_holds_the_sandbox_kid():
    shipped = json.loads(resources.files("cds_service.auth").joinpath("cds-hooks-sandbox-jwks.json").read_text())
    assert [key["kid"] for key in shipped["keys"]] == [SANDBOX_KID]
    client = sandbox_client()
    assert client.iss == SANDBOX_ISS
    assert set(client.keys) == {SANDBOX_KID}
    assert client.keys[SANDBOX_KID].algorithms == {"ES384"}
    assert client.accepted_jkus == {SANDBOX_JKU}
    assert client.jkus == ()  # named, never fetched
    assert client.tenants == frozenset()


def test_shipped_sandbox_key_set_is_identical_to_the_published_one():
    shipped = json.loads(resources.files("cds_service.auth").joinpath("cds-hooks-sandbox-jwks.json").read_text())
    reference = SHARED / "reference" / "cds-hooks-sandbox" / "jwks.json"
    if not reference.exists():
        pytest.skip("reference copy of the sandbox JWKS not present")
    assert shipped == json.loads(reference.read_text())


def test_authenticator_uses_the_file_it_was_given(clients_file, engine, keys):
    authenticator = Authenticator(Settings(trusted_clients_file=str(clients_file)), engine)
    assert authenticator.authenticate(bearer(keys.a.sign(claims(ISS_A, now=None))), SERVICE_URL)["iss"] == ISS_A


def test_missing_public_base_url_is_warned_about(clients_file, engine, caplog):
    Authenticator(Settings(trusted_clients_file=str(clients_file), public_base_url=""), engine)
    assert any("CDS_PUBLIC_BASE_URL is not set" in record.getMessage() for record in caplog.records)


def test_configured_public_base_url_gives_no_warning(clients_file, engine, caplog):
    Authenticator(Settings(trusted_clients_file=str(clients_file), public_base_url="https://cds.example.org"), engine)
    assert not any("CDS_PUBLIC_BASE_URL" in record.getMessage() for record in caplog.records)
