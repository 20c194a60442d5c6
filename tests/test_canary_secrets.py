"""Canary secrets: a scripted operator session with a secret in every place one can hide (a
database password, a feed's API key, Slack's and Discord's webhook tokens, a signing secret,
mistyped config values) must show none of them in logs, CLI output, HTTP answers or the
database's text columns. Only the feed's own address keeps its key, for the fetcher."""

from __future__ import annotations

import asyncio
import base64
import re
import signal
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy.engine import make_url

from monitor.cli.main import main
from tests.conftest import write_config
from tests.tcp_proxy import TcpProxy
from tests.test_cli import start_daemon
from tests.test_http_server import free_port
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site

DATABASE_PASSWORD = "CanaryDbPw7Q2x"
API_KEY = "CanaryApiKey4Zt9"
SLACK_TOKEN = "CanarySlackWq9vRt3nKm8Xz"
DISCORD_TOKEN = "CanaryDiscord-nQx8Kv2LpR7tZ0y_Wc5mHs3JdF9aGb1eUoIqX4rT6kN8vB2cM0zPl5hY7wS3"
SIGNING_KEY = "CanarySigningKey9Lm3"
SIGNING_SECRET = "whsec_" + base64.b64encode(SIGNING_KEY.encode()).decode()
CANARIES = (
    DATABASE_PASSWORD,
    API_KEY,
    SLACK_TOKEN,
    DISCORD_TOKEN,
    SIGNING_SECRET.removeprefix("whsec_"),
)


async def malformed_receiver() -> tuple[asyncio.Server, int]:
    """A webhook receiver whose answer is not HTTP: aiohttp's error then quotes the full URL."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 2x0 OK\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def http_get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def database_text(url: str) -> dict[str, str]:
    """Every text-like column of every table, as one string per ``table.column``."""
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        columns = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'character')"
        )
        found = {}
        for row in columns:
            table, column = row["table_name"], row["column_name"]
            values = await connection.fetch(f'SELECT "{column}"::text AS v FROM "{table}"')
            found[f"{table}.{column}"] = "\n".join(str(value["v"]) for value in values)
        return found
    finally:
        await connection.close()


async def monitor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The command line in this process (in a thread, beside the local servers): its exit
    status, and everything it printed and logged."""
    status = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return status, out + err


def leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary in text]


async def wait_for_port(port: int, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while True:
            try:
                status, _ = await http_get(port, "/healthz")
                if status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.timeout(300)  # the daemon runs as a real process
async def test_no_canary_secret_leaves_the_process(
    site: Site,
    receiver: Receiver,
    fixtures_dir: Path,
    tmp_path: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, str] = {}  # where → what an operator or a client could read there

    # Mistyped configuration: the values are quoted back, never their secrets.
    bad_database = f"postgresql://postgres:{DATABASE_PASSWORD}@127.0.0.1:5432/test"
    bad_webhook = f"hooks.slack.com/services/T0CANARY1/B0CANARY2/{SLACK_TOKEN}"
    minimal = write_config(tmp_path / "minimal.toml", database_url=postgres_url, feeds=[])
    for name, env in {
        "database url without +asyncpg": {"MONITOR_DATABASE_URL": bad_database},
        "webhook url without a scheme": {"MONITOR_WEBHOOK_URL": bad_webhook},
    }.items():
        with monkeypatch.context() as patch:
            for key, value in env.items():
                patch.setenv(key, value)
            status, seen[f"cli: {name}"] = await monitor(capsys, "--config", str(minimal), "once")
        assert status == 2, seen[f"cli: {name}"]
    assert (
        "database_url = 'postgresql://***@127.0.0.1:5432/test'"
        in seen["cli: database url without +asyncpg"]
    )

    # A working session on PostgreSQL, with a password, through a proxy that can be cut.
    database = make_url(postgres_url)
    proxy = await TcpProxy(database.host or "127.0.0.1", database.port or 5432).start()
    database_url = database.set(
        host="127.0.0.1", port=proxy.port, password=DATABASE_PASSWORD
    ).render_as_string(hide_password=False)
    feed = serve_seed(site, fixtures_dir) + f"?api_key={API_KEY}"
    broken_feed = site.serve("/broken.xml", b"not a feed", status=500) + f"?api_key={API_KEY}"
    slack_server, slack_port = await malformed_receiver()
    discord_url = site.serve(f"/api/webhooks/123456789012345678/{DISCORD_TOKEN}", "no", status=500)
    http_port = free_port()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=database_url,
        feeds=[feed, broken_feed],
        webhook_url=receiver.url,
        webhook_secret=SIGNING_SECRET,
        sections={"delivery": {"retry_seconds": [0.1]}, "http": {"port": http_port}},
        webhooks=[
            {
                "name": "slack",
                "format": "slack",
                "url": f"http://127.0.0.1:{slack_port}/services/T0CANARY1/B0CANARY2/{SLACK_TOKEN}",
            },
            {"name": "discord", "format": "discord", "url": discord_url},
        ],
    )
    base = ("--config", str(config))
    try:
        for command in (
            ["once"],
            ["once"],
            ["alerts", "list"],
            ["webhooks", "list"],
            ["webhooks", "test", "slack"],
            ["webhooks", "test", "discord"],
            ["feeds", "list"],
            ["stories", "list"],
            ["check-config"],
        ):
            _status, seen["cli: " + " ".join(command)] = await monitor(capsys, *base, *command)
        ids = re.findall(r"^([0-9a-f-]{36})\s", seen["cli: alerts list"], flags=re.MULTILINE)
        assert len(ids) == 3, seen["cli: alerts list"]
        for alert_id in ids:
            _status, seen[f"cli: alerts show {alert_id}"] = await monitor(
                capsys, *base, "alerts", "show", alert_id
            )

        daemon = await start_daemon(config, tmp_path, output=asyncio.subprocess.PIPE)
        try:
            await wait_for_port(http_port)
            for path in ("/healthz", "/readyz", "/metrics"):
                seen[f"http: {path}"] = (await http_get(http_port, path))[1]
            await proxy.cut()
            status, body = await http_get(http_port, "/readyz")
            assert status == 503
            seen["http: /readyz during an outage"] = body
            await asyncio.sleep(0.5)
            await proxy.restore()
        finally:
            daemon.send_signal(signal.SIGTERM)
            out_bytes, err_bytes = await asyncio.wait_for(daemon.communicate(), 30)
        seen["daemon: run"] = out_bytes.decode() + err_bytes.decode()
        columns = await database_text(database_url)
    finally:
        slack_server.close()
        await proxy.close()

    # The session did what it is meant to: a delivery, a malformed answer, a 500, a failed feed.
    assert len(receiver.deliveries) >= 1
    assert "bad response: 400, Bad status line" in seen["cli: webhooks test slack"]
    assert "HTTP 500" in seen["cli: webhooks test discord"]
    assert re.search(r"failing .*broken\.xml\?api_key=\*\*\*", seen["cli: feeds list"])
    assert '"database": "not answering"' in seen["http: /readyz during an outage"]
    assert '"level": "info"' in seen["daemon: run"]  # the daemon's JSON log lines are in
    # The fetcher still has the feed's real address.
    assert API_KEY in columns.pop("feeds.url")
    assert "bad response" in columns["attempts.error"]

    found = {where: leaks(text) for where, text in {**seen, **columns}.items()}
    assert {where: canaries for where, canaries in found.items() if canaries} == {}
