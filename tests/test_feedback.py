"""Operator feedback on a topic: stored per topic, shown, removable, and used by the next
classification (the CLI in real processes; the store on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app.http_server import Liveness
from monitor.app.jobs import Worker
from monitor.app.resources import open_pipeline, open_store, utc_now
from monitor.match.topic import match_topic
from monitor.service.context import BadInputError, NotFoundError, Services
from monitor.service.feedback import (
    MAX_FEEDBACK_TEXT,
    clean_feedback_text,
    compile_topics_from,
    give_feedback,
    list_feedback,
    remove_feedback,
)
from monitor.store.engine import alembic_config, open_engine
from tests.conftest import write_config
from tests.test_cli import monitor
from tests.test_pipeline import SEED_LEAD, SEED_TITLE, serve_seed
from tests.web import Receiver, Site

# Relations news that the default topic puts in the digest only, near none of its examples,
# until an operator says this kind of story matters.
QUIET = {"title": "US embassy in Baghdad hosts Iraqi trade delegation"}
QUIET_PARAPHRASE = "Iraqi trade delegation visits the US embassy in Baghdad"
SEED = {"title": SEED_TITLE, "summary": SEED_LEAD}
SEED_PARAPHRASE = "US opens talks with Iraq on withdrawing American troops from the country"


async def classified(config: Path, cwd: Path, *items: dict[str, str]) -> list[dict[str, Any]]:
    lines = "".join(json.dumps(item) + "\n" for item in items).encode()
    status, out, err = await monitor("--config", str(config), "classify", cwd=cwd, stdin=lines)
    assert status == 0, err
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.slow  # eight monitor processes: about a minute on a busy machine
async def test_feedback_round_trip_through_the_cli(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
    )
    status, _, err = await monitor("--config", str(config), "once", cwd=tmp_path)
    assert status == 0, err
    status, out, _ = await monitor("--config", str(config), "alerts", "list", cwd=tmp_path)
    alert_id = next(line.split()[0] for line in out.splitlines() if SEED_TITLE[:20] in line)
    before = await classified(config, tmp_path, SEED, {"title": SEED_PARAPHRASE}, QUIET)
    assert [verdict["level"] for verdict in before] == ["alert", "alert", "digest"]

    status, out, err = await monitor(
        "--config", str(config), "topics", "feedback", alert_id, "--not-relevant", cwd=tmp_path
    )
    assert status == 0, err
    assert f"counter-example of us-iraq-security-talks: {SEED_TITLE}" in out
    status, out, err = await monitor(
        "--config", str(config), "topics", "feedback", "--relevant", QUIET_PARAPHRASE, cwd=tmp_path
    )
    assert status == 0, err

    after = await classified(config, tmp_path, SEED, {"title": SEED_PARAPHRASE}, QUIET)
    assert [verdict["level"] for verdict in after] == [None, None, "alert"]
    assert "marked not relevant by an operator" in after[1]["rules"][0]
    assert after[2]["path"] == "semantic"
    assert after[2]["semantic"]["nearest_example"] == QUIET_PARAPHRASE
    status, out, _ = await monitor("--config", str(config), "topics", "check", cwd=tmp_path)
    assert status == 0
    assert f"  - #1 {SEED_TITLE}" in out
    assert f"  + #2 {QUIET_PARAPHRASE}" in out

    status, out, _ = await monitor(
        "--config", str(config), "topics", "feedback", "--remove", "1", cwd=tmp_path
    )
    assert status == 0
    restored = await classified(config, tmp_path, SEED, QUIET)
    assert [verdict["level"] for verdict in restored] == ["alert", "alert"]  # QUIET: example kept


async def test_topics_check_reads_no_database_it_would_have_to_create_or_migrate(
    tmp_path: Path,
) -> None:
    database = tmp_path / "monitor.db"
    config = write_config(
        tmp_path / "monitor.toml", database_url=f"sqlite+aiosqlite:///{database}", feeds=[]
    )
    status, out, _ = await monitor("--config", str(config), "topics", "check", cwd=tmp_path)
    assert status == 0
    assert f"Feedback: could not be read: there is no database at {database} yet" in out
    assert not database.exists()

    engine = open_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as connection:

        def to_0008(sync: Any) -> None:
            settings = alembic_config()
            settings.attributes["connection"] = sync
            command.upgrade(settings, "0008")

        await connection.run_sync(to_0008)
    await engine.dispose()
    status, out, _ = await monitor("--config", str(config), "topics", "check", cwd=tmp_path)
    assert status == 0
    assert "Feedback: could not be read: the database schema (0008) is older" in out
    with sqlite3.connect(database) as still:
        assert still.execute("SELECT version_num FROM alembic_version").fetchall() == [("0008",)]


async def test_feedback_is_stored_listed_and_removed(make_settings: Any) -> None:
    settings = make_settings([], None)
    async with open_store(settings) as store:
        services = Services.over(store, settings, utc_now)
        entry, new = await give_feedback(services, relevant=True, text=QUIET_PARAPHRASE)
        again, new_again = await give_feedback(services, relevant=True, text=QUIET_PARAPHRASE)
        assert (new, new_again, again.id) == (True, False, entry.id)
        counter, _ = await give_feedback(services, relevant=False, text=SEED_PARAPHRASE)
        assert [(e.kind, e.text) for e in await list_feedback(services)] == [
            ("example", QUIET_PARAPHRASE),
            ("counter_example", SEED_PARAPHRASE),
        ]
        assert await store.feedback.version() == (2, counter.id)
        [topic] = await compile_topics_from(store, settings)
        assert match_topic(topic, QUIET["title"]).level == "alert"
        assert match_topic(topic, SEED_TITLE, SEED_LEAD).level is None

        assert (await remove_feedback(services, counter.id)).text == SEED_PARAPHRASE
        with pytest.raises(NotFoundError):
            await remove_feedback(services, counter.id)
        [topic] = await compile_topics_from(store, settings)
        assert match_topic(topic, SEED_TITLE, SEED_LEAD).level == "alert"
        with pytest.raises(NotFoundError):
            await give_feedback(services, relevant=True, text=QUIET_PARAPHRASE, topic="nope")
        with pytest.raises(NotFoundError):
            await give_feedback(services, relevant=False, alert_id="no-such-alert")


async def test_the_daemon_recompiles_its_topics_when_feedback_changes(make_settings: Any) -> None:
    settings = make_settings([], None)
    async with open_pipeline(settings) as context:
        worker = Worker(context, AsyncIOScheduler(), Liveness())
        await worker.refresh_topics()
        assert match_topic(worker.context.topics[0], QUIET["title"]).level == "digest"
        services = Services.over(context.store, settings, utc_now)
        await give_feedback(services, relevant=True, text=QUIET_PARAPHRASE)
        await worker.refresh_topics()
        assert match_topic(worker.context.topics[0], QUIET["title"]).level == "alert"


def test_feedback_text_is_cleaned_and_bounded() -> None:
    assert clean_feedback_text("Iraq\x1b[31m talks\r\n on\u202e troops\x00") == (
        "Iraq [31m talks on troops"
    )


async def test_feedback_that_is_too_long_or_too_short_is_refused(make_settings: Any) -> None:
    settings = make_settings([], None)
    async with open_store(settings) as store:
        services = Services.over(store, settings, utc_now)
        with pytest.raises(BadInputError, match="at most"):
            await give_feedback(services, relevant=True, text="Iraq " * MAX_FEEDBACK_TEXT)
        with pytest.raises(BadInputError, match="at least three words"):
            await give_feedback(services, relevant=True, text="Iraq\x00\x00")
        assert await list_feedback(services) == []
