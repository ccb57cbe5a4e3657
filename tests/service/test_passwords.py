"""User passwords on both stores: the login check, who may set whose password, and what
is stored (a salted hash, never the password)."""

from __future__ import annotations

from harness.domain.model import AccountType
from harness.service import passwords
from tests.service.conftest import World, refused, user_id


def test_the_login_check(world: World) -> None:
    m = world.m
    m.create_account(world.admin, "kim", 0, None, "kim-pw")
    assert m.authenticate("kim", "kim-pw", "/").name == "kim"
    assert m.authenticate("kim", "kim-pw", "ROOT").name == "kim"
    for user, password, domain in (("kim", "KIM-PW", "/"), ("kim", "kim-pw", "/elsewhere"), ("nobody", "x", "/")):
        assert "please provide valid credentials" in refused(world, 531, m.authenticate, user, password, domain)
    assert "valid credentials" in refused(world, 531, m.authenticate, "admin", "", "/")  # no password set yet


def test_who_may_set_whose_password(world: World) -> None:
    m = world.m
    sub = m.create_domain(world.admin, "sub")
    lee = world.account("lee")
    max_ = world.account("max")
    boss = world.account("boss", AccountType.DomainAdmin, sub["id"])
    refused(world, 531, m.set_password, lee, user_id(m, max_), "mine now")
    refused(world, 531, m.set_password, boss, user_id(m, world.admin), "root is mine")
    refused(world, 531, m.set_password, boss, user_id(m, lee), "not my domain")
    refused(world, 431, m.set_password, lee, user_id(m, lee), "")
    m.set_password(lee, user_id(m, lee), "lee's own")
    m.set_password(world.admin, user_id(m, max_), "set by the admin")
    assert m.authenticate("lee", "lee's own").name == "lee"
    assert m.authenticate("max", "set by the admin").name == "max"


def test_only_a_salted_hash_is_stored(world: World) -> None:
    world.m.create_account(world.admin, "nia", 0, None, "nia-pw")
    world.m.create_account(world.admin, "oz", 0, None, "nia-pw")
    dump = repr(world.dump())
    assert "nia-pw" not in dump
    nia = world.cloud.account("nia").password_hash
    oz = world.cloud.account("oz").password_hash
    assert nia and oz and nia != oz and nia.startswith("pbkdf2_sha256$")
    assert passwords.verify_password("nia-pw", nia) and not passwords.verify_password("nia-pw ", nia)
    assert not passwords.verify_password("nia-pw", "damaged$row")
