"""The spec's UI scenarios in headless Chromium: the VM detail page with its snapshot
action and View Snapshots, the VM Snapshots list with its tree, and the VM snapshot detail
page with the spec's fields; then who sees what, escaping, and refusals shown as
CloudStack's errortext. Every check reads the page; every change is made by clicking."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import requests
from playwright.sync_api import expect

from tests.console.conftest import Console, login, shot


def open_snapshots(tab: Any, console: Console, vm: str) -> None:
    tab.goto(f"{console.url}#/instances/{vm}/snapshots")
    expect(tab.locator("h1")).to_contain_text("VM Snapshots")


def take(tab: Any, name: str, memory: bool = False) -> None:
    tab.click("[data-action=take-snapshot]")
    tab.fill("dialog input[name=name]", name)
    if memory:
        tab.check("dialog input[name=snapshotmemory]")
    tab.click("dialog [data-confirm]")
    expect(tab.locator("svg.tree .label", has_text=name)).to_be_visible()  # drawn once the job ended
    expect(tab.locator(".job.failed")).to_have_count(0)
    polled = [r for r in tab.api_requests if "command=queryAsyncJobResult" in (r.post_data or "")]
    assert polled, "the job's progress was never polled"


def expect_crumbs(tab: Any, trail: str) -> None:
    """The breadcrumbs read ``trail`` (items joined with " > ", as the spec writes them)."""
    expect(tab.locator(".crumbs li").last).to_have_text(trail.rsplit(" > ", 1)[-1])
    assert " > ".join(tab.locator(".crumbs li").all_inner_texts()) == trail


def row(tab: Any, name: str) -> Any:
    return tab.locator("table.grid tbody tr", has=tab.locator("td:first-child a", has_text=name))


def test_instance_detail_page_has_the_snapshot_action_and_view_snapshots(page: Any, console: Console) -> None:
    """Home > Instances > VM-… : Details with Display Name, Name, State, Template; View
    Volumes, View Snapshots; Take VM Snapshot, with memory refused on a stopped VM."""
    running = console.deploy("VM-detail-running")
    stopped = console.deploy("VM-detail-stopped", start=False)
    login(page, console)
    expect(page.locator("table.grid")).to_contain_text("VM-detail-running")
    shot(page, "instances")

    page.fill("input[name=q]", "detail-stopped")
    page.click("form.search button")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    page.click("text=VM-detail-stopped")
    expect_crumbs(page, "Home > Instances > VM-detail-stopped")
    details = page.locator("dl.fields")
    for label, value in (("Display Name", "VM-detail-stopped"), ("Name", "VM-detail-stopped"), ("State", "Stopped")):
        expect(details.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
    expect(details.locator("dt:text-is('Template')")).to_be_visible()
    expect(page.locator("a", has_text="View Volumes")).to_be_visible()
    expect(page.locator("[data-action=start]")).to_be_enabled()
    expect(page.locator("[data-action=stop]")).to_be_disabled()
    page.click("[data-action=take-snapshot]")
    memory = page.locator("dialog input[name=snapshotmemory]")
    expect(memory).to_be_disabled()
    expect(page.locator("dialog")).to_contain_text("Memory can only be snapshotted while the instance is Running")
    shot(page, "take-snapshot-stopped")
    page.click("dialog button:text('Cancel')")

    page.goto(f"{console.url}#/instances/{running}")
    expect(page.locator("h1")).to_contain_text("Running")
    page.click("[data-action=stop]")
    page.click("dialog [data-confirm]")
    expect(page.locator("h1 .badge")).to_have_text("Stopped")
    page.click("[data-action=start]")
    expect(page.locator("h1 .badge")).to_have_text("Running")
    shot(page, "instance-detail")
    page.click("a:text('View Snapshots')")
    expect_crumbs(page, "Home > Instances > VM-detail-running > VM Snapshots")
    assert stopped


def test_snapshots_list_take_revert_and_the_tree_branches(page: Any, console: Console) -> None:
    """Home > Instances > VM-… > VM Snapshots: take A with memory (Ready, current), take B,
    revert to A (the confirmation says the VM ends Running), take C: the tree branches at A."""
    vm = console.deploy("VM-tree")
    login(page, console)
    open_snapshots(page, console, vm)
    take(page, "A", memory=True)
    a = row(page, "A")
    expect(a.locator("td").nth(3)).to_have_text("Ready")
    expect(a).to_contain_text("Current")
    expect(a).to_contain_text("Disk and memory")
    take(page, "B")
    expect(row(page, "B")).to_contain_text("Current")
    expect(row(page, "A")).not_to_contain_text("Current")

    row(page, "A").locator("[data-action=revert]").click()
    expect(page.locator("dialog")).to_contain_text("the instance ends Running")
    shot(page, "revert-confirmation")
    page.click("dialog [data-confirm]")
    expect(row(page, "A")).to_contain_text("Current")
    take(page, "C")

    expect(row(page, "C").locator("td").nth(5)).to_have_text("A")
    expect(row(page, "B").locator("td").nth(5)).to_have_text("A")
    # The picture: B and C both hang under A, drawn as two branches; C is ringed current.
    expect(page.locator("svg.tree path.branch")).to_have_count(2)
    expect(page.locator("svg.tree a.node.current .label")).to_have_text("C")
    labels = page.locator("svg.tree .label").all_text_contents()
    assert labels == ["A", "B", "C"], labels
    shot(page, "vm-snapshots-tree")

    row(page, "B").locator("[data-action=revert]").click()
    expect(page.locator("dialog")).to_contain_text("disk-only snapshot")
    expect(page.locator("dialog")).to_contain_text("ends Stopped")
    page.click("dialog button:text('Cancel')")
    expect(row(page, "C")).to_contain_text("Current")


def test_snapshot_detail_shows_the_spec_fields_then_delete_and_log_out(page: Any, console: Console) -> None:
    """Home > Instances > VM-… > VM Snapshots > Snapshot1: ID, Name, Display Name, Type,
    Description, State, IsCurrent, Parent, account, Domain; delete says children stay."""
    vm = console.deploy("VM-detail")
    parent = console.snapshot(vm, "Base")
    login(page, console)
    open_snapshots(page, console, vm)
    page.click("[data-action=take-snapshot]")
    page.fill("dialog input[name=name]", "Snapshot1")
    page.fill("dialog textarea[name=description]", "before the upgrade")
    page.click("dialog [data-confirm]")
    expect(row(page, "Snapshot1")).to_contain_text("Current")
    console.snapshot(vm, "Child")  # a child of Snapshot1, taken elsewhere
    page.reload()
    row(page, "Snapshot1").locator("td:first-child a").click()
    expect_crumbs(page, "Home > Instances > VM-detail > VM Snapshots > Snapshot1")

    api = console.serving.cloud.manager.search_vm_snapshots(console.admin, vm_uuid=vm, name=None)[1]
    snap = next(s for s in api if s["displayname"] == "Snapshot1")
    want = {
        "ID": snap["id"],
        "Name": snap["name"],
        "Display Name": "Snapshot1",
        "Type": "Disk",
        "Description": "before the upgrade",
        "State": "Ready",
        "IsCurrent": "No",
        "Parent": "Base",
        "Account": "admin",
        "Domain": "ROOT",
        "Service Offering": "small",
    }
    for label, value in want.items():
        expect(page.locator(f"dl.fields dt:text-is('{label}') + dd")).to_have_text(value)
    assert snap["name"].endswith(snap["name"][-14:]) and "_VS_" in snap["name"]
    shot(page, "vm-snapshot-detail")

    page.click("[data-action=delete]")
    dialog = page.locator("dialog")
    expect(dialog).to_contain_text("Its 1 child snapshot (Child) is kept and moves under “Base”")
    shot(page, "delete-confirmation")
    page.click("dialog [data-confirm]")
    expect_crumbs(page, "Home > Instances > VM-detail > VM Snapshots")
    expect(row(page, "Snapshot1")).to_have_count(0)
    expect(row(page, "Child").locator("td").nth(5)).to_have_text("Base")

    # Every call was a POST with its parameters in the body: nothing in a URL.
    assert page.api_requests and all(r.method == "POST" and "?" not in r.url for r in page.api_requests)
    key = parse_qs(page.api_requests[-1].post_data)["sessionkey"][0]
    page.click("[data-action=logout]")
    expect(page.locator("input[name=password]")).to_be_visible()
    dead = requests.post(
        console.serving.endpoint, data={"command": "listVirtualMachines", "sessionkey": key}, timeout=10
    )
    assert dead.status_code == 401
    assert parent["displayname"] == "Base"


def test_a_user_sees_only_its_own(page: Any, console: Console) -> None:
    """alice logs in and sees her instance and snapshots; the admin's are nowhere, and a
    direct link to one shows a refusal, not the snapshot."""
    alice = console.account("alice", "alice-pw")
    mine = console.deploy("alice-vm", caller=alice)
    console.snapshot(mine, "alice-snap", caller=alice)
    theirs = console.deploy("admin-only-vm")
    secret = console.snapshot(theirs, "admin-only-snap")
    login(page, console, "alice", "alice-pw")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    expect(page.locator("table.grid")).to_contain_text("alice-vm")
    expect(page.locator("table.grid")).not_to_contain_text("admin-only-vm")
    expect(page.locator("table.grid th", has_text="Account")).to_have_count(0)
    shot(page, "user-instances")
    open_snapshots(page, console, mine)
    expect(page.locator("table.grid tbody tr")).to_have_count(1)
    page.goto(f"{console.url}#/instances/{theirs}/snapshots/{secret['id']}")
    expect(page.locator(".banner.error")).to_contain_text("Account alice does not have permission")
    expect(page.locator("body")).not_to_contain_text("admin-only-snap")
    page.goto(f"{console.url}#/limits")
    expect(page.locator("table.grid")).to_contain_text("alice")


def test_a_hostile_name_renders_as_text(page: Any, console: Console) -> None:
    """A snapshot named <img src=x onerror=alert(1)> shows those characters, in the list,
    the tree and the detail page, and no script runs (the fixture fails on any alert)."""
    hostile = "<img src=x onerror=alert(1)>"
    vm = console.deploy("<b>bold-vm</b>")
    login(page, console)
    expect(page.locator("table.grid")).to_contain_text("<b>bold-vm</b>")
    open_snapshots(page, console, vm)
    take(page, hostile)
    expect(row(page, hostile).locator("td:first-child")).to_have_text(hostile)
    expect(page.locator("svg.tree .label")).to_have_text(hostile)
    assert page.locator("img").count() == 0 and page.locator("b").count() == 0
    row(page, hostile).locator("td:first-child a").click()
    expect(page.locator("dl.fields dt:text-is('Display Name') + dd")).to_have_text(hostile)
    expect(page.locator(".crumbs li").last).to_have_text(hostile)
    shot(page, "hostile-name")
    headers = requests.get(console.url, timeout=10).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]


def test_refusals_show_cloudstacks_errortext(page: Any, console: Console) -> None:
    """A wrong password, and a snapshot over the account's limit: the page shows the
    API's errortext and the state is unchanged."""
    bob = console.account("bob", "bob-pw")
    vm = console.deploy("bob-vm", caller=bob)
    console.snapshot(vm, "first", caller=bob)
    console.serving.cloud.manager.update_resource_limit(console.admin, 100, 1, "bob")
    page.goto(console.url)
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".login-card .error")).to_contain_text("Failed to authenticate user bob")
    shot(page, "login-refused")
    page.fill("input[name=password]", "bob-pw")
    page.click("button[type=submit]")
    expect(page.locator(".who .user")).to_have_text("bob")
    open_snapshots(page, console, vm)
    page.click("[data-action=take-snapshot]")
    page.fill("dialog input[name=name]", "second")
    page.click("dialog [data-confirm]")
    failed = page.locator(".job.failed")
    expect(failed).to_contain_text("limit")
    shot(page, "limit-refused")
    expect(page.locator("table.grid tbody tr")).to_have_count(1)


def test_recurring_policy_is_created_edited_and_deleted(page: Any, console: Console) -> None:
    vm = console.deploy("VM-policy")
    login(page, console)
    page.goto(f"{console.url}#/instances/{vm}")
    page.click("[data-action=create-policy]")
    page.select_option("dialog select[name=intervaltype]", "HOURLY")
    page.fill("dialog input[name=schedule]", "15")
    page.fill("dialog input[name=maxsnaps]", "6")
    page.click("dialog [data-confirm]")
    card = page.locator("section[aria-label='Recurring snapshots']")
    expect(card.locator("dt:text-is('Interval') + dd")).to_have_text("HOURLY")
    page.click("[data-action=edit-policy]")
    page.fill("dialog input[name=schedule]", "99")
    page.click("dialog [data-confirm]")
    expect(page.locator(".banner.error")).to_contain_text("Invalid schedule")
    expect(card.locator("dt:text-is('Schedule') + dd")).to_have_text("15")
    shot(page, "policy")
    page.click("[data-action=delete-policy]")
    page.click("dialog [data-confirm]")
    expect(card).to_contain_text("No policy")
