"""NICs, resource tags, events and users on both stores (SQL and memory): the service
functions the API's new commands call, with refusals that change nothing."""

from __future__ import annotations

from harness.domain.model import AccountType
from harness.drivers import DeployVM, ImportVM, RegisterVM
from harness.service import accounts, events, tags
from harness.store.ports import Scope
from tests.service.conftest import World, refused


def test_each_vm_gets_the_lowest_free_guest_address_and_the_host_hears_it(world: World) -> None:
    sent: list[object] = []
    inner = world.m.runner.driver  # type: ignore[attr-defined]

    class Recording:
        capabilities = inner.capabilities

        def execute(self, command: object) -> object:
            sent.append(command)
            return inner.execute(command)

    world.m.runner.driver = Recording()  # type: ignore[attr-defined]
    a, b = world.deploy("a"), world.deploy("b")
    addresses = [world.vm(v)["nic"][0]["ipaddress"] for v in (a, b)]
    assert addresses == ["127.10.0.2", "127.10.0.3"]
    deployed = [c for c in sent if isinstance(c, DeployVM)]
    assert [c.ip_address for c in deployed] == addresses
    world.stop(a)
    world.start(a)  # registered again from disk or export, with the same address
    placed = [c for c in sent if isinstance(c, RegisterVM | ImportVM)]
    assert [c.ip_address for c in placed] == [addresses[0]]
    world._done(world.m.destroy_vm(world.admin, a, expunge=True))
    assert world.vm(world.deploy("c"))["nic"][0]["ipaddress"] == "127.10.0.2"


def test_tags_are_owned_like_their_resource_and_refusals_change_nothing(world: World) -> None:
    vm = world.deploy()
    snap = world.snap(vm, name="s")
    tags.create(world.m.uow_factory, world.admin, "VMSnapshot", [snap["id"]], [{"key": "env", "value": "prod"}])
    alice = world.account("alice", AccountType.User)
    before = world.dump()
    for bad in ({"key": "env", "value": "dev"}, {"key": "ok", "value": ""}):  # a key taken, an empty value
        refused(world, 431, tags.create, world.m.uow_factory, world.admin, "VMSnapshot", [snap["id"]], [bad])
    refused(world, 531, tags.create, world.m.uow_factory, alice, "UserVm", [vm], [{"key": "a", "value": "b"}])
    assert world.dump() == before
    assert tags.search(world.m.uow_factory, alice, listall=True).count == 0
    page = tags.search(world.m.uow_factory, world.admin, listall=True, resource_type="vmsnapshot")
    assert [(t.key, t.value, t.resource_uuid) for t in page.items] == [("env", "prod", snap["id"])]
    assert tags.matching_uuids(world.m.uow_factory, "VMSnapshot", [{"key": "env", "value": "prod"}]) == {snap["id"]}
    assert (
        tags.delete(world.m.uow_factory, world.admin, "VMSnapshot", [snap["id"]], [{"key": "env", "value": "x"}]) == 0
    )
    assert tags.delete(world.m.uow_factory, world.admin, "VMSnapshot", [snap["id"]]) == 1


def test_events_and_users(world: World) -> None:
    vm = world.deploy()
    world.snap(vm)
    page = events.search(world.m.uow_factory, world.admin, type_="VMSNAPSHOT.CREATE")
    assert [e.state for e in page.items] == ["Completed", "Started", "Scheduled"]
    assert events.search(world.m.uow_factory, world.admin, keyword="snapshot").count >= 3
    bob = world.account("bob")
    assert events.search(world.m.uow_factory, bob).count == 0
    user, _ = next(
        (u, a) for u, a in accounts.visible_users(world.m.uow_factory, world.admin) if a.id == bob.id
    )
    assert (user.username, user.state) == ("bob", "enabled")
    keys = accounts.register_keys(world.m.uow_factory, world.admin, user.uuid)
    assert keys.api_key and world.m.account_by_api_key(keys.api_key).name == "bob"  # type: ignore[union-attr]
    with world.m.uow_factory(readonly=True) as uow:
        assert uow.users.of_accounts([bob.id])[0].uuid == user.uuid
        assert uow.events.search(Scope(account_id=world.admin.id), level="ERROR").count == 0


def test_keys_of_an_account_by_name(world: World) -> None:
    carol = world.account("carol")
    keys = accounts.register_account_keys(world.m.uow_factory, world.admin, "carol")
    assert keys.id == carol.id and keys.api_key != carol.api_key
    assert world.m.account_by_api_key(keys.api_key or "").name == "carol"  # type: ignore[union-attr]
    dave = world.account("dave")
    refused(world, 531, accounts.register_account_keys, world.m.uow_factory, dave, "carol")
    refused(world, 431, accounts.register_account_keys, world.m.uow_factory, world.admin, "nobody")
