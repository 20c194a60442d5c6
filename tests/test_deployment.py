"""The container deployment, checked without Docker: docker-compose.yml against the Compose
Specification's schema, the Dockerfile's promises, and its start-up sequence run natively
against the local PostgreSQL (migrate, start, healthy, poll, alert, stop)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import FIXTURES, ROOT
from tests.test_http_server import free_port
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site

DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def final_stage() -> str:
    return DOCKERFILE.rsplit("\nFROM ", 1)[1]


def instruction(name: str) -> str:
    """The (last) instruction ``name`` of the final stage, continuation lines joined."""
    text = final_stage().replace("\\\n", " ")
    found = re.findall(rf"^{name}\s+(.+)$", text, flags=re.MULTILINE)
    assert found, f"no {name} in the final stage"
    return str(found[-1])


def dockerfile_env() -> dict[str, str]:
    pairs = shlex.split(instruction("ENV"))
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(COMPOSE)


def test_the_compose_file_runs_monitor_after_a_healthy_postgres() -> None:
    postgres, monitor = COMPOSE["services"]["postgres"], COMPOSE["services"]["monitor"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert set(COMPOSE["volumes"]) == {"pgdata"}
    assert monitor["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert monitor["restart"] == "unless-stopped"
    assert monitor["environment"]["MONITOR_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in monitor["environment"]["MONITOR_DATABASE_URL"]
    assert monitor["deploy"]["replicas"] == "${MONITOR_REPLICAS:-1}"
    assert "POSTGRES_PASSWORD:?" in postgres["environment"]["POSTGRES_PASSWORD"]


def test_env_example_holds_no_secret_and_its_keys_are_documented() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    keys = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE)
    assert {"POSTGRES_PASSWORD", "MONITOR_WEBHOOK_URL", "MONITOR_WEBHOOK_SECRET"} <= set(keys)
    assert "whsec_" not in example.replace("whsec_<base64>", "")
    for key in keys:
        assert key in readme, f"{key} is not in the README"


def test_the_image_is_small_safe_and_runs_the_daemon() -> None:
    assert DOCKERFILE.count("\nFROM ") + DOCKERFILE.startswith("FROM") >= 2  # multi-stage
    assert "-slim" in final_stage().splitlines()[0]
    assert instruction("USER") != "root"
    assert json.loads(instruction("CMD")) == ["monitor", "run"]
    assert "/healthz" in instruction("HEALTHCHECK")
    for tool in ("uv", "gcc", "build-essential", "apt-get install"):
        assert f"{tool} " not in final_stage().replace("/app/.venv", "")
    assert "uv sync --frozen --no-dev" in DOCKERFILE  # dependencies from the lock file
    env = dockerfile_env()
    assert (env["MONITOR_HTTP_HOST"], env["MONITOR_LOG_FORMAT"]) == ("0.0.0.0", "json")


@pytest.mark.postgres
async def test_the_container_start_up_runs_natively_on_postgresql(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, postgres_url: str
) -> None:
    """What the container does, on this machine: the image's environment and command, the
    compose file's database URL shape, its health check, and its stop signal."""
    config = tmp_path / "monitor.toml"
    config.write_text(_local_config(site, fixtures_dir))
    port = free_port()
    env = {
        **os.environ,
        **dockerfile_env(),
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "MONITOR_CONFIG": str(config),
        "MONITOR_DATABASE_URL": postgres_url,
        "MONITOR_HTTP_HOST": "127.0.0.1",
        "MONITOR_HTTP_PORT": str(port),
        "MONITOR_WEBHOOK_URL": receiver.url,
        "MONITOR_FETCH__ALLOW_NETWORKS": '["127.0.0.0/8"]',  # the test's feed is local
    }
    command = json.loads(instruction("CMD"))
    daemon = await asyncio.create_subprocess_exec(
        *command,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    health = json.loads(instruction("HEALTHCHECK").split("CMD", 1)[1].strip())
    health = [part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in health]
    health[0] = sys.executable
    try:
        deadline = time.monotonic() + 30
        while True:
            probe = await asyncio.create_subprocess_exec(
                *health, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
            )
            if await probe.wait() == 0:
                break
            assert time.monotonic() < deadline, "the health check never passed"
            await asyncio.sleep(0.3)
        await receiver.wait_for(1, seconds=30)
        assert receiver.deliveries[0].payload["type"] == "article.matched"
    finally:
        daemon.send_signal(getattr(signal, instruction("STOPSIGNAL")))
        grace = float(COMPOSE["services"]["monitor"]["stop_grace_period"].rstrip("s"))
        _, err = await asyncio.wait_for(daemon.communicate(), grace)
    assert daemon.returncode == 0, err.decode()[-2000:]
    events = [
        json.loads(line)["event"] for line in err.decode().splitlines() if line.startswith("{")
    ]
    assert events[-1] == "monitor stopped"


def _local_config(site: Site, fixtures_dir: Path) -> str:
    """The shipped config with its feeds replaced by a local one."""
    shipped = (ROOT / "config" / "monitor.toml").read_text()
    without_feeds = shipped.split("\n[[feeds]]")[0]
    return without_feeds + f'\n[[feeds]]\nurl = "{serve_seed(site, fixtures_dir)}"\n'
