"""Wall-clock start-up of ``monitor`` commands, each in a fresh process, best and median of N.

Commands that need no database (``--help``, ``topics check``, ``classify`` on one line) are
timed as a user runs them, and ``feeds list`` on a SQLite database of ``--feeds`` feeds (the
shipped config without its own feeds; the feeds are in the database, as ``feeds import`` puts
them); ``--target`` is the issue's ceiling for ``--help``, ``--list-target`` for ``feeds list``.
Python's bytecode cache is on for the commands, as it is for an installed package, whatever
PYTHONDONTWRITEBYTECODE says here.

Usage: python bench/startup.py [--runs 7] [--target 0.3] [--feeds 10000] [--list-target 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "monitor.toml"
MONITOR = Path(sys.executable).with_name("monitor")

COMMANDS: list[tuple[str, list[str], str]] = [
    ("python -c pass (interpreter alone)", [sys.executable, "-c", "pass"], ""),
    ("monitor --help", [str(MONITOR), "--help"], ""),
    ("monitor topics check", [str(MONITOR), "--config", str(CONFIG), "topics", "check"], ""),
    (
        "monitor classify (one line)",
        [str(MONITOR), "--config", str(CONFIG), "classify"],
        '{"title": "Iraq and US hold security talks"}\n',
    ),
]


ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}


def seconds_to_run(command: list[str], stdin: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=ENVIRONMENT,
    )
    return time.perf_counter() - started


def database_of(feeds: int, folder: Path) -> Path:
    """A config file for a SQLite database holding ``feeds`` feeds, at the current schema."""
    sys.path.insert(0, str(ROOT))
    from monitor.store.engine import open_engine, upgrade_schema
    from monitor.store.facade import Store

    database_url = f"sqlite+aiosqlite:///{folder / 'monitor.db'}"

    async def fill() -> None:
        engine = open_engine(database_url)
        await upgrade_schema(engine)
        urls = [(f"https://news{i % 500}.example/feeds/{i}.xml", None) for i in range(feeds)]
        await Store(engine).sync_config_feeds(urls, datetime.now(UTC))
        await engine.dispose()

    asyncio.run(fill())
    shipped = CONFIG.read_text(encoding="utf-8").split("\n[[feeds]]", 1)[0]
    config = folder / "monitor.toml"
    config.write_text(
        re.sub(r"(?m)^database_url = .*$", f'database_url = "{database_url}"', shipped),
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--target", type=float, default=0.3, help="ceiling for --help, seconds")
    parser.add_argument("--feeds", type=int, default=10_000, help="feeds for `feeds list`")
    parser.add_argument(
        "--list-target", type=float, default=1.0, help="ceiling for feeds list, seconds"
    )
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    listed = database_of(args.feeds, Path(folder.name))
    listing = f"monitor feeds list ({args.feeds} feeds)"
    commands = [*COMMANDS, (listing, [str(MONITOR), "--config", str(listed), "feeds", "list"], "")]
    print(f"{'command':40} {'best':>7} {'median':>7}  ({args.runs} runs each)")
    medians = {}
    for name, command, stdin in commands:
        seconds_to_run(command, stdin)  # warm the file cache, as for any command run twice
        times = [seconds_to_run(command, stdin) for _ in range(args.runs)]
        medians[name] = statistics.median(times)
        print(f"{name:40} {min(times):6.3f}s {medians[name]:6.3f}s")
    folder.cleanup()
    verdict = "within" if medians["monitor --help"] <= args.target else "OVER"
    print(f"monitor --help median {medians['monitor --help']:.3f}s: {verdict} {args.target}s")
    verdict = "within" if medians[listing] <= args.list_target else "OVER"
    print(f"{listing} median {medians[listing]:.3f}s: {verdict} {args.list_target}s")


if __name__ == "__main__":
    main()
