"""The emulated host in SimPy time: its state-changing cmdlets take the time the timed
host (:class:`~simulator.timed.TimedHost`) gives them, on a clock tied to the wall.

``EmulatedHost(time_scale=X)`` (``hvsnap emulate-host --time-scale X``) hands Checkpoint-VM,
Restore-VMSnapshot, Remove-VMSnapshot, Start-VM, Stop-VM, Export-VM and Import-VM to a
:class:`~simulator.realtime.RealtimeHyperVDriver` as the matching commands, so a ~5 s
checkpoint of a running 4 GiB VM answers after 5/X wall seconds, a busy VM refuses a second
state change with Hyper-V's invalid-state error, and bulk copies share the host's storage
channels, exactly as in simulations. Reads and the instant cmdlets (New-VM, Set-VM, New-VHD,
...) act on the same model at once.

Threads: the clock thread owns simulated time and holds the endpoint's lock while it moves
it; a pipeline runs in a worker thread of its own (:mod:`.shells`) holding that lock, and
releases it while it waits for a timed operation. The pipeline's Receive long-polls meanwhile
and answers WS-Management's TimedOut fault at the client's OperationTimeout, as a Windows host
does, which pypsrp polls through.

Where the emulation differs from a real host: Remove-VMSnapshot returns when its merge is
done (Hyper-V returns at once and merges in the background); another session's Get-VM shows
``MergingDisks`` meanwhile.
"""

from __future__ import annotations

import threading

from simulator.costs import Costs
from simulator.host import HyperVHost
from simulator.operations import Operation
from simulator.realtime import RealtimeHyperVDriver

#: What Get-VM's OperationalStatus shows for a timed host's busy states.
STATUSES = ("MergingDisks", "DeletingSnapshot", "ExportingVirtualMachine")


class Clock:
    """Timed operations for one host model. ``lock`` is the endpoint's: held once by the
    calling thread when :meth:`perform` is called."""

    def __init__(
        self,
        host: HyperVHost,
        lock: threading.RLock,
        time_scale: float,
        costs: Costs | None = None,
        seed: int = 0,
    ) -> None:
        self.lock = lock
        self.realtime = RealtimeHyperVDriver(time_scale, host=host, costs=costs, seed=seed, lock=lock)

    def perform(self, command: Operation) -> None:
        """Run ``command`` in simulated time; raise its ``HostError``. The caller's hold on
        the lock is let go meanwhile, so reads and the clock go on."""
        self.lock.release()
        try:
            self.realtime.perform(command)
        finally:
            self.lock.acquire()

    def status(self, vm: str) -> str | None:
        """The VM's busy state as Get-VM's OperationalStatus names it, or None."""
        status = self.realtime.timed.status(vm)
        return status if status in STATUSES else None

    def close(self) -> None:
        self.realtime.close()
