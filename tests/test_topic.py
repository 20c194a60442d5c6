"""Topic matching: word boundaries, acronyms, groups, exclusions, weights; the default topic."""

from __future__ import annotations

import pytest

from monitor.settings import TopicSettings
from monitor.topic import TermSet, Topic, match_topic
from tests.conftest import default_topics


def topic(**rules: object) -> Topic:
    return Topic.from_settings(TopicSettings.model_validate({"name": "t", **rules}))


@pytest.fixture(scope="module")
def default() -> Topic:
    return Topic.from_settings(TopicSettings.model_validate(default_topics()[0]))


def test_terms_match_whole_words_only() -> None:
    terms = TermSet.of(["Iraq", "withdraw"])
    assert terms.found("Troops in Iraq's north") == ["Iraq"]
    assert terms.found("Iraqi forces; a withdrawal") == []
    assert terms.found("IRAQ will WITHDRAW") == ["Iraq", "withdraw"]


def test_acronyms_match_only_in_capitals() -> None:
    terms = TermSet.of(["US", "U.S."])
    assert terms.found("talks between the US and Iraq") == ["US"]
    assert terms.found("join us for the show") == []
    assert terms.found("the U.S.-Iraq commission") == ["U.S."]


def test_phrases_match_across_line_breaks_and_typographic_marks() -> None:
    terms = TermSet.of(["Higher Military Commission", "Ain al-Asad"])
    assert terms.found("the Higher\n Military   Commission") == ["Higher Military Commission"]
    assert match_topic(
        topic(any_of=["Ain al-Asad"], threshold=1), "", "at Ain al‑Asad air base"
    ).matched  # non-breaking hyphen


def test_every_all_of_group_must_fire() -> None:
    rules = topic(all_of=[["US", "American"], ["Iraq"]], any_of=["troops"], threshold=1)
    assert match_topic(rules, "American troops in Iraq", "").matched
    assert not match_topic(rules, "American troops in Syria", "").matched
    result = match_topic(rules, "US troops leave Iraq", "")
    assert result.terms == ("US", "Iraq", "troops")


def test_title_terms_weigh_double_and_the_threshold_decides() -> None:
    rules = topic(any_of=["withdrawal", "troops"], threshold=2)
    assert match_topic(rules, "Withdrawal", "").score == 2
    assert match_topic(rules, "", "withdrawal").score == 1
    assert not match_topic(rules, "", "withdrawal").matched
    assert match_topic(rules, "", "withdrawal of troops").matched


def test_none_of_vetoes() -> None:
    rules = topic(any_of=["withdrawal"], none_of=["Afghanistan"], threshold=1)
    assert not match_topic(rules, "Withdrawal", "from Afghanistan").matched


@pytest.mark.parametrize(
    "title",
    [
        "U.S. initiates talks with Iraq on withdrawal of American troops from country",
        "Iraq and US begin talks on future of coalition mission",
        "Iraqi parliament votes to end the presence of US-led coalition forces",
        "Pentagon: Higher Military Commission to meet in Baghdad next week",
    ],
)
def test_the_default_topic_catches_the_story(default: Topic, title: str) -> None:
    assert match_topic(default, title, "").matched


@pytest.mark.parametrize(
    "title",
    [
        "Iraq's football team beats Jordan in Asian Cup",
        "US troops to withdraw from Niger by September",
        "Heatwave grips southern Europe",
    ],
)
def test_the_default_topic_ignores_other_news(default: Topic, title: str) -> None:
    assert not match_topic(default, title, "").matched
