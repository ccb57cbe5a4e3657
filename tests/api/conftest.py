"""An API server on 127.0.0.1 (port 0) over a fresh cloud, and ``cs`` clients for it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cs import CloudStack, read_config

from harness.api.server import Serving, serving
from tests.service.conftest import World

#: ``cs`` polls queryAsyncJobResult every 2 s by default; the instant host needs far less.
POLL_INTERVAL = "0.02"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Serving]:
    with serving(tmp_path, driver="sim", port=0, state_file=None) as running:
        yield running


@pytest.fixture
def world(server: Serving) -> World:
    return World(server.cloud)


@pytest.fixture
def env_client(server: Serving, monkeypatch: pytest.MonkeyPatch) -> CloudStack:
    """The admin's client, configured as a user would configure it: the environment."""
    admin = server.cloud.admin
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", server.endpoint)
    monkeypatch.setenv("CLOUDSTACK_KEY", admin.api_key or "")
    monkeypatch.setenv("CLOUDSTACK_SECRET", admin.secret_key or "")
    monkeypatch.setenv("CLOUDSTACK_POLL_INTERVAL", POLL_INTERVAL)
    monkeypatch.setenv("CLOUDSTACK_JOB_TIMEOUT", "30")
    return CloudStack(**read_config())


ClientFactory = Callable[..., CloudStack]


def client_of(server: Serving, key: str | None, secret: str | None, **options: Any) -> CloudStack:
    """A ``cs`` client on ``server`` with ``key`` and ``secret``; it polls a job every
    ``POLL_INTERVAL`` and waits 30 s for it unless ``options`` say otherwise."""
    options.setdefault("poll_interval", float(POLL_INTERVAL))
    options.setdefault("job_timeout", 30)
    return CloudStack(endpoint=server.endpoint, key=key, secret=secret, **options)


def admin_client(server: Serving, **options: Any) -> CloudStack:
    """The admin's ``cs`` client on ``server`` (see :func:`client_of`)."""
    admin = server.cloud.admin
    return client_of(server, admin.api_key, admin.secret_key, **options)


@pytest.fixture
def client(server: Serving) -> ClientFactory:
    """``client(key, secret, **options)``: a ``cs`` client on the server."""
    return functools.partial(client_of, server)


def raw(server: Serving, params: dict[str, str], secret: str | None = None, method: str = "get") -> Any:
    """One request as the wire carries it (signed with ``secret`` when given): the
    ``requests`` response, for tests of the envelope and of refusals."""
    import requests

    from harness.api.signing import sign

    sent = dict(params)
    if secret is not None:
        sign(sent, secret)
    if method == "get":
        return requests.get(server.endpoint, params=sent, timeout=10)
    return requests.post(server.endpoint, data=sent, timeout=10)


def deploy(api: CloudStack, name: str = "vm1", **kw: Any) -> str:
    """Deploy a small running VM the way Marvin's VirtualMachine.create does; its id."""
    zone = api.listZones()["zone"][0]["id"]
    template = api.listTemplates(templatefilter="featured")["template"][0]["id"]
    offering = api.listServiceOfferings(name="small")["serviceoffering"][0]["id"]
    vm = api.deployVirtualMachine(
        serviceofferingid=offering, templateid=template, zoneid=zone, name=name, fetch_result=True, **kw
    )
    return vm["virtualmachine"]["id"]  # type: ignore[no-any-return]
