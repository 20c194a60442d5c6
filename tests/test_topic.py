"""The topic language: terms, normalisation in each script, windows, levels and config errors."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from monitor.match.explain import describe_topic
from monitor.match.settings import TopicSettings
from monitor.match.topic import Topic, match_topic


def topic(terms: dict[str, list[str]], *rules: dict[str, Any], **extra: Any) -> Topic:
    settings = TopicSettings.model_validate({"name": "t", "terms": terms, "rules": rules, **extra})
    return Topic.from_settings(settings)


def level(rules: Topic, title: str, body: str = "") -> str | None:
    return match_topic(rules, title, body).level


def finds(term: str, text: str) -> bool:
    return level(topic({"x": [term]}, {"all": ["x"]}), text) == "alert"


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("Iraq", "Troops in Iraq's north", True),
        ("Iraq", "Iraqi forces", False),  # whole words only
        ("Iraq*", "Iraqi forces", True),  # a * lets the word go on
        ("withdraw*", "the withdrawal began", True),
        ("withdraw*", "after withdrawing", True),
        ("withdraw*", "redraw the map", False),
        ("IRAQ", "iraq", False),  # capitals mean an acronym: case matters
        ("Iraq", "IRAQ WILL DECIDE", True),  # otherwise case does not
        ("US", "talks between the US and Iraq", True),
        ("US", "join us for the show", False),
        ("U.S.", "the U.S.-Iraq commission", True),
        ("U.S.", "the US commission", False),
        ("Higher Military Commission", "the Higher  Military\tCommission", True),
        ("Higher Military Commission", "higher military commission", True),
        ("Ain al-Asad", "at Ain al‑Asad air base", True),  # a non-breaking hyphen
        ("US-led coalition", "the US–led coalition", True),  # an en dash
        ("pull out", "troops will pull. Out of the question", False),  # not across sentences
    ],
)
def test_terms(term: str, text: str, expected: bool) -> None:
    assert finds(term, text) is expected


@pytest.mark.parametrize(
    ("term", "text"),
    [
        # Arabic: hamza forms, alef maqsura, teh marbuta, diacritics and tatweel are folded.
        ("أمريكا", "قالت امريكا"),
        ("إنهاء", "انهاء المهمة"),
        ("اتفاقية", "وقعت الاتفاقيـة"),  # tatweel, and the article ال in front
        ("القوات الأمريكية", "انسحاب القوَّاتِ الأمريكيّة"),  # shadda, kasra
        ("مستشفى", "مستشفي"),
        # Arabic clitics: and-, in-, for- the...
        ("العراق", "والعراق"),
        ("العراق", "بالعراق"),
        ("العراق", "للعراق"),
        ("بغداد", "وبغداد"),
        ("انسحاب", "الانسحاب"),
        # Sorani Kurdish letter shapes and suffixes.
        ("عێراق*", "لە عیراقدا"),
        ("کشانەوە*", "کشانەوەی هێزەکان"),
        # Russian ё/е and case; Ukrainian.
        ("Соединенные Штаты", "СОЕДИНЁННЫЕ ШТАТЫ"),
        ("вывод*", "о выводе войск"),
        ("Ірак*", "в Іраку"),
        ("військ*", "виведення військ"),
        # Kurmanji (Latin script).
        ("Amerîka*", "Amerîkayê"),
    ],
)
def test_each_script_is_normalised(term: str, text: str) -> None:
    assert finds(term, text)


def test_arabic_terms_are_whole_words_too() -> None:
    assert not finds("العراق", "العراقية")  # "Iraqi" is not "Iraq"
    assert finds("عراقي*", "العراقية")


LISTS = {
    "us": ["US", "American*", "Washington"],
    "iraq": ["Iraq*", "Baghdad"],
    "leaving": ["withdraw*", "pull out"],
    "troops": ["troop*", "forces"],
    "attack": ["attack*", "drone*"],
    "afghanistan": ["Afghanistan"],
}


def test_every_list_in_all_and_one_in_any() -> None:
    rules = topic(LISTS, {"all": ["iraq", "leaving"], "any": ["us", "troops"]})
    assert level(rules, "US to withdraw from Iraq") == "alert"
    assert level(rules, "Troops withdraw from Iraq") == "alert"
    assert level(rules, "Iraq to withdraw ambassador") is None  # nothing from `any`
    assert level(rules, "US troops in Iraq") is None  # nothing from `leaving`


def test_sentence_window() -> None:
    rules = topic(LISTS, {"all": ["us", "iraq", "leaving"], "within": "sentence"})
    assert level(rules, "", "Washington plans to withdraw from Iraq. Talks go on.") == "alert"
    assert level(rules, "", "Washington plans to withdraw. Iraq talks go on.") is None
    assert level(rules, "US talks", "Iraq plans to withdraw.") is None  # the title is apart


def test_title_window() -> None:
    rules = topic(LISTS, {"all": ["iraq", "leaving"], "within": "title"})
    assert level(rules, "Iraq: US to withdraw", "") == "alert"
    assert level(rules, "A long day", "Iraq: US to withdraw") is None


def test_word_window() -> None:
    rules = topic(LISTS, {"all": ["troops", "iraq"], "within": 3})
    assert level(rules, "US forces in Iraq") == "alert"
    assert level(rules, "US forces met officials who later flew to Iraq") is None


def test_none_in_the_window_or_anywhere() -> None:
    near = topic(LISTS, {"all": ["us", "leaving"], "none": ["afghanistan"], "within": "sentence"})
    assert level(near, "US to withdraw. Unlike Afghanistan.") == "alert"
    assert level(near, "US to withdraw from Afghanistan") is None
    anywhere = topic(
        LISTS,
        {
            "all": ["us", "leaving"],
            "none": ["afghanistan"],
            "within": "sentence",
            "none_within": "item",
        },
    )
    assert level(anywhere, "US to withdraw. Unlike Afghanistan.") is None


def test_also_needs_the_list_anywhere() -> None:
    rules = topic(LISTS, {"all": ["us", "leaving"], "also": ["iraq"], "within": 2})
    assert level(rules, "US to withdraw", "Officials in Baghdad confirmed it.") == "alert"
    assert level(rules, "US to withdraw", "Officials confirmed it.") is None


def test_title_weighs_more_and_min_score_uses_it() -> None:
    rules = topic(LISTS, {"all": ["us", "iraq"], "min_score": 4}, title_weight=2, body_weight=1)
    assert match_topic(rules, "US and Iraq", "").score == 4
    assert match_topic(rules, "US", "Iraq").level is None  # 2 + 1
    assert level(rules, "", "US and Iraq") is None  # 1 + 1


def test_the_highest_level_wins_and_says_why() -> None:
    rules = topic(
        LISTS,
        {"name": "attacks", "level": "digest", "all": ["iraq", "attack"]},
        {"name": "leaving", "level": "alert", "all": ["iraq", "leaving"], "within": "sentence"},
    )
    digest = match_topic(rules, "Drone attack in Iraq")
    assert (digest.level, digest.rules, digest.terms) == (
        "digest",
        ("attacks",),
        ("drone*", "attack*", "Iraq*"),
    )
    both = match_topic(rules, "After drone attack, US forces to withdraw from Iraq")
    assert (both.level, both.rules) == ("alert", ("leaving",))
    assert set(both.terms) == {"withdraw*", "Iraq*"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"terms": {"us": []}, "rules": [{"all": ["us"]}]}, "term list 'us' is empty"),
        ({"terms": {"us": ["  "]}, "rules": [{"all": ["us"]}]}, "a term is blank"),
        (
            {"terms": {"us": ["(US"]}, "rules": [{"all": ["us"]}]},
            "term '(US' in list 'us': terms are plain words; '(' is not allowed",
        ),
        ({"terms": {"us": ["with*draw"]}, "rules": [{"all": ["us"]}]}, "a * may only end a word"),
        ({"terms": {"us": ["*"]}, "rules": [{"all": ["us"]}]}, "a * may only end a word"),
        ({"terms": {"us": ["Am*"]}, "rules": [{"all": ["us"]}]}, "at least three letters"),
        (
            {"terms": {"Bad Name": ["x"]}, "rules": [{"all": ["Bad Name"]}]},
            "term list name 'Bad Name'",
        ),
        (
            {"terms": {"us": ["US"]}, "rules": [{"name": "talks", "all": ["us", "irak"]}]},
            "topic 't', talks: 'all' names an unknown term list 'irak' (known: us)",
        ),
        (
            {"terms": {"us": ["US"]}, "rules": [{"all": ["us"]}, {"none": ["x"], "any": ["us"]}]},
            "topic 't', rule 2: 'none' names an unknown term list 'x'",
        ),
        (
            {"terms": {"us": ["US"]}, "rules": [{"level": "alert"}]},
            "a rule needs term lists in 'all' or 'any'",
        ),
        (
            {"terms": {"us": ["US"]}, "rules": [{"all": ["us"], "within": 0}]},
            "within is a number of words",
        ),
        ({"terms": {"us": ["US"]}, "rules": [{"all": ["us"], "within": "paragraph"}]}, "within"),
        ({"terms": {"us": ["US"]}, "rules": [{"all": ["us"], "level": "urgent"}]}, "level"),
        ({"terms": {"us": ["US"]}, "rules": [{"all": ["us"], "weight": 2}]}, "weight"),
        ({"terms": {"us": ["US"]}, "rules": []}, "rules"),
    ],
)
def test_mistakes_name_the_topic_and_the_rule(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        TopicSettings.model_validate({"name": "t", **config})
    assert message in str(error.value)


def test_a_topic_reads_as_plain_words() -> None:
    settings = TopicSettings.model_validate(
        {
            "name": "t",
            "description": "US forces leaving Iraq",
            "terms": LISTS,
            "rules": [
                {
                    "name": "leaving",
                    "all": ["iraq", "leaving"],
                    "any": ["us", "troops"],
                    "within": "sentence",
                    "none": ["afghanistan"],
                },
                {
                    "level": "digest",
                    "all": ["troops", "iraq"],
                    "within": 3,
                    "min_score": 3,
                    "none": ["attack"],
                    "none_within": "item",
                    "also": ["us"],
                },
            ],
        }
    )
    text = describe_topic(settings)
    assert "t: US forces leaving Iraq" in text
    assert (
        "ALERT when\n  - leaving: one sentence mentions [iraq], [leaving] and one of "
        "[us, troops], unless that sentence mentions [afghanistan]"
    ) in text
    assert (
        "DIGEST when\n  - rule 2: [troops] and [iraq] stand within 3 words of each other, "
        "and the item also mentions [us], scoring at least 3, unless the item mentions "
        "[attack]"
    ) in text
    assert "[us] US, American*, Washington" in text
