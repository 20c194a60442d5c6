"""Several endpoints end to end: formats, minimum levels, the digest, and their settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.app.jobs import deliver_pending, queue_digest
from monitor.app.once import run_once
from monitor.app.resources import open_pipeline
from monitor.deliver.webhook import configured_endpoints
from monitor.settings import ConfigError, load_settings
from monitor.triggers import schedule_trigger
from tests.conftest import DEFAULT_CONFIG, write_config
from tests.test_pipeline import page_for, serve_seed
from tests.web import Item, Receiver, Site

ATTACK = "Drone attack targets base hosting US troops in western Iraq"


async def test_each_endpoint_gets_what_it_asked_for(
    site: Site, fixtures_dir: Path, tmp_path: Path, database_url: str
) -> None:
    related = Item(
        title=ATTACK,
        link=page_for(
            site,
            "/attack",
            ATTACK,
            "Two drones were shot down near Ain al-Asad air base, a US official said.",
        ),
        description="Two drones were shot down near Ain al-Asad air base, a US official said.",
    )
    ops, analyst = await Receiver().start(), await Receiver().start()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=database_url,
        feeds=[serve_seed(site, fixtures_dir, extra=(related,))],
        webhooks=[
            {"name": "ops", "url": ops.url, "format": "slack"},
            {
                "name": "analyst",
                "url": analyst.url,
                "min_level": "digest",
                "digest": "daily 07:30",
                "timezone": "Europe/Kyiv",
            },
        ],
    )
    settings = load_settings(config)
    try:
        report = await run_once(settings)
        assert (report.cycle.matches, report.delivery.sent) == (2, 2)
        [slack] = [d.payload for d in ops.deliveries]
        assert slack["blocks"][0]["text"]["text"].startswith("*<")  # Slack blocks
        [alert] = [d.payload for d in analyst.deliveries]
        assert alert["type"] == "article.matched"
        assert alert["level"] == "alert"

        async with open_pipeline(settings) as context:
            analyst_endpoint = next(e for e in context.endpoints if e.name == "analyst")
            ops_endpoint = next(e for e in context.endpoints if e.name == "ops")
            assert await queue_digest(context, ops_endpoint) is None  # it takes no digest
            digest_id = await queue_digest(context, analyst_endpoint)
            assert digest_id is not None
            assert await queue_digest(context, analyst_endpoint) is None  # nothing new
            await deliver_pending(context)
    finally:
        await ops.close()
        await analyst.close()
    digest = analyst.deliveries[-1].payload
    assert (digest["type"], digest["id"], digest["endpoint"]) == ("digest", digest_id, "analyst")
    assert [story["title"] for story in digest["stories"]] == [ATTACK]
    assert digest["stories"][0]["matched_rules"][0] == "attacks"
    assert len(ops.deliveries) == 1  # min_level alert: the digest story never reaches ops


def webhook_config(tmp_path: Path, **webhook: Any) -> Path:
    return write_config(
        tmp_path / "monitor.toml",
        database_url="sqlite+aiosqlite:///x.db",
        feeds=[],
        webhooks=[{"name": "ops", "url": "https://h.example/x", **webhook}],
    )


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ({"format": "teams"}, "webhooks.0.format = 'teams'"),
        ({"min_level": "urgent"}, "webhooks.0.min_level"),
        ({"digest": "weekly"}, "expected 'daily HH:MM', 'hourly' or 'cron"),
        ({"digest": "cron 0 8 * *"}, "webhooks.0.digest"),
        ({"timezone": "Mars/Olympus"}, "expected an IANA time zone"),
        ({"topics": ["weather"]}, "webhook 'ops' names unknown topics: weather"),
        ({"secrets": ["hunter2"]}, "webhooks.0.secrets.0 = ***: expected a secret"),
        ({"url": "ftp://h.example"}, "webhooks.0.url = 'ftp://h.example'"),
        ({"name": "default"}, None),
    ],
)
def test_webhook_settings_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: dict[str, Any], message: str | None
) -> None:
    if message is None:  # "default" is taken by webhook_url
        monkeypatch.setenv("MONITOR_WEBHOOK_URL", "https://h.example/default")
        message = "webhook names must be unique; repeated: default"
    with pytest.raises(ConfigError) as error:
        load_settings(webhook_config(tmp_path, **webhook))
    assert message in str(error.value)
    assert "hunter2" not in str(error.value)


def test_endpoints_come_from_webhook_url_and_webhooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", "https://h.example/default")
    settings = load_settings(webhook_config(tmp_path, topics=["us-iraq-security-talks"]))
    default, ops = configured_endpoints(settings.all_webhooks())
    assert (default.name, default.url, ops.name) == ("default", "https://h.example/default", "ops")
    assert ops.wants("us-iraq-security-talks")
    assert not ops.wants("weather")
    assert default.wants("weather")
    assert [e.name for e in configured_endpoints(load_settings(DEFAULT_CONFIG).all_webhooks())] == [
        "default"
    ]


def test_digest_schedules() -> None:
    assert str(schedule_trigger("daily 08:00", "Europe/Kyiv")) == ("cron[hour='8', minute='0']")
    assert "minute='0'" in str(schedule_trigger("hourly", "UTC"))
    assert "day_of_week='mon-fri'" in str(schedule_trigger("cron 0 8 * * mon-fri", "UTC"))
