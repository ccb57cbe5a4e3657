"""Console sessions over HTTP: login and logout, the cookie's flags, the cookie-and-key
rule, expiry, the failed-login throttle, stored password hashes, updateUser and
createAccount's password; and the console's files (gzip, cache validators, CSP)."""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import pytest
import requests
from cs import CloudStackApiException
from sqlalchemy import create_engine, select

from harness.api.app import ApiApp
from harness.api.server import Serving
from harness.api.sessions import FAILURE_WINDOW, IDLE_SECONDS, MAX_FAILURES, Sessions
from harness.store import tables
from tests.api.conftest import ClientFactory
from tests.service.conftest import user_id

PASSWORD = "correct horse battery staple"


@pytest.fixture
def admin_password(server: Serving) -> str:
    admin = server.cloud.admin
    server.cloud.manager.set_password(admin, user_id(server.cloud.manager, admin), PASSWORD)
    return PASSWORD


def post(server: Serving, session: requests.Session | None = None, **params: str) -> requests.Response:
    return (session or requests).post(server.endpoint, data={"response": "json", **params}, timeout=10)


def log_in(server: Serving, username: str = "admin", password: str = PASSWORD) -> tuple[requests.Session, str]:
    browser = requests.Session()
    resp = post(server, browser, command="login", username=username, password=password, domain="/")
    assert resp.status_code == 200, resp.text
    return browser, resp.json()["loginresponse"]["sessionkey"]


def test_login_sets_a_strict_httponly_cookie_and_the_pair_authenticates(server: Serving, admin_password: str) -> None:
    browser, key = log_in(server)
    cookie = next(c for c in browser.cookies if c.name == "JSESSIONID")
    header = post(server, command="login", username="admin", password=admin_password).headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/client" in header
    assert cookie.value != key and len(key) >= 40

    assert post(server, browser, command="listZones", sessionkey=key).json()["listzonesresponse"]["count"] == 1
    assert post(server, command="listZones", sessionkey=key).status_code == 401  # the key without the cookie
    assert post(server, browser, command="listZones").status_code == 401  # the cookie without the key
    assert post(server, browser, command="listZones", sessionkey=key[:-1] + "x").status_code == 401

    out = post(server, browser, command="logout", sessionkey=key)
    assert out.json() == {"logoutresponse": {"description": "success"}}
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    browser.cookies.set("JSESSIONID", cookie.value, path="/client")  # a replayed cookie is dead too
    assert post(server, browser, command="listZones", sessionkey=key).status_code == 401


def test_login_is_post_only_and_a_wrong_password_is_531(server: Serving, admin_password: str) -> None:
    url = requests.get(
        server.endpoint, params={"command": "login", "username": "admin", "password": admin_password}, timeout=10
    )
    assert url.status_code == 431 and "POST" in url.json()["loginresponse"]["errortext"]
    assert "Set-Cookie" not in url.headers
    for username, password in (("admin", "wrong"), ("nobody", admin_password), ("admin", "")):
        resp = post(server, command="login", username=username, password=password)
        assert resp.status_code in (531, 431), resp.text
        assert "Set-Cookie" not in resp.headers
    wrong = post(server, command="login", username="admin", password="wrong").json()["loginresponse"]
    unknown = post(server, command="login", username="nobody", password="x").json()["loginresponse"]
    assert (wrong["errorcode"], unknown["errorcode"]) == (531, 531)
    assert wrong["errortext"].replace("admin", "?") == unknown["errortext"].replace("nobody", "?")


def test_an_unknown_user_costs_the_same_hash_as_a_wrong_password(server: Serving, admin_password: str) -> None:
    def fastest(username: str) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            post(server, command="login", username=username, password="not it", domain=f"/{username}-never")
            times.append(time.perf_counter() - t)
        return min(times)

    # An unknown domain and user both still pay one PBKDF2 computation (~0.3 s here).
    assert fastest("nobody") > 0.1 and fastest("admin") > 0.1


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app(server: Serving, admin_password: str) -> tuple[ApiApp, FakeClock]:
    clock = FakeClock()
    return ApiApp(server.cloud.manager, sessions=Sessions(clock)), clock


def handle(app: ApiApp, cookie: str | None = None, post_: bool = True, **params: str) -> tuple[int, Any, str]:
    resp = app.handle(params, {"JSESSIONID": cookie} if cookie else {}, post_)
    set_cookie = next((v for k, v in resp.headers if k == "Set-Cookie"), "")
    return resp.status, json.loads(resp.body), set_cookie


def app_login(app: ApiApp, password: str = PASSWORD) -> tuple[str, str]:
    status, body, set_cookie = handle(app, command="login", username="admin", password=password)
    assert status == 200, body
    return set_cookie.split(";")[0].split("=", 1)[1], body["loginresponse"]["sessionkey"]


def test_sessions_expire_when_idle(app: tuple[ApiApp, FakeClock]) -> None:
    api, clock = app
    cookie, key = app_login(api)
    clock.now += IDLE_SECONDS - 1
    assert handle(api, cookie, command="listZones", sessionkey=key)[0] == 200  # use keeps it alive
    clock.now += IDLE_SECONDS - 1
    assert handle(api, cookie, command="listZones", sessionkey=key)[0] == 200
    clock.now += IDLE_SECONDS + 1
    assert handle(api, cookie, command="listZones", sessionkey=key)[0] == 401


def test_failed_logins_are_throttled_per_user(app: tuple[ApiApp, FakeClock], server: Serving) -> None:
    api, clock = app
    server.cloud.manager.create_account(server.cloud.admin, "carol", 0, None, "carol-pw")
    for i in range(MAX_FAILURES):  # however the domain is spelled, it is one count
        domain = ("/", "ROOT", "", "/ROOT/", "root")[i % 5]
        assert handle(api, command="login", username="admin", password="guess", domain=domain)[0] == 531
    status, body, _ = handle(api, command="login", username="admin", password=PASSWORD)
    assert status == 531 and "Too many failed logins" in body["loginresponse"]["errortext"]
    assert handle(api, command="login", username="carol", password="carol-pw")[0] == 200  # others are not locked
    clock.now += FAILURE_WINDOW + 1
    app_login(api)  # the window passed: the right password works again


def test_passwords_are_stored_as_salted_hashes(server: Serving, client: ClientFactory) -> None:
    admin = server.cloud.admin
    api = client(admin.api_key, admin.secret_key, method="post")
    for name in ("dave", "erin"):
        api.createAccount(
            username=name,
            password="same-password",
            email=f"{name}@example.org",
            firstname=name,
            lastname="x",
            accounttype=0,
        )
    rows = _user_rows(server)
    stored = [rows[n] for n in ("dave", "erin")]
    assert all(s.startswith("pbkdf2_sha256$600000$") and "same-password" not in s for s in stored)
    assert stored[0] != stored[1]  # salted
    log_in(server, "dave", "same-password")


def _user_rows(server: Serving) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{server.cloud.home / 'hvsnap.db'}")
    with engine.connect() as conn:
        rows = {r.username: r.password for r in conn.execute(select(tables.user))}
    engine.dispose()
    return rows


def test_a_bad_password_creates_nothing(server: Serving, client: ClientFactory) -> None:
    admin = server.cloud.admin
    api = client(admin.api_key, admin.secret_key, method="post")
    before = _user_rows(server)
    for bad in ("x" * 256, "tab\there"):
        with pytest.raises(CloudStackApiException) as refused:
            api.createAccount(
                username="frank", password=bad, email="f@example.org", firstname="f", lastname="f", accounttype=0
            )
        assert refused.value.error["errorcode"] == 431
    assert _user_rows(server) == before


def test_update_user_sets_passwords_with_the_right_authority(server: Serving, admin_password: str) -> None:
    m, admin = server.cloud.manager, server.cloud.admin
    m.create_account(admin, "gina", 0, None, "gina-pw")
    m.create_account(admin, "hank", 0, None, "hank-pw")
    gina = server.cloud.account("gina")
    hank = server.cloud.account("hank")
    browser, key = log_in(server, "gina", "gina-pw")

    def update(**params: str) -> requests.Response:
        return post(server, browser, command="updateUser", sessionkey=key, **params)

    assert update(id=user_id(m, gina), password="new-pw", currentpassword="wrong").status_code == 531
    assert update(id=user_id(m, hank), password="mine-now").status_code == 531
    ok = update(id=user_id(m, gina), password="new-pw", currentpassword="gina-pw")
    assert ok.status_code == 200 and ok.json()["updateuserresponse"]["user"]["username"] == "gina"
    assert post(server, command="login", username="gina", password="gina-pw").status_code == 531
    log_in(server, "gina", "new-pw")

    hank_browser, hank_key = log_in(server, "hank", "hank-pw")
    admin_browser, admin_key = log_in(server)
    hank_id = user_id(m, hank)
    reset = post(server, admin_browser, command="updateUser", sessionkey=admin_key, id=hank_id, password="reset")
    assert reset.status_code == 200
    assert post(server, hank_browser, command="listZones", sessionkey=hank_key).status_code == 401  # logged out
    log_in(server, "hank", "reset")


def test_list_apis_names_the_session_commands(server: Serving, client: ClientFactory) -> None:
    admin = server.cloud.admin
    names = {a["name"] for a in client(admin.api_key, admin.secret_key).listApis()["api"]}
    assert {"login", "logout", "updateUser"} <= names


def test_console_files_are_gzipped_cached_and_locked_down(server: Serving) -> None:
    origin = server.endpoint.removesuffix("/client/api")
    home = requests.get(origin + "/", allow_redirects=False, timeout=10)
    assert home.status_code == 302 and home.headers["Location"] == "/console/"
    index = requests.get(origin + "/console/", timeout=10)
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert index.headers["Cache-Control"] == "no-cache" and index.headers["Content-Encoding"] == "gzip"
    again = requests.get(origin + "/console/", headers={"If-None-Match": index.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    script = next(line for line in index.text.splitlines() if "app.js" in line)
    path = script.split('src="', 1)[1].split('"', 1)[0]
    raw = requests.get(origin + path, headers={"Accept-Encoding": "identity"}, timeout=10)
    zipped = requests.get(origin + path, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert raw.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in raw.headers["Cache-Control"] and "Content-Encoding" not in raw.headers
    assert gzip.decompress(zipped.raw.read()) == raw.content
    assert requests.get(origin + path.replace("/assets/", "/assets/0"), timeout=10).status_code == 404
    assert requests.get(origin + "/console/../harness/api/app.py", timeout=10).status_code == 404
