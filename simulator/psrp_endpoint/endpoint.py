"""The endpoint: an HTTP(S) WinRM server in a thread, serving one ``HyperVHost``."""

from __future__ import annotations

import hashlib
import http.server
import os
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from spnego.channel_bindings import GssChannelBindings

from simulator.costs import Costs
from simulator.driver import start_guests
from simulator.host import HyperVHost
from simulator.psrp_endpoint.binding import Call
from simulator.psrp_endpoint.clock import Clock
from simulator.psrp_endpoint.cmdlets import Cmdlets
from simulator.psrp_endpoint.shells import Shell
from simulator.psrp_endpoint.wsman import Handler, Service


@dataclass
class AuthOptions:
    username: str
    password: str
    ntlm: bool
    basic: bool
    allow_unencrypted: bool
    channel_bindings: GssChannelBindings | None = None
    credssp: bool = False


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    options: AuthOptions
    service: Service
    tls: ssl.SSLContext | None


class EmulatedHost:
    """A WinRM endpoint on ``bind``:``port`` (0 picks a free port) serving ``host``.

    - ``basic`` also offers Basic auth (and accepts unencrypted HTTP, as a host with
      AllowUnencrypted does).
    - ``credssp`` also offers CredSSP: the user's password is delegated to the host, as with
      ``Enable-WSManCredSSP -Role Server`` (NTLM inside).
    - ``certfile``/``keyfile`` serve HTTPS, with channel binding for NTLM.
    - ``keytab`` holds the host's Kerberos key (``host/<name>``): Negotiate then accepts
      Kerberos too (pyspnego's acceptor reads it from the process-global ``KRB5_KTNAME``,
      which :meth:`start` sets).
    - ``cluster_nodes`` (this host's name first) make it a failover cluster node: the
      FailoverClusters cmdlets are served (:mod:`.clustering`).
    - ``hidden_cmdlets`` are not served, as on a restricted (JEA) endpoint whose role does
      not expose them: calling one is a CommandNotFoundException, ``Get-Command`` leaves it out.
    - ``time_scale`` > 0 serves the host in SimPy time (:mod:`.clock`): ``costs`` and
      ``seed`` configure the timed host, ``time_scale`` simulated seconds pass per wall
      second.
    - ``guests`` (a :class:`simulator.guests.network.GuestConfig`, or True) runs the guests:
      every running VM answers SSH on its address (``self.guests``), which
      ``Get-VMNetworkAdapter`` reports; ``guest_range`` is where the addresses come from.
    """

    def __init__(
        self,
        host: HyperVHost | None = None,
        *,
        bind: str = "127.0.0.1",
        port: int = 0,
        username: str = "hvsnap",
        password: str = "hvsnap-emulated",
        ntlm: bool = True,
        basic: bool = False,
        credssp: bool = False,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        time_scale: float = 0.0,
        costs: Costs | None = None,
        seed: int = 0,
        keytab: str | Path | None = None,
        guests: Any = None,
        guest_range: str | None = None,
        cluster_nodes: tuple[str, ...] = (),
        hidden_cmdlets: tuple[str, ...] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.guest_range = guest_range
        self.cluster_nodes = cluster_nodes
        self.keytab = keytab
        self.timing = (time_scale, costs, seed)
        self.host = host if host is not None else HyperVHost()
        if guest_range is not None:
            self.host.guest_range = guest_range
        self.cmdlets = Cmdlets(
            self.host, clock=self._clock(self.host), cluster_nodes=cluster_nodes, hidden=hidden_cmdlets
        )
        self.guests = start_guests(self.host, guests, self.lock, self._guest_clock)
        self.received: list[Call] = []
        self.username, self.password = username, password
        self._server = _Server((bind, port), Handler)
        self._server.options = AuthOptions(username, password, ntlm, basic, allow_unencrypted=basic, credssp=credssp)
        self._server.service = Service(lambda sid: Shell(sid, self.cmdlets, self.received, self.lock))
        self._server.tls = None
        if certfile is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            self._server.tls = ctx
            der = ssl.PEM_cert_to_DER_cert(Path(certfile).read_text())
            digest = hashlib.sha256(der).digest()
            self._server.options.channel_bindings = GssChannelBindings(
                application_data=b"tls-server-end-point:" + digest
            )
        self._thread: threading.Thread | None = None
        self._user_file: str | None = None

    def _guest_clock(self) -> float:
        """The host's time for the guests' uptime: simulated seconds on a timed host."""
        clock = self.cmdlets.clock
        return clock.realtime.now if clock is not None else time.monotonic()

    def _clock(self, host: HyperVHost) -> Clock | None:
        time_scale, costs, seed = self.timing
        return Clock(host, self.lock, time_scale, costs, seed) if time_scale > 0 else None

    @property
    def timed_out(self) -> int:
        """Receives answered with WS-Management's TimedOut fault (a pipeline still running)."""
        return self._server.service.timed_out

    @property
    def authenticated(self) -> list[str]:
        """The protocol of each completed handshake: "ntlm", "kerberos" or "credssp"."""
        return self._server.service.authenticated

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def address(self) -> str:
        return str(self._server.server_address[0])

    @property
    def ssl(self) -> bool:
        return self._server.tls is not None

    def start(self) -> EmulatedHost:
        fd, self._user_file = tempfile.mkstemp(prefix="hvsnap-ntlm-", suffix=".txt")
        with os.fdopen(fd, "w") as out:
            out.write(f":{self.username}:{self.password}\n")
        os.environ["NTLM_USER_FILE"] = self._user_file
        if self.keytab is not None:
            os.environ["KRB5_KTNAME"] = str(self.keytab)
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulated-hyperv", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        thread = self.start()._thread
        try:
            if thread is not None:
                thread.join()
        finally:
            self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.cmdlets.clock is not None:
            self.cmdlets.clock.close()
        if self.guests is not None:
            self.guests.close()
        if self._user_file and os.path.exists(self._user_file):
            os.unlink(self._user_file)

    def reset(self, host: HyperVHost | None = None) -> HyperVHost:
        """Serve a fresh host model (a new scenario) on the same endpoint; returns it."""
        if self.cmdlets.clock is not None:
            self.cmdlets.clock.close()
        with self.lock:
            self.host = host if host is not None else HyperVHost()
            if self.guest_range is not None:
                self.host.guest_range = self.guest_range
            self.cmdlets.__init__(  # type: ignore[misc]
                self.host, self.cmdlets.computer, self._clock(self.host), self.cluster_nodes
            )
            self.received.clear()
            if self.guests is not None:
                self.guests.attach(self.host)
        return self.host

    def driver_config(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for ``PowerShellHyperVDriver`` that reach this endpoint."""
        config: dict[str, Any] = {
            "host": self.address,
            "port": self.port,
            "ssl": self.ssl,
            "auth": "ntlm",
            "username": self.username,
            "password": self.password,
            "storage_root": self.host.storage_root,
            "clustered": bool(self.cluster_nodes),
        }
        config.update(extra)
        return config

    def __enter__(self) -> EmulatedHost:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
