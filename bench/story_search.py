"""How the ``[stories]`` defaults were chosen, cross-validated: ``bench/stories.py --search N``.

N settings are drawn at random from a small grid of the event threshold and the evidence
weights (the related zone kept 0.12 below the threshold) and replayed in memory. On each half
of the independent labels' events, the setting that groups most (share of same-event articles
in their event's main story) with at most one pair of different events merged is chosen, and
scored on the other half, which it was not chosen on.
"""

from __future__ import annotations

import random

from bench.story_scores import Item, Scores, folds, measure, replay
from monitor.stories.settings import StorySettings

GRID = {
    "event_similarity": (0.33, 0.35, 0.37, 0.39, 0.41),
    "action_weight": (0.1, 0.15, 0.2),
    "figure_weight": (0.05, 0.1, 0.15),
    "day_penalty": (0.05, 0.1),
    "corroboration_weight": (0.03, 0.06, 0.1),
}


def search(
    items: list[Item], events: dict[str, tuple[str, str]], settings: StorySettings, count: int
) -> None:
    rng = random.Random(5)
    halves = folds(events)
    tried: dict[tuple[tuple[str, float], ...], tuple[Scores, Scores]] = {}
    for _ in range(count):
        choice = tuple((name, rng.choice(values)) for name, values in GRID.items())
        if choice in tried:
            continue
        update = dict(choice)
        update["related_similarity"] = round(update["event_similarity"] - 0.12, 2)
        placed = replay(items, settings.model_copy(update=update))
        tried[choice] = (
            measure(items, placed, events, halves[0]),
            measure(items, placed, events, halves[1]),
        )
    print(f"\nsearch: {len(tried)} settings; each half's choice scored on the other half")
    for tuned, held in ((0, 1), (1, 0)):
        allowed = [c for c in tried if len(tried[c][tuned].wrong_events) <= 1] or list(tried)
        best = max(
            allowed,
            key=lambda c: (tried[c][tuned].share, -tried[c][tuned].per_event(tried[c][tuned].full)),
        )
        chosen, scored = tried[best][tuned], tried[best][held]
        print(f"  chosen on half {tuned}: {dict(best)}")
        print(
            f"    on half {tuned} (tuned): share {chosen.share:.3f}, merged "
            f"{len(chosen.wrong_events)}, full alerts/event {chosen.per_event(chosen.full):.2f}"
        )
        print(
            f"    on half {held} (held out): share {scored.share:.3f}, merged "
            f"{len(scored.wrong_events)}, full alerts/event {scored.per_event(scored.full):.2f}, "
            f"marked {scored.per_event(scored.marked):.2f}"
        )
