"""Which packages go into the wheel: pyproject.toml cannot map one folder outside the package into it.

The fixture patients stay in `fhir_fixtures/` at the top of the repository and ship
inside the package as `cds_service/fixture_data/` (package data), so that a wheel,
`pip install .` and the Docker image find them (`cds_service.fixtures.fixture_directory`).
"""
from setuptools import find_namespace_packages, setup

# Namespace packages too: data-only folders (cds_service/fhir/valuesets, cds_service/web/templates) are packages.
PACKAGES = find_namespace_packages(include=["cds_service", "cds_service.*"], exclude=["*.__pycache__"])

setup(
    packages=PACKAGES + ["cds_service.fixture_data"],
    package_dir={"cds_service.fixture_data": "fhir_fixtures"},
)
