"""The package as users install it: a wheel built from this tree, installed (not editable)
into a fresh virtual environment, migrates its database and polls, with no file of the
source tree in reach."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site

UV = ROOT / ".tools" / "bin" / "uv"


async def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        *map(str, args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 300)
    assert process.returncode == 0, out.decode()
    return out.decode()


@pytest.mark.timeout(600)  # about 20 s with a warm uv cache
async def test_the_built_wheel_migrates_and_polls(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path
) -> None:
    if not UV.exists():
        pytest.fail(f"{UV} is missing: `make install-dev` installs it")
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "UV_PROJECT", "MONITOR_"))
    } | {"UV_PYTHON_DOWNLOADS": "never"}
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    await run(UV, "build", "--wheel", "--out-dir", dist, ROOT, cwd=tmp_path, env=clean)
    [wheel] = dist.glob("monitor-*.whl")
    pins = tmp_path / "requirements.txt"
    await run(
        UV, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes",
        "--output-file", pins, cwd=ROOT, env=clean,
    )  # fmt: skip
    await run(UV, "venv", "--quiet", "--python", "python3", venv, cwd=tmp_path, env=clean)
    python = venv / "bin" / "python"
    await run(
        UV, "pip", "install", "--quiet", "--python", python, "-r", pins, wheel,
        cwd=tmp_path, env=clean,
    )  # fmt: skip
    where = await run(
        python, "-c", "import monitor; print(monitor.__file__)",
        cwd=tmp_path, env=clean,
    )  # fmt: skip
    assert where.strip().startswith(str(venv)), where  # the installed copy, not this tree

    config = write_config(
        tmp_path / "monitor.toml",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'data' / 'monitor.db'}",
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
    )
    monitor = venv / "bin" / "monitor"
    out = await run(monitor, "--config", config, "db", "upgrade", cwd=tmp_path, env=clean)
    assert out.strip().endswith("database schema is up to date")
    out = await run(monitor, "--config", config, "once", cwd=tmp_path, env=clean)
    assert "feeds polled: 1 (0 failed), new articles: 1, matches: 1, alerts sent: 1" in out
    assert len(receiver.deliveries) == 1
