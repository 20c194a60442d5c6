"""The HTTP API, the Atom feeds and the console's gate, over a database filled by a real
``monitor once``: every endpoint, refusals (no token, wrong token, no CSRF token, read-only),
and problem details for bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest

from monitor.app.resources import open_store
from tests.console_site import TOKEN, filled, serving
from tests.web import Receiver, Site

BEARER = {"Authorization": f"Bearer {TOKEN}"}
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
async def api(
    site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> AsyncIterator[Any]:
    settings = await filled(site, receiver, tmp_path, sqlite_url)
    async with serving(settings) as server, aiohttp.ClientSession(headers=BEARER) as http:

        async def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
            async with http.request(method, server.make_url(path), **kwargs) as r:
                kind = r.content_type
                body = await r.json(content_type=None) if "json" in kind else await r.text()
                return r.status, body, r.headers

        call.server = server  # type: ignore[attr-defined]
        call.settings = settings  # type: ignore[attr-defined]
        yield call


def is_problem(body: Any, headers: Any, status: int) -> bool:
    return (
        headers["Content-Type"].startswith("application/problem+json")
        and body["status"] == status
        and {"type", "title", "detail", "instance"} <= set(body)
    )


async def test_reading_endpoints_describe_the_story_that_was_polled(api: Any) -> None:
    status, overview, _ = await api("GET", "/api/v1/overview")
    assert status == 200
    assert overview["feeds"]["ok"] == 3
    assert overview["alerts"]["delivered"] == 1
    _, feeds, _ = await api("GET", "/api/v1/feeds")
    assert {f["title"] for f in feeds["items"]} == {
        "Wire Service",
        "Daily Courier",
        "Evening Globe",
    }
    _, one, _ = await api("GET", f"/api/v1/feeds/{feeds['items'][0]['id']}")
    assert one["state"] == "ok"
    assert one["http_status"] == 200
    _, stories, _ = await api("GET", "/api/v1/stories")
    [story] = stories["items"]
    assert (story["article_count"], story["source_count"]) == (3, 3)
    _, detail, _ = await api("GET", f"/api/v1/stories/{story['id']}")
    assert [a["why"].split(" ")[0] for a in detail["articles"]] == ["started", "a", "a"]
    assert detail["articles"][1]["similarity"] > 0.5
    [alert] = detail["alerts"]
    _, listed, _ = await api("GET", "/api/v1/alerts?status=delivered&topic=us-iraq-security-talks")
    assert [a["id"] for a in listed["items"]] == [alert["id"]]
    _, shown, _ = await api("GET", f"/api/v1/alerts/{alert['id']}")
    assert shown["attempts"][0]["status_code"] == 200
    assert shown["payload"]["story"]["id"] == story["id"]
    _, endpoints, _ = await api("GET", "/api/v1/endpoints")
    assert endpoints[0]["name"] == "default"
    assert endpoints[0]["url"].startswith("http://127.0.0.1:")  # nothing secret in it to mask
    _, topics, _ = await api("GET", "/api/v1/topics")
    _, topic, _ = await api("GET", f"/api/v1/topics/{topics[0]['name']}")
    assert topic["rules"]
    assert topic["rules"][0]["words"]
    _, document, _ = await api("GET", "/api/v1/openapi.json")
    assert document["openapi"].startswith("3.1")
    assert "/alerts/{id}/retry" in document["paths"]


async def test_pages_follow_their_cursor_to_the_end(api: Any) -> None:
    seen, cursor = [], None
    while True:
        _, page, _ = await api(
            "GET", "/api/v1/feeds", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        seen += [feed["id"] for feed in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == 3
    status, body, headers = await api("GET", "/api/v1/feeds", params={"cursor": "garbage!"})
    assert status == 422
    assert is_problem(body, headers, 422)
    assert body["errors"] == [{"field": "cursor", "detail": body["detail"]}]


async def test_changing_endpoints_add_enable_retry_split_classify_and_remove(api: Any) -> None:
    status, added, headers = await api(
        "POST", "/api/v1/feeds", json={"url": "http://127.0.0.1:9/new.xml?token=abc", "name": "New"}
    )
    assert status == 201
    assert headers["Location"] == f"/api/v1/feeds/{added['feed']['id']}"
    assert added["feed"]["url"] == "http://127.0.0.1:9/new.xml?token=***"  # redacted
    status, again, _ = await api(
        "POST", "/api/v1/feeds", json={"url": "http://127.0.0.1:9/new.xml?token=abc"}
    )
    assert (status, again["added"]) == (200, False)
    status, enabled, _ = await api("POST", f"/api/v1/feeds/{added['feed']['id']}/enable", json={})
    assert status == 200
    assert enabled["feed"]["state"] == "ok"

    _, alerts, _ = await api("GET", "/api/v1/alerts")
    alert_id = alerts["items"][0]["id"]
    status, retried, _ = await api("POST", f"/api/v1/alerts/{alert_id}/retry", json={})
    assert (status, retried["status"]) == (200, "pending")
    status, counted, _ = await api("POST", "/api/v1/alerts/retry", json={"dead": True})
    assert (status, counted) == (200, {"retried": 0})

    _, stories, _ = await api("GET", "/api/v1/stories")
    _, detail, _ = await api("GET", f"/api/v1/stories/{stories['items'][0]['id']}")
    copy = detail["articles"][1]["id"]
    status, split, _ = await api("POST", f"/api/v1/articles/{copy}/split", json={})
    assert status == 200
    assert split["left_story_id"] == stories["items"][0]["id"]
    assert split["alerts"] == 1
    _, alone, _ = await api("GET", f"/api/v1/stories/{split['story_id']}")
    assert [a["id"] for a in alone["articles"]] == [copy]
    assert [a["status"] for a in alone["alerts"]] == ["pending"]

    name = detail["story"]["levels"][0]["topic"]
    status, verdict, _ = await api(
        "POST",
        f"/api/v1/topics/{name}/classify",
        json={"title": "US and Iraq open talks on the withdrawal of American troops"},
    )
    assert status == 200
    assert verdict["level"] == "alert"
    assert verdict["rules"]
    status, verdict, _ = await api(
        "POST", f"/api/v1/topics/{name}/classify", json={"title": "Cake recipes"}
    )
    assert (verdict["matched"], verdict["level"]) == (False, None)

    status, _, _ = await api("DELETE", f"/api/v1/feeds/{added['feed']['id']}")
    assert status == 204
    status, body, headers = await api("GET", f"/api/v1/feeds/{added['feed']['id']}")
    assert status == 404
    assert is_problem(body, headers, 404)


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("POST", "/api/v1/feeds", {"url": "ftp://x"}, "url"),
        ("POST", "/api/v1/feeds", {"url": "http://a.example", "colour": "red"}, "colour"),
        ("POST", "/api/v1/feeds", {}, "url"),
        ("GET", "/api/v1/feeds?limit=0", None, "limit"),
        ("GET", "/api/v1/feeds?state=sleepy", None, "state"),
        ("GET", "/api/v1/alerts?status=lost", None, "status"),
        ("GET", "/api/v1/stories/abc", None, "id"),
        ("POST", "/api/v1/alerts/retry", {}, "ids"),
        ("POST", "/api/v1/topics/us-iraq-security-talks/classify", {"title": ""}, "title"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    api: Any, method: str, path: str, payload: Any, field: str
) -> None:
    status, body, headers = (
        await api(method, path, json=payload) if payload is not None else await api(method, path)
    )
    assert status == 422
    assert is_problem(body, headers, 422)
    assert body["type"] == "urn:monitor:problem:invalid-input"
    assert body["errors"][0]["field"] == field


async def test_a_body_that_is_not_json_is_refused(api: Any) -> None:
    status, body, headers = await api(
        "POST",
        "/api/v1/feeds",
        data="url=http://a.example",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 415
    assert is_problem(body, headers, 415)
    status, body, _ = await api(
        "POST", "/api/v1/feeds", data="{", headers={"Content-Type": "application/json"}
    )
    assert status == 422
    assert body["errors"][0]["field"] == "body"


async def test_opml_import_is_all_or_nothing_and_exports_back(api: Any) -> None:
    data = (FIXTURES / "feeds.opml").read_bytes()
    opml = {"Content-Type": "text/x-opml"}
    status, refused, _ = await api("POST", "/api/v1/feeds/import", data=data, headers=opml)
    assert status == 422
    assert refused["report"]["imported"] is False
    assert [p["url"] for p in refused["report"]["invalid"]] == ["ftp://example.org/feed"]
    assert len(refused["report"]["repeated"]) == 2  # a repeat in one folder is reported too
    _, feeds, _ = await api("GET", "/api/v1/feeds")
    assert len(feeds["items"]) == 3  # nothing half-imported

    status, report, _ = await api(
        "POST", "/api/v1/feeds/import?skip_invalid=true", data=data, headers=opml
    )
    assert status == 200
    assert report["imported"] is True
    assert report["added"] == [
        "http://127.0.0.1:9/wire.xml",
        "http://127.0.0.1:9/courier.xml?api_key=***",
    ]
    assert [(p["url"], p["reason"]) for p in report["repeated"]] == [
        ("http://127.0.0.1:9/wire.xml", "listed 2 times in folders News, Elsewhere"),
        ("http://127.0.0.1:9/courier.xml?api_key=***", "listed 2 times in folder News/Middle East"),
    ]
    assert "SECRET123" not in str(report)
    assert sorted(report["folders"]) == ["Elsewhere", "News", "News/Middle East"]
    status, again, _ = await api(
        "POST", "/api/v1/feeds/import?skip_invalid=1", data=data, headers=opml
    )
    assert again["added"] == []
    assert len(again["already"]) == 2

    status, exported, headers = await api("GET", "/api/v1/feeds/export")
    assert status == 200
    assert headers["Content-Type"].startswith("text/x-opml")
    assert "courier.xml?api_key=SECRET123" in exported  # an export is meant to be imported
    status, body, headers = await api(
        "POST", "/api/v1/feeds/import", data=b"<html>no</html>", headers=opml
    )
    assert status == 422
    assert body["errors"][0]["field"] == "file"


async def test_the_atom_feed_is_valid_one_entry_per_story_and_answers_304(api: Any) -> None:
    status, text, headers = await api("GET", "/feeds/alerts.atom")
    assert status == 200
    assert headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    [entry] = parsed.entries
    assert entry.title == "US and Iraq open talks on the withdrawal of American troops"
    outlets = entry.summary.rpartition("Outlets: ")[2].split(", ")
    assert sorted(outlets) == ["Daily Courier", "Evening Globe", "Wire Service"]
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert (await api("GET", "/feeds/alerts.atom", headers={"If-None-Match": etag}))[0] == 304
    assert (await api("GET", "/feeds/alerts.atom", headers={"If-Modified-Since": modified}))[
        0
    ] == 304
    assert (await api("GET", "/feeds/alerts.atom", headers={"If-None-Match": '"other"'}))[0] == 200
    topic = entry.tags[0].term
    status, text, _ = await api("GET", f"/feeds/topics/{topic}.atom")
    assert status == 200
    assert len(feedparser.parse(text).entries) == 1
    assert (await api("GET", "/feeds/topics/nothing.atom"))[0] == 404


async def test_refusals_without_the_token_and_without_csrf(api: Any) -> None:
    server = api.server
    async with aiohttp.ClientSession() as anonymous:
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
            async with anonymous.get(server.make_url("/api/v1/feeds"), headers=headers) as r:
                body = await r.json(content_type=None)
                assert r.status == 401
                assert is_problem(body, r.headers, 401)
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
            async with anonymous.get(server.make_url("/feeds/alerts.atom"), headers=headers) as r:
                assert r.status == 401
        for path in ("/healthz", "/metrics"):
            async with anonymous.get(server.make_url(path)) as r:
                assert r.status == 200
        async with anonymous.get(server.make_url("/feeds"), allow_redirects=False) as r:
            assert (r.status, r.headers["Location"]) == (303, "/login?next=/feeds")
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        async with anonymous.post(server.make_url("/login"), data={"token": TOKEN}) as r:
            assert r.status == 403
            assert "CSRF" in await r.text()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(server.make_url("/login")) as r:
            csrf = _csrf(await r.text())
        async with browser.post(
            server.make_url("/login"), data={"token": "wrong", "csrf": csrf}
        ) as r:
            assert r.status == 401
            assert "not the one" in await r.text()
        async with browser.post(
            server.make_url("/login"), data={"token": TOKEN, "csrf": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303
            cookie = r.cookies["monitor_session"]
            assert cookie["httponly"]
            assert cookie["samesite"] == "Strict"
        async with browser.get(server.make_url("/feeds")) as r:
            assert r.status == 200
            assert "Wire Service" in await r.text()
        async with browser.get(server.make_url("/feeds")) as r:
            csrf = _csrf(await r.text())
        async with browser.post(
            server.make_url("/feeds"), data={"url": "http://127.0.0.1:9/x.xml"}
        ) as r:
            assert r.status == 403
            assert "CSRF token is missing" in await r.text()
        async with browser.post(
            server.make_url("/feeds"), data={"url": "http://127.0.0.1:9/x.xml", "csrf": "f" * 64}
        ) as r:
            assert r.status == 403
        async with browser.post(
            server.make_url("/feeds"), data={"url": "http://127.0.0.1:9/x.xml", "csrf": csrf}
        ) as r:
            assert r.status == 200
            assert "http://127.0.0.1:9/x.xml" in await r.text()


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


async def test_read_only_hides_actions_and_refuses_changes(
    site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> None:
    settings = await filled(site, receiver, tmp_path, sqlite_url, read_only=True)
    async with serving(settings) as server, aiohttp.ClientSession(headers=BEARER) as http:
        async with http.post(
            server.make_url("/api/v1/feeds"), json={"url": "http://a.example/"}
        ) as r:
            assert r.status == 403
            assert "read-only" in (await r.json(content_type=None))["detail"]
        async with http.post(
            server.make_url("/api/v1/topics/us-iraq-security-talks/classify"),
            json={"title": "Iraq"},
        ) as r:
            assert r.status == 200
        async with http.get(server.make_url("/api/v1/openapi.json")) as r:
            assert "post" not in (await r.json())["paths"]["/feeds"]
    async with open_store(settings) as store:
        assert len(await store.list_feeds()) == 3


async def test_beyond_loopback_without_a_token_the_console_is_closed(
    site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> None:
    settings = await filled(site, receiver, tmp_path, sqlite_url)
    open_settings = settings.model_copy(
        update={"http": settings.http.model_copy(update={"token": None, "host": "0.0.0.0"})}
    )
    async with serving(open_settings) as server, aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/api/v1/feeds")) as r:
            assert r.status == 403
            assert "MONITOR_HTTP__TOKEN" in (await r.json(content_type=None))["detail"]
        async with http.get(server.make_url("/healthz")) as r:
            assert r.status == 200
    local = settings.model_copy(update={"http": settings.http.model_copy(update={"token": None})})
    async with serving(local) as server, aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/api/v1/feeds")) as r:
            assert r.status == 200
        async with http.get(
            server.make_url("/api/v1/feeds"), headers={"Host": "evil.example"}
        ) as r:
            assert r.status == 403  # DNS rebinding
