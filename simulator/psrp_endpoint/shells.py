"""PSRP glue: one psrpcore ``ServerRunspacePool`` per WinRM shell, pipelines run against
the cmdlet table, and outgoing data routed to per-target outboxes (the pool, or one
pipeline) so each Receive answers from its own queue (``reference/psrp.md`` §4, §8.4).

A pipeline runs as soon as its CREATE_PIPELINE message is complete. On an instant host it
runs right there, so by the time the client's first Receive arrives its output is waiting;
on a host with a clock (:mod:`.clock`) it runs in a worker thread and a Receive waits for
it (:meth:`Shell.wait`), at most until the client's OperationTimeout.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import deque
from typing import Any

import psrpcore
from psrpcore.types import PSInvocationState

from harness.drivers import HostError
from simulator.psrp_endpoint import clixml  # noqa: F401  (installs the cheaper CLIXML reader)
from simulator.psrp_endpoint.binding import Call, CmdletError, statements
from simulator.psrp_endpoint.cmdlets import Cmdlets

log = logging.getLogger(__name__)

_TERMINAL = {PSInvocationState.Completed, PSInvocationState.Failed, PSInvocationState.Stopped}


class Shell:
    """A WinRM shell: the server side of one client RunspacePool."""

    def __init__(self, shell_id: str, cmdlets: Cmdlets, received: list[Call], lock: threading.RLock) -> None:
        self.id = shell_id
        self.cmdlets = cmdlets
        self.received = received
        self.lock = lock
        self.pool = psrpcore.ServerRunspacePool()
        self.pipelines: dict[uuid.UUID, psrpcore.ServerPipeline] = {}
        self.outbox: dict[uuid.UUID | None, deque[bytes]] = {None: deque()}
        self.changed = threading.Condition(lock)  # a worker wrote output or finished

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes, command_id: uuid.UUID | None, prompt_response: bool = False) -> None:
        with self.lock:
            if command_id is not None and command_id not in self.pipelines:
                self.pipelines[command_id] = psrpcore.ServerPipeline(self.pool, command_id)
                self.outbox[command_id] = deque()
            stream = psrpcore.StreamType.prompt_response if prompt_response else psrpcore.StreamType.default
            self.pool.receive_data(psrpcore.PSRPPayload(data, stream, command_id))
            while (event := self.pool.next_event()) is not None:
                self._handle(event)

    def _handle(self, event: Any) -> None:
        if isinstance(event, psrpcore.CreatePipelineEvent):
            pipe = self.pipelines[event.pipeline_id]
            if self.cmdlets.clock is None:
                self._run(pipe, event.pipeline)
            else:
                pipe.start()  # Running from now: a Receive waits for it
                worker = threading.Thread(
                    target=self._work, args=(pipe, event.pipeline), name=f"pipeline-{event.pipeline_id}", daemon=True
                )
                worker.start()
        elif isinstance(
            event,
            psrpcore.SetMaxRunspacesEvent | psrpcore.SetMinRunspacesEvent | psrpcore.GetAvailableRunspacesEvent,
        ):
            self.pool.runspace_availability_response(event.ci, True)

    # ------------------------------------------------------------------ execution

    def _run(self, pipe: psrpcore.ServerPipeline, spec: Any) -> None:
        calls = [Call(c.command_text, list(c.parameters), bool(c.is_script)) for c in spec.commands]
        ends = [bool(c.end_of_statement) for c in spec.commands]
        with self.lock:
            self.received.extend(calls)
            if pipe.state != PSInvocationState.Running:
                pipe.start()
            try:
                for statement in statements(calls, ends):
                    self._statement(pipe, statement)
            except CmdletError as err:
                fail(pipe, err)
                return
            pipe.complete()

    def _work(self, pipe: psrpcore.ServerPipeline, spec: Any) -> None:
        """A worker thread's pipeline (the lock is held once, so the clock can let go of
        it); whatever happens, waiting Receives are woken."""
        try:
            self._run(pipe, spec)
        except psrpcore.PSRPCoreError:  # stopped by a Signal while a cmdlet ran
            log.debug("pipeline %s ended while it ran", pipe.pipeline_id)
        except Exception:  # a bug: fail the pipeline rather than leave the client polling
            log.exception("emulated host failed a pipeline")
            with self.lock, contextlib.suppress(psrpcore.PSRPCoreError):
                pipe.stop()
        finally:
            with self.lock:
                self.changed.notify_all()

    def _statement(self, pipe: psrpcore.ServerPipeline, statement: list[Call]) -> None:
        piped: list[Any] = []
        for i, call in enumerate(statement):
            cmdlet, bound = self.cmdlets.bind(call, piped)
            bound.downstream = i > 0
            try:
                try:
                    piped = self.cmdlets.run(cmdlet, bound)
                except HostError as err:
                    target = bound.get("name") or bound.get("vmname") or bound.get("path")
                    raise self.cmdlets.hyperv_error(err, cmdlet.name, str(target) if target else None) from err
            except CmdletError as err:
                stop = str(bound.get("erroraction", "Continue")).lower() == "stop"
                if err.terminating or stop:
                    raise
                rec = err.record
                pipe.write_error(rec.Exception, rec.CategoryInfo, rec.TargetObject, rec.FullyQualifiedErrorId)
                return
        for obj in piped:
            pipe.write_output(obj)
        self.changed.notify_all()

    # ------------------------------------------------------------------ output

    def drain(self, amount: int) -> None:
        while (payload := self.pool.data_to_send(amount)) is not None:
            self.outbox.setdefault(payload.pipeline_id, deque()).append(payload.data)

    def wait(self, command_id: uuid.UUID | None, amount: int, timeout: float) -> None:
        """With the lock held: drain what is ready to send and, while a running pipeline has
        nothing to send, wait for it, at most ``timeout`` seconds."""
        pipe = self.pipelines.get(command_id) if command_id else None
        deadline = time.monotonic() + timeout
        while True:
            self.drain(amount)
            left = deadline - time.monotonic()
            if pipe is None or pipe.state != PSInvocationState.Running or self.outbox.get(command_id) or left <= 0:
                return
            self.changed.wait(left)

    def take(self, command_id: uuid.UUID | None, budget: int) -> tuple[list[bytes], bool]:
        """Queued payloads for one target up to ``budget`` bytes, and whether it is done."""
        box = self.outbox.get(command_id, deque())
        out: list[bytes] = []
        used = 0
        while box and (not out or used + len(box[0]) <= budget):
            used += len(box[0])
            out.append(box.popleft())
        pipe = self.pipelines.get(command_id) if command_id else None
        done = pipe is not None and pipe.state in _TERMINAL and not box
        return out, done

    def signal(self, command_id: uuid.UUID | None) -> None:
        pipe = self.pipelines.pop(command_id, None) if command_id else None
        if pipe is not None:
            if pipe.state == PSInvocationState.Running:
                pipe.stop()
            with contextlib.suppress(psrpcore.PSRPCoreError):
                pipe.close()
            self.outbox.pop(command_id, None)


def fail(pipe: psrpcore.ServerPipeline, err: CmdletError) -> None:
    """End the pipeline Failed with the error as its ExceptionAsErrorRecord. psrpcore has
    no public way to do this (``reference/psrp.md`` §4): keep the private call here, and
    psrpcore pinned."""
    pipe._change_state(PSInvocationState.Failed, err.record)
