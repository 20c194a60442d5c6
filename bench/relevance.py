"""How well a topic separates the stories that matter, on real labelled feed entries.

Scores the default topic (or ``--topic`` from ``--config``) on the labelled development set and
the unlabelled background set in ``../shared/data/relevance`` (see its README for the scoring):
``core`` items must alert; an alert on a ``no`` item is a false alarm; an alert on a
``related`` item is neither; ``related`` items should reach at least the digest level.

Usage: python bench/relevance.py [--config config/monitor.toml] [--topic NAME] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.match.topic import Topic, match_topic
from monitor.records import TopicMatch
from monitor.settings import load_settings
from monitor.text.html import html_to_text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "relevance"


def read(path: Path) -> list[dict[str, Any]]:
    """The entries, with their descriptions made plain text as the feed parser does."""
    with path.open(encoding="utf-8") as file:
        items = [json.loads(line) for line in file if line.strip()]
    for item in items:
        item["description"] = html_to_text(item.get("description") or "")
    return items


def classify(topic: Topic, items: Iterable[dict[str, Any]]) -> list[TopicMatch]:
    return [match_topic(topic, item["title"], item.get("description", "")) for item in items]


def show(label: str, item: dict[str, Any], result: TopicMatch) -> str:
    why = f" [{', '.join(result.rules)}: {', '.join(result.terms[:8])}]" if result.rules else ""
    return f"  {label:<8} {result.level or '-':<7} {item['title'][:110]}{why}"


def throughput(topic: Topic, items: list[dict[str, Any]], seconds: float = 3.0) -> float:
    """Entries matched per second, title and summary, on this one core."""
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        classify(topic, items)
        done += len(items)
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "monitor.toml")
    parser.add_argument("--topic")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", type=int, default=40, help="how many wrong items to list")
    args = parser.parse_args()

    settings = load_settings(args.config)
    topic = Topic.from_settings(settings.topic(args.topic) if args.topic else settings.topics[0])
    dev = read(args.data / "dev-2023.jsonl")
    background = read(args.data / "background-2023.jsonl")
    dev_results = classify(topic, dev)
    background_results = classify(topic, background)

    core = [(i, r) for i, r in zip(dev, dev_results, strict=True) if i["label"] == "core"]
    related = [(i, r) for i, r in zip(dev, dev_results, strict=True) if i["label"] == "related"]
    alerts = [(i, r) for i, r in zip(dev, dev_results, strict=True) if r.level == "alert"]
    core_hits = sum(1 for _, r in core if r.level == "alert")
    false_alarms = [(i, r) for i, r in alerts if i["label"] == "no"]
    alerts_scored = sum(1 for i, _ in alerts if i["label"] in ("core", "no"))
    related_caught = sum(1 for _, r in related if r.level is not None)
    related_alerted = sum(1 for _, r in related if r.level == "alert")
    background_alarms = [
        (i, r) for i, r in zip(background, background_results, strict=True) if r.level == "alert"
    ]
    background_digest = sum(1 for r in background_results if r.level == "digest")
    dev_no_digest = sum(
        1
        for i, r in zip(dev, dev_results, strict=True)
        if i["label"] == "no" and r.level == "digest"
    )

    print(
        f"topic {topic.name}: {len(dev)} labelled entries ({len(core)} core, {len(related)} "
        f"related), {len(background)} background entries"
    )
    print(
        f"core recall (alert)            {core_hits}/{len(core)} = "
        f"{core_hits / max(len(core), 1):.3f}   target 1.0"
    )
    precision = core_hits / alerts_scored if alerts_scored else 1.0
    print(
        f"alert precision                {core_hits}/{alerts_scored} = {precision:.3f}   "
        f"target >= 0.9   (alerts on related items, not scored: {related_alerted})"
    )
    print(
        f"related recall (digest+)       {related_caught}/{len(related)} = "
        f"{related_caught / max(len(related), 1):.3f}   target >= 0.8"
    )
    per_10k = len(background_alarms) * 10_000 / max(len(background), 1)
    print(
        f"false alarms / 10k background  {len(background_alarms)} in {len(background)} = "
        f"{per_10k:.1f}   target <= 1"
    )
    print(
        f"digest on 'no' items           {dev_no_digest} of the dev set, {background_digest} "
        "of the background (not scored)"
    )
    print(
        f"speed                          {throughput(topic, dev + background):,.0f} "
        "entries/s (title + summary, one core)   target >= 20,000"
    )

    wrong = (
        [("MISSED", i, r) for i, r in core if r.level != "alert"]
        + [("FALSE", i, r) for i, r in false_alarms]
        + [("FALSE-bg", i, r) for i, r in background_alarms]
        + [("related", i, r) for i, r in related if r.level is None]
    )
    if wrong:
        print(f"\nwrong items ({len(wrong)}; first {args.show}):")
        for label, item, result in wrong[: args.show]:
            print(show(label, item, result))


if __name__ == "__main__":
    main()
