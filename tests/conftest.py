"""Shared fixtures: local servers, config files on the shipped default topic, databases."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import tomllib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from sqlalchemy.engine import make_url

from monitor.settings import Settings, load_settings
from tests.web import Receiver, Site

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DEFAULT_CONFIG = ROOT / "config" / "monitor.toml"
POSTGRES_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests see only the MONITOR_* variables they set themselves, and start with structlog's
    defaults (a test that runs the CLI in-process configures logging)."""
    for key in list(os.environ):
        if key.startswith("MONITOR_") and not key.startswith(("MONITOR_TEST_", "MONITOR_REQUIRE")):
            monkeypatch.delenv(key)
    yield
    structlog.reset_defaults()


LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.fixture(autouse=True)
def _loopback_traffic_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A safety net under the address gate: no test may open a connection beyond loopback,
    whatever the code under test gets wrong. A violation fails the test."""
    violations: list[object] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def checked(address: Any) -> None:
        if not isinstance(address, tuple):
            return  # a Unix socket
        try:
            ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        except ValueError:
            ip = None
        if ip is None or not any(ip in network for network in LOOPBACK):
            violations.append(address)
            raise AssertionError(f"a test tried to connect to {address!r}, beyond loopback")

    def connect(self: socket.socket, address: Any) -> None:
        checked(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        checked(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield
    assert not violations, f"connections beyond loopback were attempted: {violations}"


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    server = await Site().start()
    yield server
    await server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.close()


def default_topics() -> list[dict[str, Any]]:
    """The topics of the committed config: tests exercise what users get."""
    with DEFAULT_CONFIG.open("rb") as file:
        topics: list[dict[str, Any]] = tomllib.load(file)["topics"]
    return topics


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{key}" = {toml_value(item)}' for key, item in value.items()) + "}"
    return repr(value)


TEST_SECTIONS: dict[str, dict[str, Any]] = {
    "fetch": {
        "allow_networks": ["127.0.0.0/8"],
        "total_timeout_seconds": 5,
        "read_timeout_seconds": 2,
        "connect_timeout_seconds": 2,
    },
    "delivery": {"timeout_seconds": 2},
    "poll": {"tick_seconds": 0.2},
    "stories": {},
    "http": {"port": 0},  # any free port: tests run daemons side by side
}


def write_config(
    path: Path,
    *,
    database_url: str,
    feeds: list[str],
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
    webhooks: list[dict[str, Any]] | None = None,
) -> Path:
    """A config file for a test run: the default topic, local feeds, a local receiver;
    ``sections`` overrides keys of ``[fetch]``, ``[delivery]``, ``[poll]`` and ``[stories]``."""
    lines = [f"database_url = {toml_value(database_url)}", 'log_format = "json"']
    if webhook_url:
        lines.append(f"webhook_url = {toml_value(webhook_url)}")
    if webhook_secret:
        lines.append(f"webhook_secret = {toml_value(webhook_secret)}")
    for name, defaults in TEST_SECTIONS.items():
        values = {**defaults, **(sections or {}).get(name, {})}
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    for topic in default_topics():
        lines.append("[[topics]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in topic.items()]
    for url in feeds:
        lines += ["[[feeds]]", f"url = {toml_value(url)}"]
    for webhook in webhooks or []:
        lines.append("[[webhooks]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in webhook.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Any:
    """Settings for a test run; the pipeline tests using it run on SQLite and on PostgreSQL."""

    def make(feeds: list[str], webhook_url: str | None = None, **kwargs: Any) -> Settings:
        kwargs.setdefault("database_url", database_url)
        path = write_config(
            tmp_path / f"monitor-{uuid.uuid4().hex[:6]}.toml",
            feeds=feeds,
            webhook_url=webhook_url,
            **kwargs,
        )
        return load_settings(path)

    return make


async def _admin() -> asyncpg.Connection:
    url = make_url(POSTGRES_URL)
    return await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=3,
    )


async def _create_database(name: str) -> None:
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(name: str) -> None:
    admin = await _admin()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    Skipped with the reason when PostgreSQL cannot be reached, unless MONITOR_REQUIRE_POSTGRES=1
    (as in CI), where that is a failure.
    """
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_create_database(name))
    except (OSError, asyncpg.PostgresError) as error:
        shown = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        problem = f"PostgreSQL at {shown} unreachable: {error}"
        if os.environ.get("MONITOR_REQUIRE_POSTGRES") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_drop_database(name))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
