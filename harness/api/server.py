"""The HTTP transport: ``/client/api`` (and the console's files at ``/console/``) on the
standard library's ``ThreadingHTTPServer``.

The standard library suffices: the API is one endpoint with query or form parameters and a
JSON answer, so a web framework would add a dependency and nothing else. Each connection
gets a thread (HTTP/1.1 keep-alive, idle connections time out); bodies above
:data:`MAX_BODY` bytes and request lines above the standard library's 64 KiB are refused
before they are read. Async jobs run on a separate thread pool, serially per VM
(``harness.jobs.queue``).

:func:`serving` assembles a server on a cloud; ``hvsnap serve`` and the tests use it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.api import discovery
from harness.api.app import ApiApp, RequestTooLarge, Response, error, parse_params
from harness.api.console.assets import ConsoleAssets
from harness.domain.errors import CloudError
from harness.drivers import A, Command, HyperVDriver
from harness.jobs.runners import ThreadRunner
from harness.service.cloud import Cloud, open_cloud
from harness.service.recovery import HostWatch, RecoveryThread
from harness.service.scheduler import SchedulerThread

log = logging.getLogger("hvsnap.api")

PATH = "/client/api"
MAX_BODY = 1 << 20
IDLE_TIMEOUT = 60.0
FORM_TYPE = "application/x-www-form-urlencoded"
#: Requests handled at once. Connections are many, but the work is mostly Python under one
#: GIL, and SQLite releases the GIL on every row: a few at a time beats a convoy of dozens.
CONCURRENCY = int(os.environ.get("HVSNAP_API_CONCURRENCY", "4"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hvsnap"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True
    app: ApiApp  # set on the subclass made per server
    console: ConsoleAssets

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/" or path.startswith("/console"):
            self._console(path)
            return
        self._answer(b"")

    def _console(self, path: str) -> None:
        reply = self.console.answer(
            path, self.headers.get("Accept-Encoding") or "", self.headers.get("If-None-Match") or ""
        )
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None or not length.isdigit():
            self.close_connection = True
            self._send(error(None, CloudError.coded(411, "A POST needs a Content-Length")))
            return
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._send(error(None, RequestTooLarge(f"The request body exceeds {MAX_BODY} bytes")))
            return
        body = self.rfile.read(int(length))
        ctype = (self.headers.get("Content-Type") or FORM_TYPE).split(";")[0].strip().lower()
        self._answer(body if ctype == FORM_TYPE else b"")

    def _answer(self, body: bytes) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != PATH:
            self._send(error(None, CloudError.coded(404, f"No API at {url.path}; use {PATH}")))
            return
        try:
            params = parse_params(url.query, body)
        except CloudError as err:
            self._send(error(None, err))
            return
        with self.server.busy:  # type: ignore[attr-defined]
            response = self.app.handle(params, self._cookies(), self.command == "POST")
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's protocol errors (414, 400, 501...) in the API's JSON shape."""
        self.close_connection = True
        body = json.dumps({"errorresponse": {"errorcode": code, "cserrorcode": 9999, "errortext": message or ""}})
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body.encode())
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, app: ApiApp, host: str = "127.0.0.1", port: int = 8080, concurrency: int = CONCURRENCY) -> None:
        handler = type("Handler", (_Handler,), {"app": app, "console": ConsoleAssets()})
        super().__init__((host, port), handler)
        self.app = app
        self.busy = threading.BoundedSemaphore(concurrency)

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"


class _Serialized:
    """The simulated host is one in-memory model: let one command touch it at a time when
    jobs for different VMs run on parallel threads."""

    def __init__(self, inner: HyperVDriver) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self._lock = threading.Lock()

    def execute(self, command: Command[A]) -> A:
        with self._lock:
            return self.inner.execute(command)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Serving:
    server: ApiServer
    cloud: Cloud

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


@contextmanager
def serving(
    home: str | Path | None = None,
    db: str | None = None,
    driver: str = "sim",
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 8,
    schedule: bool = True,
    driver_options: dict[str, Any] | None = None,
    **driver_config: Any,
) -> Iterator[Serving]:
    """Open the cloud, start the API on a background thread (and, with ``schedule``, the
    wall-clock policy scheduler), publish the endpoint in the home (``discovery``), yield;
    on exit stop taking requests and scheduling, let queued jobs finish, then close the
    cloud. The driver's configuration is ``driver_config`` and ``driver_options`` (for names
    taken here, such as the live driver's ``host``)."""
    executor = ThreadPoolExecutor(workers, thread_name_prefix="hvsnap-job")
    driver_config = {**driver_config, **(driver_options or {})}
    with open_cloud(home, db, driver, executor=executor, recover="always", **driver_config) as cloud:
        # "sim-timed" serializes on its own clock thread
        watch = HostWatch(_Serialized(cloud.driver) if driver == "sim" else cloud.driver)
        cloud.manager.runner = ThreadRunner(watch)
        recovering = RecoveryThread(cloud.manager.recovery, watch)
        recovering.start()
        server = ApiServer(ApiApp(cloud.manager), host, port)
        thread = threading.Thread(target=server.serve_forever, name="hvsnap-api", daemon=True)
        thread.start()
        scheduler = SchedulerThread(cloud.manager.policy_scheduler()) if schedule else None
        if scheduler is not None:
            scheduler.start()
        discovery.publish(cloud.home, server.endpoint)  # the CLI on this home now talks to us
        try:
            yield Serving(server, cloud)
        finally:
            discovery.withdraw(cloud.home)
            recovering.stop()
            if scheduler is not None:
                scheduler.stop()
            server.shutdown()
            server.server_close()
            thread.join()
            executor.shutdown(wait=True)
