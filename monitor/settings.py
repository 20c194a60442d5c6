"""The one validated settings object: the TOML config file, overridden by ``MONITOR_*`` vars."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from monitor.deliver.settings import (
    DEFAULT_WEBHOOK,
    DeliverySettings,
    HttpUrlText,
    ScheduleText,
    WebhookSecret,
    WebhookSettings,
)
from monitor.fetch.settings import FetchSettings
from monitor.match.settings import TopicSettings
from monitor.stories.settings import StorySettings
from monitor.text.plain import clip
from monitor.text.redact import redact

DEFAULT_CONFIG_PATH = Path("config/monitor.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key, the value, what was expected."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeedSettings(_Section):
    """A feed to poll."""

    url: HttpUrlText
    name: str | None = None


class PollSettings(_Section):
    """How often feeds are checked: each feed's interval follows its publishing rate."""

    interval_seconds: float = Field(default=900, gt=0)
    min_interval_seconds: float = Field(default=300, gt=0)
    max_interval_seconds: float = Field(default=6 * 3600, gt=0)
    max_hint_seconds: float = Field(default=24 * 3600, gt=0)
    tick_seconds: float = Field(default=30, gt=0)
    # How long a replica holds the feeds it is checking; a killed replica's feeds go to the
    # others after this. Longer than a check can take (fetch timeouts and article pages).
    lease_seconds: float = Field(default=300, gt=0)
    max_backoff_seconds: float = Field(default=6 * 3600, gt=0)
    article_concurrency: int = Field(default=4, ge=1)
    # At most this many matched articles are saved in one transaction (those waiting while
    # the previous one commits); 1 saves each alone.
    save_batch: int = Field(default=32, ge=1, le=500)

    @model_validator(mode="after")
    def _ordered(self) -> PollSettings:
        if self.min_interval_seconds > self.max_interval_seconds:
            raise ValueError("min_interval_seconds is above max_interval_seconds")
        return self


class RetentionSettings(_Section):
    """What a daily job prunes. Articles themselves stay (their URLs and GUIDs are how a story
    is known), so a pruned story never alerts again. 0 keeps forever."""

    article_text_days: int = Field(default=90, ge=0)
    delivered_alert_days: int = Field(default=30, ge=0)
    run_at: ScheduleText = "daily 03:30"  # UTC


class HttpSettings(_Section):
    """The daemon's HTTP server: health checks, metrics, the console, the API and the feeds.

    Bound to loopback, the console and the API are open to local users; bound elsewhere they
    answer only with ``token`` (a bearer token for the API, a login for the console).
    ``/healthz``, ``/readyz`` and ``/metrics`` never ask for it.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (it is logged)
    token: SecretStr | None = None
    read_only: bool = False  # the console and the API show, and change nothing
    console: bool = True  # false: only /healthz, /readyz and /metrics are served

    @field_validator("token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("the token must be at least 16 characters long")
        return value


class Settings(BaseSettings):
    """Everything the daemon and the CLI need, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="MONITOR_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database_url: str = "sqlite+aiosqlite:///data/monitor.db"
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    webhook_url: HttpUrlText | None = None
    webhook_secret: WebhookSecret | None = None
    webhooks: tuple[WebhookSettings, ...] = ()
    fetch: FetchSettings = FetchSettings()
    poll: PollSettings = PollSettings()
    delivery: DeliverySettings = DeliverySettings()
    stories: StorySettings = StorySettings()
    http: HttpSettings = HttpSettings()
    retention: RetentionSettings = RetentionSettings()
    # MONITOR_HTTP_HOST and MONITOR_HTTP_PORT, the names container platforms expect; they
    # override [http] host and port.
    http_host: str | None = None
    http_port: int | None = Field(default=None, ge=0, le=65535)
    topics: tuple[TopicSettings, ...] = Field(min_length=1)
    feeds: tuple[FeedSettings, ...] = ()

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
            )
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _unique_topic_names(self) -> Settings:
        names = [topic.name for topic in self.topics]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"topic names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _webhooks_fit(self) -> Settings:
        names = [webhook.name for webhook in self.webhooks]
        if self.webhook_url:
            names.append(DEFAULT_WEBHOOK)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(
                f"webhook names must be unique; repeated: {', '.join(repeated)} "
                f"(webhook_url is the endpoint named {DEFAULT_WEBHOOK!r})"
            )
        topics = {topic.name for topic in self.topics}
        for webhook in self.webhooks:
            unknown = sorted(set(webhook.topics) - topics)
            if unknown:
                raise ValueError(
                    f"webhook {webhook.name!r} names unknown topics: {', '.join(unknown)}"
                )
        return self

    def all_webhooks(self) -> tuple[WebhookSettings, ...]:
        """``webhook_url``/``webhook_secret`` as the endpoint named "default", then
        ``[[webhooks]]``."""
        if not self.webhook_url:
            return self.webhooks
        default = WebhookSettings(
            name=DEFAULT_WEBHOOK,
            url=self.webhook_url,
            secrets=(self.webhook_secret,) if self.webhook_secret else (),
        )
        return (default, *self.webhooks)

    def http_address(self) -> tuple[str, int]:
        """Where the HTTP server listens."""
        host = self.http_host if self.http_host is not None else self.http.host
        port = self.http_port if self.http_port is not None else self.http.port
        return host, port

    def topic(self, name: str) -> TopicSettings:
        """Return the topic called ``name``, or raise ConfigError naming the known ones."""
        for topic in self.topics:
            if topic.name == name:
                return topic
        known = ", ".join(t.name for t in self.topics)
        raise ConfigError(f"no topic named {name!r}; known topics: {known}")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment must win over them.
        return env_settings, init_settings


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path:
    """The config file: ``--config``, else ``MONITOR_CONFIG``, else the committed default."""
    if explicit is not None:
        return explicit
    if environ.get("MONITOR_CONFIG"):
        return Path(environ["MONITOR_CONFIG"])
    return DEFAULT_CONFIG_PATH


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration; ConfigError carries a message fit for an operator."""
    environ = os.environ if environ is None else environ
    path = config_path(path, environ)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    try:
        return Settings(**data)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, path)) from None


def describe_validation_error(error: ValidationError, path: Path) -> str:
    """One line per problem: the key, the offending value (secrets hidden) and what was expected."""
    lines = [f"invalid configuration ({path}, MONITOR_* environment):"]
    problems = error.errors(include_url=False)
    locations = [problem["loc"] for problem in problems]
    for problem in problems:
        if any(
            len(other) > len(problem["loc"]) and other[: len(problem["loc"])] == problem["loc"]
            for other in locations
        ):
            continue  # a container's error restates the error of one of its items
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        value = problem.get("input")
        shown = "***" if "secret" in key or "token" in key else redact(repr(value))
        if problem["type"] == "missing":
            lines.append(f"  {key}: required but not set")
        elif problem["type"] == "extra_forbidden":
            lines.append(f"  {key} = {shown}: unknown key")
        else:
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"  {key} = {clip(shown, 120)}: {message}")
    return "\n".join(lines)
