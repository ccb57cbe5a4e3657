"""``PowerShellHyperVDriver``: the driver contract on a real Hyper-V host over PowerShell
Remoting. Plans come from :mod:`live_driver.commands`, calls go through
:mod:`live_driver.session`; host errors are translated here, at the boundary, by their
FullyQualifiedErrorId (and HRESULT for full or missing storage), never by localised text.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.drivers import (
    A,
    Capabilities,
    Command,
    HostError,
    HostUnreachable,
    InsufficientSpace,
    InvalidState,
    ObjectNotFound,
    OperationFailed,
    OperationTimeout,
    StorageUnavailable,
)
from live_driver.commands import Known, Layout, plan
from live_driver.session import ErrorInfo, Session, TransportFailure
from live_driver.steps import NAME_TAKEN, NOT_RUNNING
from live_driver.wire import Sleep

log = logging.getLogger(__name__)

_REASONS: dict[str, type[HostError]] = {
    "ObjectNotFound": ObjectNotFound,
    "PathNotFound": ObjectNotFound,
    "InvalidState": InvalidState,
    "OperationTimeout": OperationTimeout,
    "OperationFailed": OperationFailed,
    NAME_TAKEN: InvalidState,  # the plans' own checks (Write-Error -ErrorId)
    NOT_RUNNING: InvalidState,
}
_HRESULTS: dict[str, type[HostError]] = {
    "0x80070070": InsufficientSpace,  # ERROR_DISK_FULL
    "0x80070027": InsufficientSpace,  # ERROR_HANDLE_DISK_FULL
    "0x80070015": StorageUnavailable,  # ERROR_NOT_READY
    "0x800706BA": HostUnreachable,  # RPC server unavailable (VMMS down)
}
_OPERATION_TIMEOUT_CATEGORY = 15
_OBJECT_NOT_FOUND_CATEGORY = 13
_CLUSTER_MODULE = "Microsoft.FailoverClusters.PowerShell"


def classify(error: ErrorInfo) -> HostError:
    """The contract's error for a PowerShell error record."""
    reason = error.fq_error.split(",", 1)[0]
    text = f"{error.message} [{error.fq_error}]"
    for hresult in re.findall(r"0x[0-9A-Fa-f]{8}", error.message):
        if (kind := _HRESULTS.get(hresult.upper().replace("0X", "0x"))) is not None:
            return kind(text)
    if reason in _REASONS:
        return _REASONS[reason](text)
    if _CLUSTER_MODULE in error.fq_error and error.category == _OBJECT_NOT_FOUND_CATEGORY:
        return ObjectNotFound(text)  # FailoverClusters ids name the cmdlet, not a reason
    if error.category == _OPERATION_TIMEOUT_CATEGORY:
        return OperationTimeout(text)
    return OperationFailed(text)


class PowerShellHyperVDriver:
    """A Hyper-V host reached over WinRM.

    Args:
        host, port: the host's address (``host:port`` works too); the port defaults to 5986
            with ``ssl``, else 5985.
        auth: ``negotiate`` (default), ``kerberos``, ``ntlm``, ``credssp`` or ``basic``.
        ssl: HTTPS; ``None`` (the default) follows the port (:func:`live_driver.session.address`:
            5985 is plain HTTP, any other port HTTPS). ``cert_validation`` is on; pass a CA
            bundle path to trust a private CA. Never turn it off on a real host.
        username, password, credentials_file: or ``HVSNAP_HYPERV_USERNAME``/``_PASSWORD``.
        configuration_name: the session configuration (a JEA endpoint's name).
        spn_host: the host's name for Kerberos (its SPN ``host/<spn_host>``) when ``host``
            is an address or an alias.
        storage_root: the folder on the host under which VM folders live.
        merge_poll_seconds, merge_timeout_seconds: how a delete waits for its merge.
        clustered: the host is a failover cluster node and its VMs are clustered roles
            (``capabilities.clustered``): reverts and saves sent ``through_cluster`` use the
            FailoverClusters cmdlets, and the inventory names each role's owner node.
    """

    capabilities = Capabilities()

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        auth: str = "negotiate",
        ssl: bool | None = None,
        cert_validation: bool | str = True,
        username: str | None = None,
        password: str | None = None,
        credentials_file: str | Path | None = None,
        configuration_name: str = "Microsoft.PowerShell",
        storage_root: str = "C:\\ClusterStorage\\Volume1",
        volume_snapshot_root: str | None = None,
        merge_poll_seconds: float = 0.5,
        merge_timeout_seconds: float = 600.0,
        operation_timeout: int = 20,
        read_timeout: int = 30,
        connection_timeout: float = 10,
        retries: int = 2,
        spn_host: str | None = None,
        clustered: bool = False,
    ) -> None:
        self.session = Session(
            host,
            port,
            auth=auth,
            ssl=ssl,
            cert_validation=cert_validation,
            username=username,
            password=password,
            credentials_file=credentials_file,
            configuration_name=configuration_name,
            connection_timeout=connection_timeout,
            operation_timeout=operation_timeout,
            read_timeout=read_timeout,
            retries=retries,
            spn_host=spn_host,
        )
        self.layout = Layout(
            storage_root,
            volume_snapshot_root or f"{storage_root}\\VolumeSnapshots",
            merge_poll_seconds,
            merge_timeout_seconds,
            clustered,
        )
        self.capabilities = replace(type(self).capabilities, clustered=clustered)
        self.known = Known()  # checkpoint Ids seen on this host
        self._closed = False

    def execute(self, command: Command[A]) -> A:
        if self._closed:
            raise RuntimeError("PowerShellHyperVDriver used after close()")
        try:
            steps = plan(command, self.layout, self.known)
        except KeyError:
            raise TypeError(f"PowerShellHyperVDriver cannot execute {type(command).__name__}") from None
        reply: Any = None
        error: HostError | None = None
        while True:
            try:
                step = steps.throw(error) if error is not None else steps.send(reply)
            except StopIteration as done:
                answer: A = done.value
                return answer
            reply, error = None, None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                continue
            try:
                result = self.session.run(step)
            except TransportFailure as failure:
                raise _unreachable(failure) from failure
            if result.failed or result.errors:
                error = classify(result.errors[0]) if result.errors else OperationFailed("the pipeline failed")
                log.info("%s on %s: %s", type(command).__name__, command.vm.name, error.code)
            else:
                reply = result.output

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.session.close()

    def __enter__(self) -> PowerShellHyperVDriver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _unreachable(failure: TransportFailure) -> HostError:
    if failure.timed_out:
        return OperationTimeout(f"no answer from the host: {failure}")
    return HostUnreachable(str(failure))
