"""Who gets in and what a session may do, over plain HTTP against a real ``hookwire serve``:
sign-in, sessions, CSRF, application-scoped keys, pagination and error pages."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx

from tests.api.server import Server
from tests.api.test_access import scoped_key
from tests.browser.dashboard import create, csrf_of, sign_in

PAGES = [
    "/",
    "/apps",
    "/messages",
    "/apps/{app}",
    "/apps/{app}/endpoints/{endpoint}",
    "/apps/{app}/messages/{msg}",
]


def setup_app(admin_api: httpx.Client, name: str) -> dict[str, str]:
    app = create(admin_api, "/api/v1/app", {"name": name, "uid": name})
    endpoint = create(admin_api, f"/api/v1/app/{app['id']}/endpoint", {"url": "https://example.com/h"})
    msg = create(admin_api, f"/api/v1/app/{app['id']}/msg", {"eventType": "a.b", "payload": {"n": 1}})
    return {"app": app["id"], "endpoint": endpoint["id"], "msg": msg["id"]}


def browser_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, follow_redirects=False)


def disabled(admin_api: httpx.Client, ids: dict[str, str]) -> Any:
    return admin_api.get(f"/api/v1/app/{ids['app']}/endpoint/{ids['endpoint']}").json()["disabled"]


def test_pages_without_a_session_redirect_to_sign_in(server: Server, admin_api: httpx.Client) -> None:
    ids = setup_app(admin_api, "a")
    with browser_client(server) as client:
        for page in PAGES:
            path = page.format(**ids)
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/sign-in"), path
        # A forged or altered cookie is no session either.
        client.cookies.set("hookwire_session", "eyJrIjoia2V5In0.AAAA")
        assert client.get("/apps").status_code == 303

        # Signing in returns to the page asked for, with an HTTP-only, same-site cookie.
        target = f"/apps/{ids['app']}"
        response = client.get(target)
        assert response.headers["location"] == "/sign-in?next=%2Fapps%2F" + ids["app"]
        signed_in = sign_in(client, server.admin_key, next_path=target)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == target
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http here; https answers with Secure
        assert server.admin_key not in signed_in.headers["set-cookie"]
        assert client.get(target).status_code == 200


def test_sign_in_refuses_bad_keys_and_foreign_targets(server: Server) -> None:
    with browser_client(server) as client:
        refused = sign_in(client, "hwk_not-a-key")
        assert refused.status_code == 401
        assert "not valid" in refused.text
        assert "hookwire_session" not in refused.headers.get("set-cookie", "")
        # After signing in, only a path on this server is a place to go.
        assert sign_in(client, server.admin_key, next_path="//evil.example/").headers["location"] == "/"


def test_forms_without_their_csrf_token_are_refused(server: Server, admin_api: httpx.Client) -> None:
    ids = setup_app(admin_api, "a")
    disable = f"/apps/{ids['app']}/endpoints/{ids['endpoint']}/disable"
    with browser_client(server) as client:
        # The sign-in form itself needs the token of its cookie.
        refused = client.post("/sign-in", data={"token": server.admin_key, "next": "/"})
        assert refused.status_code == 403
        assert "Not allowed" in refused.text  # the dashboard's error page, not JSON

        sign_in(client, server.admin_key)
        token = csrf_of(client.get(f"/apps/{ids['app']}/endpoints/{ids['endpoint']}").text)
        assert client.post(disable, data={"reason": "x"}).status_code == 403
        assert client.post(disable, data={"reason": "x", "csrf_token": "forged"}).status_code == 403
        assert client.post("/sign-out", data={}).status_code == 403
        assert disabled(admin_api, ids) is False

        accepted = client.post(disable, data={"reason": "x", "csrf_token": token})
        assert accepted.status_code == 303
        assert disabled(admin_api, ids) is True


def test_an_application_key_sees_only_its_application(server: Server, admin_api: httpx.Client) -> None:
    mine, other = setup_app(admin_api, "mine"), setup_app(admin_api, "other")
    with browser_client(server) as client:
        assert sign_in(client, scoped_key(server, "mine")).status_code == 303
        for page in PAGES[3:]:
            assert client.get(page.format(**other)).status_code == 404, page
            assert client.get(page.format(**mine)).status_code == 200, page
        assert client.get(f"/messages?app={other['app']}").status_code == 404
        assert (
            client.get(
                f"/apps/{other['app']}/endpoints/{other['endpoint']}/recover?since=2020-01-01T00:00"
            ).status_code
            == 404
        )

        listed = client.get("/messages").text
        assert mine["msg"] in listed
        assert other["msg"] not in listed
        assert client.get("/apps").headers["location"] == f"/apps/{mine['app']}"
        overview = client.get("/")
        assert overview.status_code == 200
        assert "Overview" in overview.text

        # Even with a valid CSRF token, another application's endpoint cannot be touched.
        token = csrf_of(client.get(f"/apps/{mine['app']}").text)
        disable = f"/apps/{other['app']}/endpoints/{other['endpoint']}/disable"
        assert client.post(disable, data={"csrf_token": token}).status_code == 404
        assert disabled(admin_api, other) is False


def test_a_deleted_key_ends_its_sessions(server: Server, admin_api: httpx.Client) -> None:
    setup_app(admin_api, "mine")
    token = scoped_key(server, "mine")
    with browser_client(server) as client:
        sign_in(client, token)
        assert client.get("/").status_code == 200
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "hookwire",
                "key",
                "list",
                "--json",
                "--database-url",
                server.database_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        [key] = json.loads(listed.stdout)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hookwire",
                "key",
                "delete",
                key["id"],
                "--database-url",
                server.database_url,
            ],
            capture_output=True,
            check=True,
        )
        assert client.get("/").status_code == 303


def test_pages_are_paginated_and_errors_are_pages(server: Server, admin_api: httpx.Client) -> None:
    for n in range(25):  # with the default application, one more than a page
        create(admin_api, "/api/v1/app", {"name": f"app {n:02d}"})
    with browser_client(server) as client:
        sign_in(client, server.admin_key)
        first = client.get("/apps")
        assert "Page 1: applications 1\u201325" in first.text
        assert "app 23" in first.text
        assert "app 24" not in first.text
        older = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        second = client.get(older)
        assert "app 24" in second.text
        assert "Page 2: applications 26\u201326" in second.text
        assert "« Newest" in second.text

        for path, status in [
            ("/apps/app_missing", 404),
            ("/messages/whatever", 404),
            ("/messages?after=soon", 400),
        ]:
            response = client.get(path)
            assert response.status_code == status, path
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["cache-control"] == "no-store"
            assert "default-src 'self'" in response.headers["content-security-policy"]
