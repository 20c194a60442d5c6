"""Wall-clock start-up of ``monitor`` commands, each in a fresh process, best and median of N.

Commands that need no database (``--help``, ``topics check``, ``classify`` on one line) are
timed as a user runs them; ``--target`` is the issue's ceiling for ``--help``.

Usage: python bench/startup.py [--runs 7] [--target 0.3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
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


def seconds_to_run(command: list[str], stdin: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, input=stdin, capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--target", type=float, default=0.3, help="ceiling for --help, seconds")
    args = parser.parse_args()
    print(f"{'command':40} {'best':>7} {'median':>7}  ({args.runs} runs each)")
    medians = {}
    for name, command, stdin in COMMANDS:
        seconds_to_run(command, stdin)  # warm the file cache, as for any command run twice
        times = [seconds_to_run(command, stdin) for _ in range(args.runs)]
        medians[name] = statistics.median(times)
        print(f"{name:40} {min(times):6.3f}s {medians[name]:6.3f}s")
    verdict = "within" if medians["monitor --help"] <= args.target else "OVER"
    print(f"monitor --help median {medians['monitor --help']:.3f}s: {verdict} {args.target}s")


if __name__ == "__main__":
    main()
