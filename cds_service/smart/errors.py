"""What can go wrong in a launch, as a page a person can act on (never a 500, never a stack trace)."""
from __future__ import annotations


class LaunchError(Exception):
    """A failed launch step: `status` for the HTTP answer, `title` and `advice` for the page (PHI-free)."""

    def __init__(self, status: int, title: str, advice: str, reason: str):
        super().__init__(reason)
        self.status = status
        self.title = title
        self.advice = advice
        self.reason = reason  # a slug for the log and the metrics

    @classmethod
    def relaunch(cls, status: int, title: str, reason: str) -> LaunchError:
        return cls(status, title, "Open the app again from the patient's chart in the EHR.", reason)
