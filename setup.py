"""Which packages go into the wheel: pyproject.toml cannot map one folder outside the package into it.

The fixture patients stay in `fhir_fixtures/` at the top of the repository and ship
inside the package as `cds_service/fixture_data/` (package data), so that a wheel,
`pip install .` and the Docker image find them (`cds_service.fixtures.fixture_directory`).
"""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["cds_service", "cds_service.*"]) + ["cds_service.fixture_data"],
    package_dir={"cds_service.fixture_data": "fhir_fixtures"},
)
