"""The one place tests share code from: `from tests.helpers.<module> import ...`.

Fixtures live in the conftest.py files; plain builders, constants and fake services live here.
A test module never imports another test module (or a conftest).

- `hooks`: fake services, request bodies and FHIR bundles for the API, FHIR and protocol tests;
- `auth`: trusted issuers, keys, claims and hand-made tokens for the authentication tests;
- `security`: an app with authentication on and the requests an EHR sends, for the security tests;
- `facts`: `ClinicalFacts` builders for the pathway and rule tests (see that module);
- `distribution`: the Docker image's file list (Dockerfile COPY lines less .dockerignore) for the
  distribution tests.
- `governance`: an app with a site file and a settable clock, fixture requests, for the site-governance tests.
- `servers`: a free loopback port, gunicorn's workers once booted (tests that start real servers).
- `faults`: a throwaway PostgreSQL cluster to stop and freeze, FHIR stub servers, `wait_for`, for tests/faults.
"""
