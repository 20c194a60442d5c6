"""The ``[fetch]`` section: bounds on every HTTP fetch of feeds and article pages."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchSettings(_Section):
    """Bounds on every HTTP fetch of feeds and article pages."""

    user_agent: str = "monitor/0.1 (+https://github.com/monitor-news/monitor)"
    connect_timeout_seconds: float = Field(default=10, gt=0)
    read_timeout_seconds: float = Field(default=20, gt=0)
    total_timeout_seconds: float = Field(default=60, gt=0)
    max_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=10, ge=0)
    concurrency: int = Field(default=8, ge=1)
    per_host_concurrency: int = Field(default=2, ge=1)
    allow_networks: tuple[str, ...] = ()

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (e.g. 10.0.0.0/8)") from None
        return value
