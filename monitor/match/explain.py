"""A topic in plain words, as ``monitor topics check`` prints it."""

from __future__ import annotations

from monitor.match.settings import RuleSettings, TopicSettings
from monitor.records import LEVELS, TopicMatch

_WINDOW_SUBJECT = {
    "item": "the title or text mentions",
    "title": "the title mentions",
    "sentence": "one sentence mentions",
}


def describe_topic(topic: TopicSettings, *, terms_shown: int = 12) -> str:
    """Every rule of ``topic`` as a sentence, grouped by level, then its term lists."""
    lines = [f"{topic.name}: {topic.description}" if topic.description else topic.name]
    lines.append(
        f"A term list counts {topic.title_weight:g} when it is in the title and "
        f"{topic.body_weight:g} when it is in the text."
    )
    for level in LEVELS:
        rules = [(n, rule) for n, rule in enumerate(topic.rules) if rule.level == level]
        if rules:
            lines.append("")
            lines.append(f"{level.upper()} when")
            lines += [f"  - {topic.rule_label(n)}: {describe_rule(rule)}" for n, rule in rules]
    if topic.examples:
        lines.append("")
        anchors = _and([f"[{name}]" for name in topic.require]) if topic.require else "anything"
        lines.append(
            f"SEMANTIC when no rule alerts, the item mentions {anchors}"
            f" and is closer to an example than to any counter-example: alert at a similarity of "
            f"{topic.alert_similarity:g}, digest at {topic.digest_similarity:g}"
        )
        lines.append("Examples")
        lines += [f"  + {example}" for example in topic.examples]
        if topic.counter_examples:
            lines.append("Counter-examples")
            lines += [f"  - {example}" for example in topic.counter_examples]
    lines.append("")
    lines.append("Term lists")
    for name, terms in topic.terms.items():
        shown = ", ".join(terms[:terms_shown])
        more = f", … ({len(terms) - terms_shown} more)" if len(terms) > terms_shown else ""
        lines.append(f"  [{name}] {shown}{more}")
    return "\n".join(lines)


def describe_rule(rule: RuleSettings) -> str:
    """One rule as a sentence: "one sentence mentions [iraq] and [troops] and one of …"."""
    mentions = [f"[{name}]" for name in rule.all]
    if rule.any:
        mentions.append(_one_of(rule.any))
    listed = _and(mentions)
    if isinstance(rule.within, int):
        text = f"{listed} stand within {rule.within} words of each other"
    else:
        text = f"{_WINDOW_SUBJECT[rule.within]} {listed}"
    if rule.also:
        text += f", and the item also mentions {_and([f'[{name}]' for name in rule.also])}"
    if rule.min_score:
        text += f", scoring at least {rule.min_score:g}"
    if rule.none:
        where = (
            "the item"
            if rule.none_within == "item" or rule.within == "item"
            else (
                "the title"
                if rule.within == "title"
                else "that sentence"
                if rule.within == "sentence"
                else "those words"
            )
        )
        verb = "mention" if where == "those words" else "mentions"
        text += f", unless {where} {verb} {_or([f'[{name}]' for name in rule.none])}"
    return text


def _one_of(names: tuple[str, ...]) -> str:
    if len(names) == 1:
        return f"[{names[0]}]"
    return "one of [" + ", ".join(names) + "]"


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _or(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def explain_path(match: TopicMatch) -> str | None:
    """Which path decided a match: ``rules``, ``semantic`` (the examples raised it), or None."""
    if match.level is None:
        return None
    return "semantic" if match.semantic is not None and match.semantic.raised else "rules"
