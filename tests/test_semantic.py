"""The semantic layer: the model loads from its wheel with no network, real labelled items are
ranked by it, and its decisions say which path fired, the similarity and the nearest example."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from monitor.match.semantic import Embedder, model_folder
from monitor.match.settings import TopicSettings
from monitor.match.topic import Topic, match_topic, semantic_score
from monitor.settings import load_settings
from monitor.text.html import html_to_text
from tests.conftest import DEFAULT_CONFIG

SAMPLE = Path(__file__).parent / "fixtures" / "relevance" / "labelled-sample.jsonl"


@pytest.fixture(scope="module")
def default() -> Topic:
    return Topic.from_settings(load_settings(DEFAULT_CONFIG).topics[0])


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, Any]]:
    with SAMPLE.open(encoding="utf-8") as file:
        items = [json.loads(line) for line in file]
    for item in items:
        item["description"] = html_to_text(item["description"] or "")
    return items


def test_the_model_loads_and_embeds_with_the_network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the model tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    embedder = Embedder()  # a fresh one, not the process's cached model
    vectors = embedder.embed(["US troops leave Iraq", "Coalition forces withdraw from Iraq", "x"])
    assert vectors.shape == (3, 256)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert (model_folder() / "weights").is_dir()  # read from the installed wheel


def test_alone_the_layer_ranks_real_core_items_above_real_look_alikes(
    default: Topic, labelled: list[dict[str, Any]]
) -> None:
    """On real entries that name Iraq, the similarity to the examples (written from the topic
    definition, not from these entries) puts core items above 'no' items."""
    scores: dict[str, list[float]] = {"core": [], "no": []}
    for item in labelled:
        score = semantic_score(default, item["title"], item["description"])
        if score is not None and item["label"] in scores:
            scores[item["label"]].append(score.similarity)
    pairs = [(c, n) for c in scores["core"] for n in scores["no"]]
    assert len(scores["core"]) == 8
    assert len(scores["no"]) >= 10
    ranked_right = sum(1 for c, n in pairs if c > n) / len(pairs)
    assert ranked_right >= 0.85


def test_real_labelled_items_get_their_level(
    default: Topic, labelled: list[dict[str, Any]]
) -> None:
    """Rules and examples together: every core item alerts, no 'no' item alerts."""
    for item in labelled:
        level = match_topic(default, item["title"], item["description"]).level
        if item["label"] == "core":
            assert level == "alert", item["title"]
        elif item["label"] == "no":
            assert level != "alert", item["title"]


def _small_topic(**changes: Any) -> TopicSettings:
    settings: dict[str, Any] = {
        "name": "base-handover",
        "terms": {"iraq": ["Iraq*"], "us": ["US"], "money": ["dollar*"]},
        "rules": [{"name": "money", "level": "digest", "all": ["iraq", "us", "money"]}],
        "examples": ["American troops hand over a military base to the Iraqi army."],
        "counter_examples": ["A drone attack hits a base in Iraq."],
        "require": ["iraq"],
        "alert_similarity": 0.6,
        "digest_similarity": 0.5,
    }
    settings.update(changes)
    return TopicSettings.model_validate(settings)


def test_an_item_no_rule_alerts_on_is_raised_and_says_why() -> None:
    topic = Topic.from_settings(_small_topic())
    result = match_topic(topic, "US soldiers hand the Iraqi military a base", "")
    assert result.level == "alert"
    assert result.semantic is not None
    assert result.semantic.raised
    assert result.semantic.similarity >= 0.6
    assert result.semantic.nearest_example.startswith("American troops hand over")
    assert result.rules == (
        f"similar to an example ({result.semantic.similarity:.2f}): "
        '"American troops hand over a military base to the Iraqi army."',
    )
    assert result.terms == ("Iraq*",)


def test_the_layer_needs_the_required_terms_and_stays_below_counter_examples() -> None:
    topic = Topic.from_settings(_small_topic())
    # Not naming Iraq: never scored, whatever its meaning.
    unanchored = match_topic(topic, "American troops hand over a military base", "")
    assert unanchored.level is None
    assert unanchored.semantic is None
    # Closer to the counter-example than to the example: scored, not raised.
    vetoed = match_topic(topic, "A drone attack hits a base in Iraq overnight", "")
    assert vetoed.level is None
    assert vetoed.semantic is not None
    assert vetoed.semantic.counter_similarity >= vetoed.semantic.similarity
    assert not vetoed.semantic.raised


def test_a_rule_that_alerts_decides_without_the_model() -> None:
    topic = Topic.from_settings(
        _small_topic(rules=[{"name": "money", "level": "alert", "all": ["iraq", "us", "money"]}])
    )
    result = match_topic(topic, "US sends dollars to Iraq", "")
    assert result.level == "alert"
    assert result.rules == ("money",)
    assert result.semantic is None


def test_feedback_examples_join_the_topic() -> None:
    topic = Topic.from_settings(_small_topic())
    title = "Iraq election commission counts the vote in Basra"
    assert match_topic(topic, title, "").level is None
    taught = topic.with_feedback(["The Iraqi election commission counts votes."], [])
    assert match_topic(taught, title, "").level == "alert"
    assert match_topic(replace(taught, semantic=None), title, "").level is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"require": ["nowhere"]}, "'require' names an unknown term list 'nowhere'"),
        ({"digest_similarity": 0.9}, "digest_similarity (0.9) is above alert_similarity (0.6)"),
        ({"examples": []}, "counter_examples need examples too"),
        ({"alert_similarity": 1.5}, "less than or equal to 1"),
    ],
)
def test_semantic_settings_are_checked(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _small_topic(**change)


def test_a_headline_of_a_few_words_is_not_raised_on_its_likeness(default: Topic) -> None:
    result = match_topic(default, "Iraq talks", "")
    assert result.level is None
    assert result.semantic is not None
    assert result.semantic.similarity == 0.0
