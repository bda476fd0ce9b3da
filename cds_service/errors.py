"""The few typed errors deep code raises; `app` turns each into its HTTP status once."""
from __future__ import annotations


class ServiceError(Exception):
    status = 500
    code = "exception"  # FHIR OperationOutcome issue type

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(ServiceError):
    status = 400
    code = "invalid"


class AuthenticationRequired(ServiceError):
    status = 401
    code = "login"


class NotFound(ServiceError):
    status = 404
    code = "not-found"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "not-supported"


class StorageUnavailable(ServiceError):
    status = 503
    code = "transient"


class DataUnavailable(ServiceError):
    """Data a hook needs could not be had (CDS Hooks: 412 Precondition Failed)."""

    status = 412
    code = "processing"


def operation_outcome(message: str, code: str = "processing", severity: str = "error") -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message}],
    }
