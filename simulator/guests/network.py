"""An SSH server (asyncssh) per running simulated guest, on the VM's own loopback address.

:class:`GuestNetwork` listens to a :class:`~simulator.host.HyperVHost` (it is one of the
host's ``listeners``): when a VM becomes Running its guest starts listening on
``<its address>:<port>``; when the VM stops, is saved, paused, unregistered or destroyed,
the listener closes and every session of that guest is cut. A revert cuts the sessions too
(the guest's state is the checkpoint's); a revert to a memory checkpoint brings the guest
back with the checkpoint's uptime once the VM runs again.

Ports: ``port`` (default 22, as on a real guest); where the process may not bind it (no
root) or it is taken on that address, the documented fallback ``fallback_port`` (default
2222) on the same address; port 0 lets the system choose per VM (tests do this and read
:meth:`GuestNetwork.endpoint`). Only addresses inside ``127.0.0.0/8`` are ever bound: a VM
whose address lies elsewhere gets no server (and a warning in the log).

Login: the user ``root`` with the template's password (``password``, CloudStack's built-in
template's) unless the VM has its own (a ``passwordenabled`` template's, given to the host
with ``DeployVM.password``, or one set by :meth:`GuestNetwork.set_password`), or with a
public key from ``authorized_keys``, :meth:`GuestNetwork.authorize` or the VM's key pair
(``authorized_keys`` of ``DeployVM``/``RegisterVM``/``ImportVM``, kept by the host per VM).
No forwarding of any kind, no SFTP, no agent: a session only reaches its guest's shell.

Threads: one asyncio loop per process (``hvsnap-guests``, a daemon thread) runs every
server. A host change (called on the thread that changes the host, holding the host's lock)
waits for its listener to open or close, so a VM that was started answers at once and one
that was stopped refuses at once. Shell lines run in worker threads holding ``lock``, never
on the loop, so the loop never waits for the host. A line that reaches the guest after its
session was cut runs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncssh

from harness.drivers import PowerState
from simulator.guests.addresses import bindable
from simulator.guests.files import GuestFiles
from simulator.guests.procfs import Facts
from simulator.guests.shell import GuestShell, Result
from simulator.host import HyperVHost

log = logging.getLogger(__name__)
T = TypeVar("T")

#: CloudStack's built-in CentOS template logs in as root with this password.
TEMPLATE_PASSWORD = "password"
FALLBACK_PORT = 2222
_WAIT = 10.0  # seconds a host change waits for a listener to open or close


@dataclass(frozen=True)
class GuestConfig:
    """How the guests of one host listen and who may log in."""

    port: int = 22
    fallback_port: int = FALLBACK_PORT
    username: str = "root"
    password: str = TEMPLATE_PASSWORD
    authorized_keys: tuple[str, ...] = ()  # OpenSSH public key lines every guest accepts
    cpu_mhz: int = 2000  # the contract carries no CPU speed: every guest shows this
    seed: int = 0


class _Loop:
    """The process's guest event loop, in a daemon thread started on first use."""

    _instance: _Loop | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hvsnap-guests", daemon=True)
        self.thread.start()

    @classmethod
    def get(cls) -> _Loop:
        with cls._guard:
            if cls._instance is None:
                cls._instance = _Loop()
            return cls._instance

    def call(self, coro: Coroutine[Any, Any, T]) -> T | None:
        """Run ``coro`` on the loop and wait for it; from the loop itself, only schedule it."""
        if threading.current_thread() is self.thread:
            self.loop.create_task(coro)
            return None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(_WAIT)


@dataclass
class _Guest:
    """One running guest: its listener, its open connections and its session epoch."""

    vm: str
    address: str
    port: int
    acceptor: asyncssh.SSHAcceptor
    epoch: int
    connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)


class GuestNetwork:
    """The guests of ``host``, each an SSH server while its VM runs. ``lock`` is the host's
    (held around every shell line); ``clock`` gives the host's time in seconds (the SimPy
    clock on a timed host), for ``uptime``. :meth:`close` stops every server."""

    def __init__(
        self,
        host: HyperVHost,
        config: GuestConfig | None = None,
        lock: threading.Lock | threading.RLock | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or GuestConfig()
        self.lock = lock if lock is not None else threading.RLock()
        self.clock = clock
        self.rng = random.Random(self.config.seed)
        self._loop = _Loop.get()
        self._guests: dict[str, _Guest] = {}
        self._epochs: dict[str, int] = {}
        self._boot_at: dict[str, float] = {}
        self._boot_seen: dict[str, int] = {}
        self._saved_uptime: dict[tuple[str, str], float] = {}
        self._resume_uptime: dict[str, float] = {}
        self._passwords: dict[str, str] = {}
        self._keys: dict[str | None, list[asyncssh.SSHKey]] = {None: []}
        self._host_keys: dict[str, asyncssh.SSHKey] = {}
        for line in self.config.authorized_keys:
            self.authorize(None, line)
        self.host = host
        self._closed = False
        self.attach(host)

    # ------------------------------------------------------------------ public

    def attach(self, host: HyperVHost) -> None:
        """Serve the guests of ``host`` (a new model replacing the old one: every server of
        the old host stops first)."""
        if self in self.host.listeners:
            self.host.listeners.remove(self)
        for vm in list(self._guests):
            self._stop(vm)
        self.host = host
        host.listeners.append(self)
        for vm in sorted(host.vms):
            self.power_changed(vm)

    def close(self) -> None:
        """Stop every guest's server and stop listening to the host. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self in self.host.listeners:
            self.host.listeners.remove(self)
        for vm in list(self._guests):
            self._stop(vm)

    def endpoint(self, vm: str) -> tuple[str, int] | None:
        """``(address, port)`` of the VM's SSH server, or None while it has none."""
        guest = self._guests.get(vm)
        return None if guest is None else (guest.address, guest.port)

    def running(self) -> list[str]:
        """The VMs whose guest is listening, sorted."""
        return sorted(self._guests)

    def set_password(self, vm: str, password: str) -> None:
        """The guest's root password from now on (a reset password, as CloudStack's
        ``resetPasswordForVirtualMachine`` would set it)."""
        self._passwords[vm] = password

    def authorize(self, vm: str | None, public_key: str) -> None:
        """Accept ``public_key`` (an OpenSSH public key line) for ``vm``, or for every guest
        when ``vm`` is None (a key pair given at deploy)."""
        self._keys.setdefault(vm, []).append(asyncssh.import_public_key(public_key))

    # ------------------------------------------------------------------ HostListener

    def power_changed(self, vm: str) -> None:
        state = self.host.vms[vm].power_state if vm in self.host.vms else None
        if state == PowerState.Running and vm not in self._guests and not self._closed:
            self._boot(vm)
            self._start(vm)
        elif state != PowerState.Running and vm in self._guests:
            self._stop(vm)

    def checkpoint_taken(self, vm: str, snapshot: str, memory: bool) -> None:
        if memory and vm in self._boot_at:
            self._saved_uptime[(vm, snapshot)] = self.clock() - self._boot_at[vm]

    def reverted(self, vm: str, snapshot: str, memory: bool) -> None:
        self.power_changed(vm)
        saved = self._saved_uptime.get((vm, snapshot))
        if memory and saved is not None:
            self._resume_uptime[vm] = saved
        self._boot_seen[vm] = self.host.boot_id(vm)

    # ------------------------------------------------------------------ servers

    def _boot(self, vm: str) -> None:
        now = self.clock()
        if vm in self._resume_uptime:
            self._boot_at[vm] = now - self._resume_uptime.pop(vm)
        elif self._boot_seen.get(vm) != self.host.boot_id(vm) or vm not in self._boot_at:
            self._boot_at[vm] = now
        self._boot_seen[vm] = self.host.boot_id(vm)

    def _start(self, vm: str) -> None:
        address = self.host.addresses.get(vm)
        if address is None or not bindable(address):
            log.warning("guest %s has no loopback address (%s): no SSH server", vm, address)
            return
        epoch = self._epochs.get(vm, 0) + 1
        self._epochs[vm] = epoch
        guest = self._loop.call(self._listen(vm, address, epoch))
        if guest is not None:
            self._guests[vm] = guest

    def _stop(self, vm: str) -> None:
        guest = self._guests.pop(vm)
        self._epochs[vm] = guest.epoch + 1  # a line still queued for the old session runs nothing
        self._loop.call(self._close(guest))

    async def _listen(self, vm: str, address: str, epoch: int) -> _Guest | None:
        key = self._host_keys.get(vm)
        if key is None:
            key = self._host_keys[vm] = asyncssh.generate_private_key("ssh-ed25519")
        ports = list(dict.fromkeys((self.config.port, self.config.fallback_port)))
        holder: list[_Guest] = []
        for port in ports:
            try:
                acceptor = await asyncssh.create_server(
                    lambda: _Login(self, holder[0]),
                    address,
                    port,
                    server_host_keys=[key],
                    process_factory=lambda process: self._session(holder[0], process),
                    encoding=None,
                    line_editor=False,
                    agent_forwarding=False,
                    x11_forwarding=False,
                    allow_scp=False,
                    reuse_address=True,
                )
            except OSError as err:
                log.info("guest %s cannot listen on %s:%s (%s)", vm, address, port, err.strerror or err)
                continue
            bound = acceptor.get_port()
            holder.append(_Guest(vm, address, bound, acceptor, epoch))
            log.info("guest %s listens on %s:%s", vm, address, bound)
            return holder[0]
        log.warning("guest %s could not listen on %s (ports %s)", vm, address, ports)
        return None

    async def _close(self, guest: _Guest) -> None:
        guest.acceptor.close()
        for conn in list(guest.connections):
            conn.close()
        log.info("guest %s stopped listening on %s:%s", guest.vm, guest.address, guest.port)

    # ------------------------------------------------------------------ sessions

    def _password_ok(self, vm: str, username: str, password: str) -> bool:
        if username != self.config.username:
            return False
        if vm in self._passwords:
            return hmac.compare_digest(password.encode(), self._passwords[vm].encode())
        own = self.host.guest_password_ok(vm, password)  # the password its deploy generated
        if own is not None:
            return own
        return hmac.compare_digest(password.encode(), self.config.password.encode())

    def _key_ok(self, vm: str, username: str, key: asyncssh.SSHKey) -> bool:
        keys = [*self._keys[None], *self._keys.get(vm, [])]
        keys += [asyncssh.import_public_key(line) for line in self.host.guest_keys.get(vm, ())]
        return username == self.config.username and any(k.public_data == key.public_data for k in keys)

    def _facts(self, vm: str) -> Facts:
        v = self.host.vm(vm)
        uptime = max(0.0, self.clock() - self._boot_at.get(vm, self.clock()))
        return Facts(vm, v.cpus, v.memory_mib, self.config.cpu_mhz, uptime)

    def _line(self, guest: _Guest, shell: GuestShell, line: str) -> Result | None:
        """Run one line under the host's lock; None when the session was cut meanwhile."""
        with self.lock:
            if self._epochs.get(guest.vm) != guest.epoch or self.host is not shell.files.host:
                return None
            return shell.run(line)

    async def _session(self, guest: _Guest, process: asyncssh.SSHServerProcess[bytes]) -> None:
        shell = GuestShell(GuestFiles(self.host, guest.vm), lambda: self._facts(guest.vm), self.rng, "root")
        loop = asyncio.get_running_loop()

        def run(line: str) -> Awaitable[Result | None]:
            return loop.run_in_executor(None, self._line, guest, shell, line)

        try:
            if process.command is not None:
                result = await run(process.command)
                if result is None:
                    process.exit(255)
                    return
                process.stdout.write(result.out)
                process.stderr.write(result.err)
                process.exit(result.status)
                return
            await self._interactive(process, shell, run)
        except (asyncssh.Error, ConnectionError, BrokenPipeError):
            pass  # the client went away or the session was cut
        finally:
            with contextlib.suppress(Exception):
                process.close()

    async def _interactive(
        self,
        process: asyncssh.SSHServerProcess[bytes],
        shell: GuestShell,
        run: Callable[[str], Awaitable[Result | None]],
    ) -> None:
        """A login shell: a prompt, a line, its output, until ``exit`` or end of input. With a
        terminal, typed characters are echoed and output lines end in CR LF."""
        tty = process.get_terminal_type() is not None
        nl = b"\r\n" if tty else b"\n"
        process.stdout.write(shell.prompt.encode())
        pending = b""
        while not shell.exited:
            chunk = await process.stdin.read(4096)
            if not chunk:
                break
            typed = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if tty:
                process.stdout.write(typed.replace(b"\n", b"\r\n"))
            pending += typed
            while b"\n" in pending and not shell.exited:
                raw, pending = pending.split(b"\n", 1)
                result = await run(raw.decode("utf-8", "surrogateescape"))
                if result is None:
                    process.exit(255)
                    return
                process.stdout.write(result.out.replace(b"\n", nl) if tty else result.out)
                process.stderr.write(result.err.replace(b"\n", nl) if tty else result.err)
                if not shell.exited:
                    process.stdout.write(shell.prompt.encode())
        process.exit(shell.status)


class _Login(asyncssh.SSHServer):
    """Authentication for one connection to one guest."""

    def __init__(self, network: GuestNetwork, guest: _Guest) -> None:
        self.network, self.guest = network, guest
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.guest.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.guest.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return self.network._password_ok(self.guest.vm, username, password)

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return self.network._key_ok(self.guest.vm, username, key)
