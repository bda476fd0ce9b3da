from cds_service.fhir import fhir_json
from cds_service.fhir.fhir_json import ValidationCache, Validator

CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
             "code": {"text": "Left leg swelling"}}


def counting_validation(monkeypatch):
    calls = []
    real = Validator._validate

    def counted(self, resource, resource_type):
        calls.append(resource.get("id"))
        return real(self, resource, resource_type)

    monkeypatch.setattr(Validator, "_validate", counted)
    monkeypatch.setattr(fhir_json, "VALIDATION_CACHE", ValidationCache(limit=3))
    return calls


def test_the_same_content_is_validated_once(monkeypatch):
    calls = counting_validation(monkeypatch)
    assert Validator().is_valid(dict(CONDITION)) and Validator().is_valid(dict(CONDITION))
    assert calls == ["c1"]


def test_different_content_is_validated_again(monkeypatch):
    calls = counting_validation(monkeypatch)
    Validator().is_valid(CONDITION)
    Validator().is_valid(dict(CONDITION, code={"text": "Right leg swelling"}))
    assert calls == ["c1", "c1"]


def test_a_cached_invalid_resource_still_marks_its_type(monkeypatch):
    counting_validation(monkeypatch)
    broken = dict(CONDITION, subject="Patient/p")
    first, second = Validator(), Validator()
    assert not first.is_valid(broken) and not second.is_valid(broken)
    assert second.failed_types == {"Condition"}


def test_the_cache_is_bounded(monkeypatch):
    calls = counting_validation(monkeypatch)
    for n in range(5):
        Validator().is_valid(dict(CONDITION, id=f"c{n}"))
    Validator().is_valid(dict(CONDITION, id="c0"))  # evicted: validated again
    assert calls == ["c0", "c1", "c2", "c3", "c4", "c0"]
    assert len(fhir_json.VALIDATION_CACHE._outcomes) == 3


SANDBOX_STYLE_REQUEST = {
    "resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
    "subject": {"reference": "Patient/p"}, "medicationCodeableConcept": {"text": "enoxaparin 80 mg"},
    "category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                             "code": "community"}]},
}


def test_an_object_where_r4_wants_an_array_is_repaired_not_skipped(monkeypatch):
    counting_validation(monkeypatch)
    for _ in range(2):  # the second time from the cache: the same repair is applied
        resource = {**SANDBOX_STYLE_REQUEST}
        validator = Validator()
        assert validator.is_valid(resource)
        assert isinstance(resource["category"], list) and resource["category"][0]["coding"][0]["code"] == "community"
        assert validator.failed_types == set()


def test_other_errors_are_not_repaired(monkeypatch):
    counting_validation(monkeypatch)
    broken = {**SANDBOX_STYLE_REQUEST, "status": 7}
    assert not Validator().is_valid(broken)
    assert isinstance(broken["category"], dict)
