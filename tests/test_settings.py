"""Configuration: the committed file, environment overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.settings import ConfigError, load_settings
from tests.conftest import DEFAULT_CONFIG

MINIMAL_TOPIC = """
[[topics]]
name = "t"
[topics.terms]
solar = ["solar"]
[[topics.rules]]
all = ["solar"]
"""


def test_the_committed_config_is_valid() -> None:
    settings = load_settings(DEFAULT_CONFIG)
    assert settings.database_url == "sqlite+aiosqlite:///data/monitor.db"
    assert [topic.name for topic in settings.topics] == ["us-iraq-security-talks"]
    assert len(settings.feeds) >= 5
    assert settings.webhook_url is None


def test_environment_variables_override_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql+asyncpg://monitor@db/monitor")
    monkeypatch.setenv("MONITOR_WEBHOOK_URL", "https://hooks.example/monitor")
    monkeypatch.setenv("MONITOR_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    monkeypatch.setenv("MONITOR_LOG_FORMAT", "json")
    monkeypatch.setenv("MONITOR_POLL__INTERVAL_SECONDS", "120")
    settings = load_settings(DEFAULT_CONFIG)
    assert settings.database_url == "postgresql+asyncpg://monitor@db/monitor"
    assert settings.webhook_url == "https://hooks.example/monitor"
    assert settings.log_format == "json"
    assert settings.poll.interval_seconds == 120
    assert settings.poll.tick_seconds == 30  # the rest of the section still comes from the file
    assert "MfKQ9r8" not in repr(settings)


def test_monitor_config_chooses_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text(MINIMAL_TOPIC.replace('"t"', '"mine"'))
    monkeypatch.setenv("MONITOR_CONFIG", str(config))
    assert [topic.name for topic in load_settings().topics] == ["mine"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("", "topics: required but not set"),
        (MINIMAL_TOPIC.replace('"t"', '"Bad Name"'), "topics.0.name = 'Bad Name'"),
        ('[[topics]]\nname = "t"\n[topics.terms]\nsolar = ["sun"]\n', "topics.0.rules"),
        (MINIMAL_TOPIC.replace('solar = ["solar"]', 'solar = [" "]'), "a term is blank"),
        (MINIMAL_TOPIC + MINIMAL_TOPIC, "topic names must be unique; repeated: t"),
        (MINIMAL_TOPIC + 'words = ["b"]\n', "topics.0.rules.0.words"),
        (
            MINIMAL_TOPIC.replace('all = ["solar"]', 'all = ["wind"]'),
            "topic 't', rule 1: 'all' names an unknown term list 'wind' (known: solar)",
        ),
        (
            MINIMAL_TOPIC + '[[feeds]]\nurl = "feeds.example/rss"\n',
            "feeds.0.url = 'feeds.example/rss': expected an http:// or https:// URL",
        ),
    ],
)
def test_mistakes_are_named(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            '[fetch]\nallow_networks = ["10.0.0.0/8", "intranet"]\n',
            "fetch.allow_networks = ['10.0.0.0/8', 'intranet']: 'intranet' is not a network",
        ),
        (
            "[poll]\nmin_interval_seconds = 600\nmax_interval_seconds = 60\n",
            "min_interval_seconds is above max_interval_seconds",
        ),
        ("[fetch]\nper_host_concurrency = 0\n", "fetch.per_host_concurrency = 0"),
    ],
)
def test_fetch_and_poll_mistakes_are_named(tmp_path: Path, section: str, message: str) -> None:
    config = tmp_path / "monitor.toml"
    config.write_text('[[topics]]\nname = "t"\nany_of = ["a"]\n' + section)
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    assert message in str(error.value)
