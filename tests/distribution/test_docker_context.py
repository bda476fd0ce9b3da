"""The Docker image gets what `pip install .` and dev mode need (checked on the Dockerfile's file list)."""
from __future__ import annotations

import re
import shutil

from tests.helpers.distribution import REPO, dockerfile_instructions, ignore_rules, image_files, is_ignored

FIXTURES = sorted(p.name for p in (REPO / "fhir_fixtures").glob("*.json"))


def test_the_ignore_rules_follow_docker():
    rules = ignore_rules(REPO / ".dockerignore")
    assert is_ignored("tests/api/test_endpoints.py", rules)
    assert is_ignored("cds_service/store/__pycache__/models.cpython-311.pyc", rules)
    assert is_ignored("cds-service.db", rules)
    assert not is_ignored("cds_service/store/models.py", rules)
    assert not is_ignored("fhir_fixtures/left-leg-swelling-no-imaging.json", rules)


def test_the_image_holds_every_fixture_patient():
    files = image_files()
    assert len(FIXTURES) > 200
    missing = [name for name in FIXTURES if f"fhir_fixtures/{name}" not in files]
    assert not missing, f"not copied into the image: {missing[:5]}"


def test_the_check_notices_fixtures_left_out(tmp_path):
    """With the .dockerignore of before (fhir_fixtures excluded), the image would have no fixture."""
    for name in ("Dockerfile", "pyproject.toml", "setup.py", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "fhir_fixtures", tmp_path / "fhir_fixtures")
    (tmp_path / "cds_service").mkdir()
    (tmp_path / ".dockerignore").write_text("tests\nfhir_fixtures\n")
    assert not any(path.startswith("fhir_fixtures/") for path in image_files(tmp_path))


def test_the_image_holds_what_pip_install_reads():
    files = image_files()
    run = " ".join(arguments for keyword, arguments in dockerfile_instructions(REPO / "Dockerfile") if keyword == "RUN")
    assert "pip install" in run
    for needed in ("pyproject.toml", "setup.py", "README.md"):
        assert needed in files, needed
    for constraints in re.findall(r"-c\s+(\S+)", run):
        assert constraints in files, f"RUN installs with {constraints}, which is not copied"


def test_the_image_holds_the_whole_package():
    files = image_files()
    package = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "cds_service").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    assert package
    assert [p for p in package if p not in files] == []


def test_the_service_user_has_a_writable_home_outside_the_code():
    """gunicorn creates ~/.gunicorn for its control socket: a root-owned home fails every start."""
    instructions = dockerfile_instructions(REPO / "Dockerfile")
    workdir = next(arguments for keyword, arguments in instructions if keyword == "WORKDIR")
    env = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    run = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    home = re.search(r"\bHOME=(\S+)", env)
    assert home, "the image sets HOME"
    assert home.group(1) != workdir
    assert re.search(rf"useradd\b.*--create-home\b.*--home-dir {re.escape(home.group(1))}\b", run)


def test_the_docker_example_sets_the_worker_count():
    deployment = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    example = deployment[deployment.index("docker run -p"):]
    example = example[: example.index("```")]
    assert re.search(r"-e CDS_WORKERS=\d+", example)
    assert "--workers" not in next(a for k, a in dockerfile_instructions(REPO / "Dockerfile") if k == "CMD")
