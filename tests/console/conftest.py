"""The console in a real browser: an API server on 127.0.0.1 (port 0), Debian's Chromium
driven by Playwright (one browser per module, a fresh context per test), screenshots
attached to the Allure report and kept in ``reports/out/console/``.

Seeding (accounts, passwords, VMs) goes through the manager, as an operator's CLI would;
everything a test checks goes through the browser."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import allure
import pytest

from harness.api.server import Serving, serving
from harness.domain.model import Account, AsyncJob
from tests.chromium import ARGS as CHROMIUM_ARGS
from tests.chromium import CHROMIUM
from tests.chromium import require as chromium_required
from tests.service.conftest import user_id

SHOTS = Path(__file__).resolve().parents[2] / "reports" / "out" / "console"
ADMIN_PASSWORD = "admin-pw-for-tests"
TIMEOUT_MS = 15_000


@dataclass
class Console:
    """A served cloud and its console's URL, with the seeding vocabulary."""

    serving: Serving

    @property
    def url(self) -> str:
        return self.serving.endpoint.removesuffix("/client/api") + "/console/"

    @property
    def admin(self) -> Account:
        return self.serving.cloud.admin

    def finish(self, job: AsyncJob) -> dict[str, Any]:
        m = self.serving.cloud.manager
        deadline = time.monotonic() + 30
        while (result := m.job_result(job))["jobstatus"] == 0:
            if time.monotonic() > deadline:
                raise TimeoutError(job.uuid)
            time.sleep(0.02)
        assert result["jobstatus"] == 1, result
        return result["jobresult"]  # type: ignore[no-any-return]

    def deploy(self, name: str, caller: Account | None = None, start: bool = True) -> str:
        _, job = self.serving.cloud.manager.deploy_vm(caller or self.admin, name, "small", start)
        return self.finish(job)["virtualmachine"]["id"]  # type: ignore[no-any-return]

    def snapshot(self, vm: str, name: str, caller: Account | None = None, memory: bool = False) -> dict[str, Any]:
        _, job = self.serving.cloud.manager.create_vm_snapshot(caller or self.admin, vm, name, None, memory)
        return self.finish(job)["vmsnapshot"]  # type: ignore[no-any-return]

    def account(self, name: str, password: str) -> Account:
        m = self.serving.cloud.manager
        m.create_account(self.admin, name, 0, None, password)
        return self.serving.cloud.account(name)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with serving(tmp_path_factory.mktemp("console"), driver="sim", port=0, state_file=None) as running:
        admin = running.cloud.admin
        running.cloud.manager.set_password(admin, user_id(running.cloud.manager, admin), ADMIN_PASSWORD)
        yield Console(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium_required()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies, no session storage) and its page; it fails
    the test on any script error or alert, and records every API request."""
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.problems = []
    tab.api_requests = []
    tab.on("pageerror", lambda err: tab.problems.append(f"script error: {err}"))
    tab.on("dialog", lambda d: (tab.problems.append(f"a {d.type} dialog opened: {d.message}"), d.dismiss()))
    tab.on("request", lambda r: tab.api_requests.append(r) if "/client/api" in r.url else None)
    yield tab
    context.close()
    assert not tab.problems, tab.problems


def shot(tab: Any, name: str) -> Path:
    """Screenshot the page into reports/out/console/<name>.png and attach it to Allure."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    allure.attach.file(str(path), name=name, attachment_type=allure.attachment_type.PNG)
    return path


def login(tab: Any, console: Console, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    tab.goto(console.url)
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", password)
    tab.click("button[type=submit]")
    tab.wait_for_selector(".who .user")
