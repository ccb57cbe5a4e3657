"""Scenarios of tests/console/console.feature in headless Chromium. A Given seeds through
the manager (as another client would); a When clicks or types; a Then reads the page.
Each step is one action or one assertion."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from playwright.sync_api import expect
from pytest_bdd import given, parsers, scenarios, then, when

from harness.domain.model import Account
from tests.console.conftest import ADMIN_PASSWORD, Console, shot

scenarios(str(Path(__file__).with_name("console.feature")))


class UI:
    """The page under test and what the Givens made, by name."""

    def __init__(self, page: Any, console: Console) -> None:
        self.page = page
        self.console = console
        self.vms: dict[str, str] = {}
        self.owners: dict[str, Account] = {}
        self.accounts: dict[str, Account] = {"admin": console.admin}
        self.snaps: dict[str, dict[str, Any]] = {}

    def row(self, name: str) -> Any:
        cell = self.page.locator("td:first-child a", has_text=name)
        return self.page.locator("table.grid tbody tr", has=cell)

    def login(self, username: str, password: str) -> None:
        self.page.goto(self.console.url)
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")

    def take(self, name: str, memory: bool = False, description: str | None = None) -> None:
        self.page.click("[data-action=take-snapshot]")
        self.page.fill("dialog input[name=name]", name)
        if description is not None:
            self.page.fill("dialog textarea[name=description]", description)
        if memory:
            self.page.check("dialog input[name=snapshotmemory]")
        self.page.click("dialog [data-confirm]")


@pytest.fixture
def ui(page: Any, console: Console) -> UI:
    return UI(page, console)


def p(text: str) -> Any:
    return parsers.parse(text)


# ------------------------------------------------------------------------- givens


@given(p('a running instance "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.vms[name] = ui.console.deploy(name)
    ui.owners[name] = ui.console.admin


@given(p('a stopped instance "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.vms[name] = ui.console.deploy(name, start=False)
    ui.owners[name] = ui.console.admin


@given(p('a running instance "{name}" of "{account}"'))
def _(ui: UI, name: str, account: str) -> None:
    ui.vms[name] = ui.console.deploy(name, caller=ui.accounts[account])
    ui.owners[name] = ui.accounts[account]


@given(p('a snapshot "{snap}" of "{vm}"'))
@when(p('another client takes a snapshot "{snap}" of "{vm}"'))
def _(ui: UI, snap: str, vm: str) -> None:
    ui.snaps[snap] = ui.console.snapshot(ui.vms[vm], snap, caller=ui.owners[vm])


@given(p('an account "{name}" with password "{password}"'))
def _(ui: UI, name: str, password: str) -> None:
    ui.accounts[name] = ui.console.account(name, password)


@given(p('the VM snapshot limit of "{account}" is {limit:d}'))
def _(ui: UI, account: str, limit: int) -> None:
    ui.console.serving.cloud.manager.update_resource_limit(ui.console.admin, 100, limit, account)


@given(p('I am logged in as "{username}"'))
def _(ui: UI, username: str) -> None:
    ui.login(username, ADMIN_PASSWORD)
    expect(ui.page.locator(".who .user")).to_have_text(username)


@given(p('I am logged in as "{username}" with password "{password}"'))
@when(p('I log in as "{username}" with password "{password}"'))
def _(ui: UI, username: str, password: str) -> None:
    ui.login(username, password)


# ------------------------------------------------------------------------- whens


@when(p('I search the instances for "{text}"'))
def _(ui: UI, text: str) -> None:
    ui.page.fill("input[name=q]", text)
    ui.page.click("form.search button")


@when(p('I open the instance "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.page.goto(f"{ui.console.url}#/instances/{ui.vms[name]}")
    expect(ui.page.locator("h1")).to_contain_text(name)


@when(p('I view the snapshots of "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.page.goto(f"{ui.console.url}#/instances/{ui.vms[name]}/snapshots")
    expect(ui.page.locator("h1")).to_contain_text("VM Snapshots")


@when("I begin to take a VM snapshot")
def _(ui: UI) -> None:
    ui.page.click("[data-action=take-snapshot]")


@when("I cancel the dialog")
def _(ui: UI) -> None:
    ui.page.click("dialog button:text('Cancel')")


@when("I confirm")
def _(ui: UI) -> None:
    ui.page.click("dialog [data-confirm]")


@when("I stop it, confirming")
def _(ui: UI) -> None:
    ui.page.click("[data-action=stop]")
    ui.page.click("dialog [data-confirm]")


@when("I start it")
def _(ui: UI) -> None:
    ui.page.click("[data-action=start]")


@when(p('I click "{label}"'))
def _(ui: UI, label: str) -> None:
    ui.page.click(f"a:text('{label}')")


@when(p('I take a VM snapshot "{name}" with memory'))
def _(ui: UI, name: str) -> None:
    ui.take(name, memory=True)
    expect(ui.row(name)).to_have_count(1)


@when(p('I take a VM snapshot "{name}" described as "{text}"'))
def _(ui: UI, name: str, text: str) -> None:
    ui.take(name, description=text)
    expect(ui.row(name)).to_have_count(1)


@when(p('I take a VM snapshot "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.take(name)
    expect(ui.row(name)).to_have_count(1)  # drawn once its job, polled, has ended


@when(p('I try to take a VM snapshot "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.take(name)


@when(p('I ask to revert to "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.row(name).locator("[data-action=revert]").click()


@when("I ask to delete it")
def _(ui: UI) -> None:
    ui.page.click("[data-action=delete]")


@when("I reload the page")
def _(ui: UI) -> None:
    ui.page.reload()


@when(p('I open the snapshot "{name}"'))
def _(ui: UI, name: str) -> None:
    ui.row(name).locator("td:first-child a").click()
    expect(ui.page.locator("dl.fields")).to_be_visible()


@when(p('I follow a link to the snapshot "{name}"'))
def _(ui: UI, name: str) -> None:
    snap = ui.snaps[name]
    ui.page.goto(f"{ui.console.url}#/instances/{snap['virtualmachineid']}/snapshots/{snap['id']}")


@when("I open the limits")
def _(ui: UI) -> None:
    ui.page.click("nav a:text('Limits')")


@when("I log out")
def _(ui: UI) -> None:
    ui.page.click("[data-action=logout]")


@when(p('I create an hourly policy at minute "{minute}" keeping "{keep}"'))
def _(ui: UI, minute: str, keep: str) -> None:
    ui.page.click("[data-action=create-policy]")
    ui.page.select_option("dialog select[name=intervaltype]", "HOURLY")
    ui.page.fill("dialog input[name=schedule]", minute)
    ui.page.fill("dialog input[name=maxsnaps]", keep)
    ui.page.click("dialog [data-confirm]")


@when(p('I change the policy\'s schedule to "{schedule}"'))
def _(ui: UI, schedule: str) -> None:
    ui.page.click("[data-action=edit-policy]")
    ui.page.fill("dialog input[name=schedule]", schedule)
    ui.page.click("dialog [data-confirm]")


@when("I delete the policy, confirming")
def _(ui: UI) -> None:
    ui.page.click("[data-action=delete-policy]")
    ui.page.click("dialog [data-confirm]")


# ------------------------------------------------------------------------- thens


@then(p('I take a screenshot "{name}"'))
def _(ui: UI, name: str) -> None:
    shot(ui.page, name)


@then(p('the instances list shows "{name}"'))
def _(ui: UI, name: str) -> None:
    expect(ui.page.locator("table.grid tbody td:first-child a", has_text=name)).to_have_count(1)


@then(p('the instances list shows only "{name}"'))
def _(ui: UI, name: str) -> None:
    expect(ui.page.locator("table.grid tbody td:first-child")).to_have_text([name])


@then(p('the instances list has no "{column}" column'))
def _(ui: UI, column: str) -> None:
    expect(ui.page.locator("table.grid th", has_text=column)).to_have_count(0)


@then(p('the breadcrumbs read "{trail}"'))
def _(ui: UI, trail: str) -> None:
    """The items joined with " > ", as the spec writes them."""
    expect(ui.page.locator(".crumbs li")).to_have_text(trail.split(" > "))


@then(p('the breadcrumbs end with "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator(".crumbs li").last).to_have_text(text)


@then(p('the details show "{label}" as "{value}"'))
def _(ui: UI, label: str, value: str) -> None:
    expect(ui.page.locator(f"dl.fields dt:text-is('{label}') + dd")).to_have_text(value)


@then(p('the details have a "{label}"'))
def _(ui: UI, label: str) -> None:
    expect(ui.page.locator(f"dl.fields dt:text-is('{label}') + dd")).to_be_visible()


@then("the details show:")
def _(ui: UI, datatable: list[list[str]]) -> None:
    for label, value in datatable[1:]:
        expect(ui.page.locator(f"dl.fields dt:text-is('{label}') + dd")).to_have_text(value)


@then(p('the details show the API\'s id and name of "{name}" as "{id_label}" and "{name_label}"'))
def _(ui: UI, name: str, id_label: str, name_label: str) -> None:
    m, admin = ui.console.serving.cloud.manager, ui.console.admin
    snap = next(s for s in m.list_vm_snapshots(admin, name=None)[1] if s["displayname"] == name)
    assert "_VS_" in snap["name"]
    expect(ui.page.locator(f"dl.fields dt:text-is('{id_label}') + dd")).to_have_text(snap["id"])
    expect(ui.page.locator(f"dl.fields dt:text-is('{name_label}') + dd")).to_have_text(snap["name"])


@then(p('the page links to "{first}" and "{second}"'))
def _(ui: UI, first: str, second: str) -> None:
    expect(ui.page.locator(".links a")).to_have_text([first, second])


@then(p('"{enabled}" is enabled and "{disabled}" is disabled'))
def _(ui: UI, enabled: str, disabled: str) -> None:
    expect(ui.page.locator(f"[data-action={enabled.lower()}]")).to_be_enabled()
    expect(ui.page.locator(f"[data-action={disabled.lower()}]")).to_be_disabled()


@then(p('"{field}" is disabled, saying "{reason}"'))
def _(ui: UI, field: str, reason: str) -> None:
    expect(ui.page.locator(f"dialog input[name={field}]")).to_be_disabled()
    expect(ui.page.locator("dialog")).to_contain_text(reason)


@then(p('its state is "{state}"'))
def _(ui: UI, state: str) -> None:
    expect(ui.page.locator("h1 .badge")).to_have_text(state)


@then(p('the snapshot "{name}" is "{state}" and current'))
def _(ui: UI, name: str, state: str) -> None:
    expect(ui.row(name).locator("td").nth(3)).to_have_text(state)
    expect(ui.row(name).locator("td").nth(4)).to_have_text("Current")


@then(p('the snapshot "{name}" is not current'))
def _(ui: UI, name: str) -> None:
    expect(ui.row(name).locator("td").nth(4)).not_to_have_text("Current")


@then(p('the snapshot "{name}" is of type "{kind}"'))
def _(ui: UI, name: str, kind: str) -> None:
    expect(ui.row(name).locator("td").nth(2)).to_have_text(kind)


@then(p('the confirmation says "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator("dialog")).to_contain_text(text)


@then(p('the parent of "{child}" is "{parent}"'))
def _(ui: UI, child: str, parent: str) -> None:
    expect(ui.row(child).locator("td").nth(5)).to_have_text(parent)


@then(p('the tree draws "{names}" with {branches:d} branches, "{current}" current'))
def _(ui: UI, names: str, branches: int, current: str) -> None:
    expect(ui.page.locator("svg.tree .label")).to_have_text(names.split(", "))
    expect(ui.page.locator("svg.tree path.branch")).to_have_count(branches)
    expect(ui.page.locator("svg.tree a.node.current .label")).to_have_text(current)


@then(p('there is no snapshot "{name}"'))
def _(ui: UI, name: str) -> None:
    expect(ui.row(name)).to_have_count(0)


@then(p("the list shows {count:d} snapshot"))
def _(ui: UI, count: int) -> None:
    expect(ui.page.locator("table.grid tbody tr")).to_have_count(count)


@then("every API call was a POST with nothing in its URL")
def _(ui: UI) -> None:
    calls = ui.page.api_requests
    assert calls and all(r.method == "POST" and "?" not in r.url for r in calls)
    assert any("command=queryAsyncJobResult" in (r.post_data or "") for r in calls), "no job was polled"


@then("the login form shows")
def _(ui: UI) -> None:
    expect(ui.page.locator("input[name=password]")).to_be_visible()


@then("the session key the console used is refused")
def _(ui: UI) -> None:
    keyed = [parse_qs(r.post_data or "").get("sessionkey") for r in ui.page.api_requests]
    key = [k for k in keyed if k][-1][0]
    data = {"command": "listVirtualMachines", "sessionkey": key}
    assert requests.post(ui.console.serving.endpoint, data=data, timeout=10).status_code == 401


@then(p('the page shows the refusal "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator(".banner.error")).to_contain_text(text)


@then(p('the page does not show "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator("body")).not_to_contain_text(text)


@then(p('the limits list "{account}"'))
def _(ui: UI, account: str) -> None:
    expect(ui.page.locator("table.grid tbody td:nth-child(2)")).to_have_text([account])


@then(p('the list and the tree show "{name}" as text'))
def _(ui: UI, name: str) -> None:
    expect(ui.row(name).locator("td:first-child")).to_have_text(name)
    expect(ui.page.locator("svg.tree .label")).to_have_text([name])


@then("the page has no img or b element")
def _(ui: UI) -> None:
    assert ui.page.locator("img, b").count() == 0


@then("the console's Content-Security-Policy forbids inline script")
def _(ui: UI) -> None:
    csp = requests.get(ui.console.url, timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@then(p('the login form says "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator(".login-card .error")).to_contain_text(text)


@then(p('the job fails with "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator(".job.failed .job-error")).to_contain_text(text)


@then(p('the policy shows "{label}" as "{value}"'))
def _(ui: UI, label: str, value: str) -> None:
    card = ui.page.locator("section[aria-label='Recurring snapshots']")
    expect(card.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)


@then("the instance has no policy")
def _(ui: UI) -> None:
    expect(ui.page.locator("section[aria-label='Recurring snapshots']")).to_contain_text("No policy")


@when(p("the admin {switch} VM snapshots for Hyper-V"))
def _(ui: UI, switch: str) -> None:
    ui.console.serving.cloud.manager.set_vm_snapshot_enabled(ui.console.admin, switch == "enables")


@then(p('taking a VM snapshot is disabled, saying "{reason}"'))
def _(ui: UI, reason: str) -> None:
    expect(ui.page.locator("[data-action=take-snapshot]")).to_be_disabled()
    expect(ui.page.locator(".page-head .reason")).to_contain_text(reason)


@then("taking a VM snapshot is enabled")
def _(ui: UI) -> None:
    expect(ui.page.locator("[data-action=take-snapshot]")).to_be_enabled()


@given(p('{count:d} running instances named "{pattern}"'))
def _(ui: UI, count: int, pattern: str) -> None:
    for i in range(1, count + 1):
        name = pattern.replace("NN", f"{i:02d}")
        ui.vms[name] = ui.console.deploy(name)
        ui.owners[name] = ui.console.admin


@when("I go to the next page")
def _(ui: UI) -> None:
    ui.page.locator(".pager a", has_text="Next").click()


@then(p('the pager reads "{text}"'))
def _(ui: UI, text: str) -> None:
    expect(ui.page.locator(".pager span").first).to_have_text(text)


@then(p('the instances list shows "{name}" with {count:d} VM snapshot'))
def _(ui: UI, name: str, count: int) -> None:
    row = ui.page.locator("table.grid tbody tr", has=ui.page.locator("td:first-child a", has_text=name))
    expect(row.locator("td.num")).to_have_text(str(count))


@when("every console session ends on the server")
def _(ui: UI) -> None:
    ui.console.serving.server.app.sessions.close_account(ui.console.admin.uuid)


@when(p('I open the instance "{name}" again'))
def _(ui: UI, name: str) -> None:
    ui.page.goto(f"{ui.console.url}#/instances/{ui.vms[name]}")
