"""Errors a caller sees, each carrying CloudStack's wire codes.

``errorcode`` is CloudStack's HTTP-like code (431 bad parameter, 530 internal or limit,
531 permission denied) and ``cserrorcode`` its ``CSExceptionErrorCode``. The API and the
CLI print ``{"errorcode": ..., "errortext": ...}`` from these and nothing else; a rejected
request raises one of them *before* anything is written (cloudstack.md §2.1, §5.6).
"""

from __future__ import annotations


class CloudError(Exception):
    """Base of every error that reaches a user."""

    errorcode = 530
    cserrorcode = 4250

    def __init__(self, errortext: str) -> None:
        super().__init__(errortext)
        self.errortext = errortext

    @classmethod
    def coded(cls, errorcode: int, errortext: str) -> CloudError:
        """An error carrying a code that arrived as data (a failed job's result)."""
        err = cls(errortext)
        err.errorcode = errorcode
        return err

    def as_dict(self) -> dict[str, object]:
        return {"errorcode": self.errorcode, "cserrorcode": self.cserrorcode, "errortext": self.errortext}


class InvalidParameterValue(CloudError):
    """431: a missing or malformed parameter, an unknown id, or a state that forbids the action."""

    errorcode = 431
    cserrorcode = 4350


class PermissionDenied(CloudError):
    """531: the caller may not see or touch the resource."""

    errorcode = 531
    cserrorcode = 4365


class CloudRuntimeError(CloudError):
    """530: a limit was reached, or the host failed the operation."""

    errorcode = 530
    cserrorcode = 4250


class ConcurrentOperation(InvalidParameterValue):
    """431: another request (in this manager or another one sharing the database) advanced
    the same row first (compare-and-swap lost). A race is the caller's to retry, never an
    internal error."""


class ResourceAllocationError(CloudError):
    """535: an account or domain resource limit would be exceeded (CloudStack's
    ``ResourceAllocationException``, ``ApiErrorCode.RESOURCE_ALLOCATION_ERROR``)."""

    errorcode = 535
    cserrorcode = 4370
