"""The shipped value sets hold every code list of DATA-CONTRACT.md, in the loader's format."""
from __future__ import annotations

import json
from importlib import resources

import pytest
from fhir.resources.R4B.codesystem import CodeSystem

from cds_service.fhir.medications import IngredientCatalogue, shipped_ingredients
from cds_service.fhir.valuesets import CPT, DICOM, ICD10CM, LOCAL, LOINC, RXNORM, SNOMED, load_value_sets
from cds_service.pathway.facts import DrugClass, MassNature

SYSTEMS = {"sct": SNOMED, "icd": ICD10CM, "loinc": LOINC, "cpt": CPT, "rx": RXNORM, "local": LOCAL, "dcm": DICOM}
VALUESET_DIR = resources.files("cds_service.fhir") / "valuesets"

# Straight from DATA-CONTRACT.md: value set id -> codes that must be in it ("system:code"; prefix rows
# are checked with a real code under the prefix).
CONTRACT = {
    "leg-swelling": "sct:102572006 sct:449707004 icd:R22.40 icd:R22.41 icd:R22.42 icd:R22.43 local:leg-swelling",
    "leg-swelling-needs-lower-limb-site": "sct:80068009 icd:R60.0 icd:R60.9",
    "swelling-severity-significant": "sct:24484000 sct:6736007",
    "swelling-severity-minimal": "sct:255604002",
    "swelling-grade-severe": "sct:24484000",
    "swelling-grade-moderate": "sct:6736007",
    "swelling-grade-mild": "sct:255604002",
    "venous-skin-changes": "icd:I87.311 icd:I87.333 icd:L97.912",
    "acute-dvt": ("sct:404223003 sct:444325005 sct:132281000119108 sct:234044007 sct:132301000119107 "
                  "sct:132291000119106 sct:132251000119101 sct:128055005 sct:95448006 sct:427775006 "
                  "sct:427776007 sct:42861008 icd:I82.412 icd:I80.12 icd:I80.202 icd:I82.220 local:dvt"),
    "acute-dvt-needs-leg-site": "sct:128053003",
    "distal-dvt": "sct:7387004 icd:I82.442 icd:I82.452 icd:I82.462 icd:I82.4Z2",
    "acute-pe": "sct:59282003 sct:706870000 sct:233935004 icd:I26.99 icd:I26.92",
    "acute-pe-septic": "icd:I26.01 icd:I26.90",
    "chronic-dvt": "sct:15760351000119105 sct:20427003 icd:I82.522 icd:I87.002 icd:I82.221",
    "vte-history": "sct:161508001 sct:161512007 icd:Z86.711 icd:Z86.718 icd:Z86.72",
    "iliac-vein-compression": "local:may-thurner",
    "iliac-vein-compression-needs-context": "icd:I87.1",
    "iliac-mass": "sct:74285003 sct:69559004 sct:127154008 icd:R19.00 icd:R19.03 icd:R19.04 icd:R19.09 local:iliac-mass",
    "mass-nature-malignancy": (
        "sct:422853008 sct:94350006 sct:94519005 sct:94339008 sct:94628003 sct:363420003 sct:307219002 "
        "icd:C77.2 icd:C77.4 icd:C77.5 icd:C77.8 icd:C81.93 icd:C81.95 icd:C81.96 icd:C81.98 icd:C83.33 icd:C83.35 "
        "icd:C83.36 icd:C83.38 icd:C85.93 icd:C85.95 icd:C85.96 icd:C85.98 icd:C78.6 icd:C76.3 icd:C48.0 icd:C49.5 "
        "icd:C53.9 icd:C54.1 icd:C55 icd:C56.1 icd:C61 icd:C67.9 icd:C20 local:malignancy"),
    "mass-nature-lymphadenopathy": "sct:127154008 local:lymphadenopathy",
    "mass-nature-lymphadenopathy-needs-node-site": "icd:R59.0 icd:R59.9",
    "mass-nature-abscess": "sct:266463007 icd:K68.11 icd:K68.12 icd:K68.19 local:abscess",
    "mass-nature-hematoma": "icd:K68.3 local:hematoma",
    "mass-nature-iliopsoas-bursitis": "local:iliopsoas-bursitis",
    "mass-nature-disc-bulge-compression": "local:disc-bulge-compression",
    "mass-nature-benign-compressive-lesion": "icd:D25.9 icd:D20.0 icd:D21.5 icd:I72.3 local:benign-compressive-lesion",
    "mass-nature-non-compressive": "local:non-compressive",
    "mass-nature-abscess-generic": "sct:128477000",
    "mass-nature-hematoma-generic": "sct:385494008",
    "mass-nature-iliopsoas-bursitis-generic": "sct:81498004 icd:M70.72",
    "mass-nature-disc-bulge-compression-generic": "icd:M51.26 icd:M51.27 icd:M51.369 icd:M51.379 sct:26538006",
    "mass-nature-malignancy-generic": "icd:C85.90 icd:C85.99 icd:C77.9 icd:C79.9",
    "phlegmasia": "sct:66877004 local:phlegmasia-cerulea-dolens",
    "heparin-induced-thrombocytopenia": "sct:73397007 sct:111588002 icd:D75.821 icd:D75.822 icd:D75.829",
    "heart-failure": "sct:84114007 sct:42343007 icd:I50.9",
    "renal-disease": "sct:52254009 sct:431857002 sct:433146000 sct:46177005 icd:N18.4 icd:N18.5 icd:N18.6 icd:N04.9",
    "liver-disease": "sct:19943007 icd:K70.30 icd:K74.60 icd:K72.90",
    "hypoalbuminemia": "sct:119247004 sct:8900005 icd:E88.09 icd:E77.8",
    "lymphedema-primary": "icd:Q82.0 local:primary-lymphedema",
    "lymphedema": "sct:234097001 icd:I89.0",
    "genital-edema": "sct:88995000 local:scrotal-edema local:penile-edema",
    "phlegmasia": "local:phlegmasia-cerulea-dolens",
    "phlegmasia-needs-dvt": "sct:233962007 sct:1230182004",
    "shock": "sct:27942005 icd:R57.0 icd:R57.8 icd:R57.9 local:severe-hypotension",
    "hemorrhagic-shock": "sct:39419009 icd:R57.1",
    "bleeding": ("sct:74474003 sct:1386000 icd:R58 icd:K92.0 icd:K92.1 icd:K92.2 icd:I60.9 icd:I61.9 icd:I62.9 "
                 "local:anticoagulation-contraindicated"),
    "heparin-induced-thrombocytopenia": "icd:D75.821 icd:D75.822 icd:D75.829 local:heparin-contraindicated",
    "pregnancy": "sct:77386006 icd:Z33.1 icd:O09.90",
    "other-antithrombotic-indication": ("icd:I48.91 icd:I21.9 icd:I24.9 icd:I25.10 icd:Z95.5 icd:I63.9 icd:G45.9 "
                                        "icd:Z86.73 icd:I70.212"),
    "other-thrombolysis-indication": "icd:I63.9 icd:I21.9 icd:I74.3",
    "long-term-anticoagulant": "icd:Z79.01",
    "iliac-stent-status": "icd:Z95.820 icd:Z95.828",
    "body-weight": "loinc:29463-7 loinc:3141-9",
    "egfr": "loinc:98979-8 loinc:62238-1 loinc:33914-3 loinc:77147-7 loinc:48642-3 loinc:48643-1 loinc:50044-7",
    "albumin": "loinc:1751-7 loinc:61151-7 loinc:61152-5",
    "total-protein": "loinc:2885-2",
    "platelets": "loinc:777-3 loinc:26515-7",
    "systolic-bp": "loinc:8480-6",
    "bp-panel": "loinc:85354-9",
    "venous-duplex-observation": "local:venous-duplex-result",
    "venous-duplex-study": ("loinc:39420-5 loinc:39432-0 loinc:39443-7 loinc:30881-7 loinc:46364-6 loinc:48692-8 "
                            "loinc:48691-0 loinc:69385-3 loinc:69392-9 loinc:69399-4 loinc:80860-0 cpt:93970 cpt:93971"),
    "duplex-study-whole-leg": ("loinc:39420-5 loinc:39432-0 loinc:39443-7 loinc:30881-7 loinc:46364-6 loinc:48692-8 "
                               "loinc:48691-0 loinc:69385-3 loinc:69392-9 cpt:93970"),
    "duplex-study-limited": "loinc:69399-4 loinc:80860-0",
    "duplex-extent-whole-leg": "local:whole-leg",
    "duplex-extent-limited": "local:femoropopliteal",
    "thrombus-present": "local:thrombus-present sct:128053003 sct:404223003",
    "thrombus-absent": "local:thrombus-absent",
    "thrombus-chronic": "local:thrombus-chronic",
    "pelvic-venography-observation": "local:pelvic-venography-result",
    "method-ct-venography": "local:ct-venography",
    "method-mr-venography": "local:mr-venography",
    "cfv-waveform": "local:cfv-doppler-waveform",
    "waveform-phasic": "local:phasic",
    "waveform-non-phasic": "local:non-phasic",
    "waveform-absent": "local:absent",
    "waveform-pulsatile": "local:pulsatile",
    "swelling-persistent": "local:whole-leg-swelling-persistent",
    "ct-compression": "local:ct-compression-percent",
    "diameter-stenosis": "sct:408715008",
    "ivus-stenosis": "local:ivus-diameter-stenosis",
    "method-ivus": "sct:241466007",
    "eiv-reference-diameter": "local:eiv-reference-diameter",
    "vessel-lumen-diameter": "sct:397413000",
    "external-iliac-vein-body-site": "sct:63507001",
    "lesion-behavior": "local:lesion-behavior",
    "lesion-fixed": "local:fixed",
    "lesion-dynamic": "local:dynamic",
    "mass-nature-observation": "local:mass-nature",
    "imaging-leg-duplex": "cpt:93970 cpt:93971 loinc:39432-0 loinc:69399-4",
    "imaging-iliocaval-duplex": "cpt:93978 cpt:93979 loinc:39497-3",
    "imaging-ct-venography-pelvis": "cpt:74174 cpt:72191 sct:431676002 sct:709767008",
    "imaging-mr-venography-pelvis": "cpt:72198 cpt:74185 loinc:36789-6",
    "imaging-leg-ct-mr-venography": "cpt:73706 cpt:73725 sct:772247005 loinc:36416-6",
    "imaging-contrast-ct-mri-abdomen-pelvis": ("cpt:74177 cpt:74178 cpt:72193 cpt:72194 cpt:72196 cpt:72197 "
                                               "cpt:74182 cpt:74183 sct:433138001"),
    "imaging-mass-study-in-pregnancy": "cpt:72195",  # R2: counts as the mass study only in pregnancy
    "imaging-ivus": "cpt:37252 cpt:37253 sct:241466007 dcm:IVUS",
    "iliac-stent-procedure": "cpt:37238 cpt:37239 sct:103716009",
    "iliac-vein-body-site": "sct:46027005 sct:63507001 sct:244411005",
    "lower-limb-body-site": "sct:32153003 sct:62175007 sct:61685007",
    "side-left": "icd:R22.42 icd:I82.412 icd:I82.4Y2 sct:32153003 sct:7771000 loinc:39432-0 loinc:48692-8 loinc:69392-9",
    "side-right": "icd:R22.41 icd:I82.401 sct:62175007 sct:24028007 loinc:39443-7 loinc:48691-0",
    "side-both": "icd:R22.43 icd:I82.4Z3 sct:51440002 loinc:39420-5 loinc:46364-6 loinc:69385-3",
    "medication-lmwh": "rx:67108 rx:67109 rx:69646",
    "medication-anticoagulant": "rx:5224 rx:321208 rx:1364430 rx:1114195 rx:11289 rx:1037042 rx:1599538",
    "medication-antiplatelet": "rx:1191 rx:32968 rx:1116632",
    "medication-thrombolytic": "rx:8410 rx:259280 rx:76895 rx:11055 rx:10106",
    "medication-edema-causing": "rx:17767 rx:7417 rx:4316",
}
# Codes that must stay out: the contract's exclusions and look-alikes.
NOT_IN = {
    "leg-swelling": "sct:80068009 icd:R60.0",  # only with a lower-limb body site
    "acute-dvt": "sct:128053003 sct:7387004",  # needs a leg site; calf DVT is its own row
    "side-left": "icd:I82.401 icd:I82.409 icd:R22.40",
    "side-right": "icd:I82.402 icd:I82.409",
    "mass-nature-malignancy": "icd:C85.90 icd:C77.9 icd:C79.9",  # generic by site
    "iliac-vein-compression": "sct:234044007",  # iliofemoral DVT, never May-Thurner
    "thrombus-present": "local:thrombus-absent",
    "renal-disease": "sct:433144002",  # R2: CKD stage 3, not advanced renal disease
    "imaging-contrast-ct-mri-abdomen-pelvis": "cpt:72195",  # without contrast: the mass study only in pregnancy
}


def _pairs(spec: str) -> list[tuple[str, str]]:
    return [(SYSTEMS[item.split(":", 1)[0]], item.split(":", 1)[1]) for item in spec.split()]


@pytest.fixture(scope="module")
def shipped():
    return load_value_sets()


@pytest.mark.parametrize("value_set_id", sorted(CONTRACT))
def test_every_contract_code_is_shipped(shipped, value_set_id):
    missing = [code for system, code in _pairs(CONTRACT[value_set_id]) if not shipped.contains(value_set_id, system, code)]
    assert missing == []


@pytest.mark.parametrize("value_set_id", sorted(NOT_IN))
def test_excluded_codes_are_not_shipped(shipped, value_set_id):
    present = [code for system, code in _pairs(NOT_IN[value_set_id]) if shipped.contains(value_set_id, system, code)]
    assert present == []


def test_prefix_codes_match_by_prefix_only(shipped):
    assert shipped.contains("acute-dvt", ICD10CM, "I82.4Y9")
    assert not shipped.contains("acute-dvt", ICD10CM, "I82.5Y9")  # chronic
    assert not shipped.contains("acute-dvt", SNOMED, "I82.412")  # system matters


def _value_set_files() -> list:
    return [f for f in VALUESET_DIR.iterdir() if f.name.endswith(".json") and not f.name.startswith("codesystem")]


def test_every_file_has_the_loader_format_and_every_set_an_id_and_a_source():
    seen: dict[str, str] = {}
    for file in _value_set_files():
        document = json.loads(file.read_text(encoding="utf-8"))
        for entry in document.get("valueSets", []):
            assert entry["id"] not in seen, f"{entry['id']} in {file.name} and {seen.get(entry['id'])}"
            seen[entry["id"]] = file.name
            assert entry["source"].strip()
            for code in entry["codes"]:
                assert code["system"] in SYSTEMS.values()
                assert isinstance(code["code"], str) and code["code"].strip() == code["code"] != ""
    assert len(seen) > 100


def test_mass_nature_value_sets_are_named_for_mass_nature_values(shipped):
    for nature in MassNature:
        assert f"mass-nature-{nature.value}" in shipped


def test_ingredients_agree_with_the_medication_value_sets(shipped):
    catalogue = shipped_ingredients()
    for ingredient in catalogue.ingredients:
        assert ingredient.name == ingredient.name.lower()
        if ingredient.rxnorm:
            assert shipped.contains(f"medication-{ingredient.drug_class.value}", RXNORM, ingredient.rxnorm)
    for drug_class in DrugClass:
        assert f"medication-{drug_class.value}" in shipped
        assert any(i.drug_class is drug_class for i in catalogue.ingredients)


def test_ingredient_names_of_the_contract():
    names = {(i.drug_class, i.name) for i in shipped_ingredients().ingredients}
    expected = {
        DrugClass.LMWH: "enoxaparin dalteparin tinzaparin",
        DrugClass.ANTICOAGULANT: "heparin fondaparinux apixaban rivaroxaban warfarin dabigatran edoxaban argatroban bivalirudin",
        DrugClass.ANTIPLATELET: "aspirin clopidogrel prasugrel ticagrelor",
        DrugClass.THROMBOLYTIC: "alteplase tenecteplase reteplase urokinase streptokinase",
        DrugClass.VASOPRESSOR: "norepinephrine epinephrine vasopressin phenylephrine dopamine",
        DrugClass.EDEMA_CAUSING: "amlodipine nifedipine felodipine",
    }
    for drug_class, spec in expected.items():
        for name in spec.split():
            assert (drug_class, name) in names


def test_catalogue_reads_the_plain_class_table_too():
    catalogue = IngredientCatalogue.from_document({"edema-causing": {"diltiazem": "3443", "verapamil": None}})
    assert catalogue.by_code["3443"].name == "diltiazem"
    assert [i.name for i in catalogue.named_in(["Verapamil 80 mg"])] == ["verapamil"]


# ---------------------------------------------------------------- the local CodeSystem

@pytest.fixture(scope="module")
def code_system() -> dict:
    return json.loads((VALUESET_DIR / "codesystem-findings.json").read_text(encoding="utf-8"))


def test_codesystem_is_a_valid_r4_codesystem(code_system):
    model = CodeSystem.model_validate(code_system)
    assert model.url == LOCAL
    assert model.status == "active"
    assert model.content == "complete"
    assert model.count == len(model.concept)
    for concept in model.concept:
        assert concept.display and concept.definition


def test_codesystem_has_every_local_code_of_every_value_set_file(code_system):
    defined = {c["code"] for c in code_system["concept"]}
    used = set()
    for file in _value_set_files():  # orders.json too: one code system for the service
        for entry in json.loads(file.read_text(encoding="utf-8")).get("valueSets", []):
            used |= {c["code"] for c in entry["codes"] if c["system"] == LOCAL}
    assert used - defined == set()


def test_codesystem_has_every_local_code_the_contract_names(code_system):
    contract_codes = (
        "leg-swelling dvt may-thurner iliac-mass iliopsoas-bursitis disc-bulge-compression benign-compressive-lesion "
        "primary-lymphedema scrotal-edema penile-edema phlegmasia-cerulea-dolens severe-hypotension "
        "anticoagulation-contraindicated heparin-contraindicated venous-duplex-result thrombus-present thrombus-absent "
        "thrombus-chronic whole-leg femoropopliteal pelvic-venography-result ct-venography mr-venography "
        "cfv-doppler-waveform phasic non-phasic absent pulsatile whole-leg-swelling-persistent ct-compression-percent "
        "ivus-diameter-stenosis eiv-reference-diameter lesion-behavior fixed dynamic mass-nature malignancy "
        "lymphadenopathy abscess hematoma non-compressive venous-stent stent-length stent-diameter"
    ).split()
    defined = {c["code"] for c in code_system["concept"]}
    assert set(contract_codes) - defined == set()


def test_the_loader_skips_the_codesystem(shipped):
    assert "findings" not in shipped


# ---------------------------------------------------------------- a site's local codes

def test_local_json_file_adds_codes_to_the_shipped_set(tmp_path):
    extra = tmp_path / "site.json"
    extra.write_text(json.dumps({"valueSets": [
        {"id": "leg-swelling", "source": "site", "codes": [{"system": "urn:site:codes", "code": "LEGSW"}]},
        {"id": "medication-vasopressor", "codes": [{"system": RXNORM, "code": "7512"}]},
    ]}))
    sets = load_value_sets(extra)
    assert sets.contains("leg-swelling", "urn:site:codes", "LEGSW")
    assert sets.contains("leg-swelling", SNOMED, "102572006")  # the shipped codes stay
    assert sets.contains("medication-vasopressor", RXNORM, "7512")
    assert not load_value_sets().contains("leg-swelling", "urn:site:codes", "LEGSW")


def test_local_yaml_file_adds_codes(tmp_path):
    extra = tmp_path / "site.yaml"
    extra.write_text("valueSets:\n  - id: bleeding\n    codes:\n      - {system: 'urn:site', code: 'BLEED-1'}\n")
    assert load_value_sets(extra).contains("bleeding", "urn:site", "BLEED-1")
