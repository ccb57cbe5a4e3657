"""``RealtimeHyperVDriver``: the simulated host in SimPy time, with the clock tied to the wall.

``hvsnap serve --driver sim --time-scale X`` (X > 0) runs on this driver: every command
takes the simulated time the :class:`~simulator.timed.TimedHost` gives it, and the SimPy
clock runs at ``X`` simulated seconds per wall second, so a ~5 s checkpoint of a 4 GiB VM
answers after 5/X wall seconds. The host rules are the timed host's, unchanged: one
state-changing operation per VM at a time (a second command on a busy VM fails at once with
``InvalidState``), bulk copies share the storage channels, errors are the same
:class:`~harness.drivers.HostError` classes.

Threads: SimPy is not thread-safe, so one background thread (``hvsnap-simclock``) owns the
:class:`simpy.rt.RealtimeEnvironment` and the timed host and is the only one that touches
them. :meth:`RealtimeHyperVDriver.execute` (called from the server's job threads, several at
once for different VMs) puts the command and a :class:`concurrent.futures.Future` on a queue
and blocks on the future. The clock thread starts each queued command as a timed-host process
at the simulated time that corresponds to the wall clock now, advances the environment in
real time, and settles the future with the answer or the error.

Sharing the model: whoever else reads or changes the host's state model between commands
(the emulated WinRM host does, for its instant cmdlets) passes a ``lock``; the clock thread
holds it while it advances simulated time.

State: with a ``state_file`` the host's state model (:class:`~simulator.host.HyperVHost`) is
loaded at construction and saved atomically after each command and on :meth:`close`, under
the same lock as :class:`~simulator.driver.SimulatedHyperVDriver` (:class:`StateFile`), so a
served timed cloud keeps its host between runs. What only exists in simulated time (a merge
in flight, 2008 R2 deferred merge bytes) is not saved.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

import simpy
import simpy.rt

from harness.drivers import A, Capabilities, Command, HostUnreachable
from simulator.costs import Costs
from simulator.driver import StateFile, start_guests
from simulator.guests.addresses import guest_range as parse_range
from simulator.host import HyperVHost
from simulator.operations import Operation
from simulator.timed import EventLog, Proc, TimedHost

#: Longest the clock thread sleeps without looking at its queue (wall seconds).
MAX_IDLE = 0.5

_Job = tuple[Operation, "Future[Any]"]


class RealtimeHyperVDriver:
    """The :class:`harness.drivers.HyperVDriver` contract over a :class:`TimedHost` whose
    SimPy clock runs ``time_scale`` simulated seconds per wall second.

    ``host`` is used as given; otherwise it is loaded from ``state_file`` when that exists, or
    new. ``costs`` and ``seed`` (VSS freeze times) configure the timed host; ``log`` receives
    its events (pass ``EventLog(keep=True)`` to read them back). ``guests`` and
    ``guest_range`` are :class:`~simulator.driver.SimulatedHyperVDriver`'s: the guests' SSH
    servers, their shell lines taking turns with the clock on ``lock``, their uptime in
    simulated seconds.
    """

    def __init__(
        self,
        time_scale: float,
        state_file: str | Path | None = None,
        host: HyperVHost | None = None,
        costs: Costs | None = None,
        seed: int = 0,
        log: EventLog | None = None,
        lock_wait: float = 10.0,
        lock: threading.Lock | threading.RLock | None = None,
        guests: Any = None,
        guest_range: str | None = None,
    ) -> None:
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0 (use SimulatedHyperVDriver for instant commands)")
        self.time_scale = float(time_scale)
        self.capabilities = Capabilities(guest_data=True)
        self.state_file = Path(state_file) if state_file is not None else None
        self._store = StateFile(self.state_file, lock_wait) if self.state_file is not None else None
        try:
            if self._store is not None and host is None:
                host = self._store.load()
            self.env = simpy.rt.RealtimeEnvironment(factor=1 / self.time_scale, strict=False)
            self.log = log if log is not None else EventLog()
            self.timed = TimedHost(self.env, costs or Costs(), random.Random(seed), self.log, state=host)
        except BaseException:
            if self._store is not None:
                self._store.close()
            raise
        self.host = self.timed.state
        if guest_range is not None:
            self.host.guest_range = str(parse_range(guest_range))
        self.lock = lock if lock is not None else threading.Lock()
        self.guests = start_guests(self.host, guests, self.lock, lambda: float(self.env.now))
        self._inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending: set[Future[Any]] = set()
        self._closing = threading.Event()  # set (under _submit) once no command may be queued
        self._submit = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="hvsnap-simclock", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ contract

    def execute(self, command: Command[A]) -> A:
        """Hand ``command`` to the clock thread and wait for its answer (or its HostError)."""
        answer: A = self.perform(command)
        return answer

    def perform(self, operation: Operation) -> Any:
        """:meth:`execute` for whatever the timed host takes, the simulator's own operations
        too (:class:`~simulator.operations.HostOperation`, which the emulated host runs)."""
        future: Future[Any] = Future()
        with self._submit:
            if self._closing.is_set():
                raise RuntimeError("RealtimeHyperVDriver used after close() (or its clock thread stopped)")
            self._inbox.put((operation, future))
        return future.result()

    def close(self) -> None:
        """Stop the clock thread (commands still in flight fail with HostUnreachable) and
        save the host's state. Idempotent."""
        with self._submit:
            if self._closed:
                return
            self._closed = True
            self._closing.set()
            self._inbox.put(None)
        self._thread.join()
        try:
            if self.guests is not None:
                self.guests.close()
            self.save()
        finally:
            if self._store is not None:
                self._store.close()

    def save(self) -> None:
        """Write the host state to ``state_file`` atomically (no-op without one). Only the
        clock thread calls this while it runs."""
        if self._store is not None:
            self._store.save(self.host)

    @property
    def now(self) -> float:
        """The simulated clock (seconds since the driver started)."""
        return float(self.env.now)

    def __enter__(self) -> RealtimeHyperVDriver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ the clock thread

    def _loop(self) -> None:
        env = self.env
        env.sync()
        job: _Job | None = None
        try:
            while True:
                self._advance()
                if job is not None:
                    self._start(job)
                    job = None
                while True:  # everything queued meanwhile starts at this same instant
                    try:
                        item = self._inbox.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        return
                    self._start(item)
                wait = MAX_IDLE
                nxt = env.peek()
                if nxt != float("inf"):
                    wait = min(wait, max(0.0, self._wall_of(nxt) - time.monotonic()))
                try:
                    item = self._inbox.get(timeout=wait)
                except queue.Empty:
                    continue
                if item is None:
                    return
                job = item
        finally:
            if job is not None:
                self._pending.add(job[1])
            self._drain()

    def _wall_of(self, sim_time: float) -> float:
        env = self.env
        return float(env.real_start + (sim_time - env.env_start) * env.factor)

    def _advance(self) -> None:
        """Process every event due by now (wall clock), leaving ``env.now`` at now."""
        env = self.env
        target = env.env_start + (time.monotonic() - env.real_start) / env.factor
        if target > env.now:
            with self.lock:
                env.run(until=target)

    def _start(self, job: _Job) -> None:
        command, future = job
        if not future.set_running_or_notify_cancel():
            return
        self._pending.add(future)
        self.env.process(self._serve(command, future))

    def _serve(self, command: Operation, future: Future[Any]) -> Proc:
        answer: Any = None
        error: BaseException | None = None
        try:
            answer = yield self.timed.execute(command)
        except Exception as err:  # HostError as the timed host raised it; anything else is a bug
            error = err
        try:
            self.save()
        except Exception as err:
            error = error or err
        self._pending.discard(future)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(answer)

    def _drain(self) -> None:
        """The clock stops: whoever still waits gets HostUnreachable; late callers too."""
        pending = set(self._pending)
        with self._submit:
            self._closing.set()
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is not None and item[1].set_running_or_notify_cancel():
                    pending.add(item[1])
        for future in pending:
            if not future.done():
                future.set_exception(HostUnreachable("the simulated host stopped (driver closed)"))
        self._pending.clear()
