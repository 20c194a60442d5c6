"""monitor against its peers on the same local feeds, cold against cold, in one run.

Serves N local feeds of M items each (a share of them on the default topic, with article
pages) and a webhook receiver from a separate process on loopback, then times:

- monitor: ``monitor once`` as a user runs it, in a fresh process on an empty SQLite database
  (start-up, fetch, parse, match, fetch and extract the matching articles, store, deliver);
- naive: ``feedparser.parse(url)`` for each feed in turn, what a simple script would do;
- reader: lemon24/reader (``make_reader`` on an empty database, ``update_feeds()``), if the
  ``reader`` package is installed (it is a dev dependency).

Usage: python bench/peers.py [--feeds 200] [--items 50] [--on-topic 0.02]
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import free_port, naive_loop, serve, wait_until_up  # noqa: E402
from tests.conftest import write_config  # noqa: E402

MONITOR = Path(sys.executable).with_name("monitor")


def run_monitor(urls: list[str], hook: str, folder: Path) -> float:
    config = write_config(
        folder / "peers.toml",
        feeds=urls,
        database_url=f"sqlite+aiosqlite:///{folder}/monitor.db",
        webhook_url=hook,
    )
    started = time.perf_counter()
    subprocess.run([str(MONITOR), "--config", str(config), "once"], check=True, capture_output=True)
    return time.perf_counter() - started


def run_reader(urls: list[str], folder: Path) -> tuple[float, int] | None:
    try:
        from reader import make_reader
    except ImportError:
        return None
    started = time.perf_counter()
    peer = make_reader(str(folder / "reader.sqlite"))
    for url in urls:
        peer.add_feed(url)
    peer.update_feeds()
    entries = peer.get_entry_counts().total
    peer.close()
    return time.perf_counter() - started, int(entries or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--on-topic", type=float, default=0.02)
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.Process(
        target=serve, daemon=True, args=(port, args.feeds, args.items, args.on_topic)
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    urls = [f"{base}/feed/{i}.xml" for i in range(args.feeds)]
    wait_until_up(urls[0])
    try:
        with tempfile.TemporaryDirectory() as folder:
            monitor_seconds = run_monitor(urls, f"{base}/hook", Path(folder))
            naive_seconds, naive_entries = naive_loop(urls)
            reader_run = run_reader(urls, Path(folder))
    finally:
        server.terminate()
        server.join()

    total = args.feeds * args.items
    monitor_rate = total / monitor_seconds
    print(f"{args.feeds} feeds x {args.items} items = {total} entries, on loopback, cold each")
    print(f"monitor once (process) : {monitor_seconds:7.2f} s {monitor_rate:9.0f} entries/s")
    naive_rate = naive_entries / naive_seconds
    print(f"naive feedparser loop  : {naive_seconds:7.2f} s {naive_rate:9.0f} entries/s  "
          f"monitor/naive {monitor_rate / naive_rate:5.2f}x")  # fmt: skip
    if reader_run is None:
        print("reader                 : not installed (pip install reader)")
        return
    reader_seconds, reader_entries = reader_run
    reader_rate = reader_entries / reader_seconds
    print(f"lemon24/reader         : {reader_seconds:7.2f} s {reader_rate:9.0f} entries/s  "
          f"monitor/reader {monitor_rate / reader_rate:5.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
