"""Extractive summaries pick the sentences that carry the topic."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.match.summary import summarise
from monitor.match.topic import Topic
from monitor.parse.article import extract_page
from monitor.settings import load_settings
from monitor.text.html import html_to_text
from monitor.text.sentences import split_sentences
from monitor.text.tokens import tokenize
from tests.conftest import DEFAULT_CONFIG


def count_of(*words: str) -> Callable[[str], float]:
    """A relevance that counts the given words in a sentence."""
    return lambda sentence: float(sum(word in sentence for word in words))


def test_the_seed_summary_names_the_commission_and_the_withdrawal(fixtures_dir: Path) -> None:
    topic = Topic.from_settings(load_settings(DEFAULT_CONFIG).topics[0])
    text = extract_page((fixtures_dir / "seed-article.html").read_bytes(), None).text
    summary = summarise(text, topic.relevance)
    assert "Higher Military Commission" in summary
    assert "withdrawal" in summary
    assert len(summary) <= 600
    assert summary.startswith("The United States officially confirmed")  # the lead comes first
    assert len(split_sentences(summary)) <= 3


def test_sentences_keep_their_order_and_the_best_are_chosen() -> None:
    text = (
        "Markets were calm on Monday in the region overall. "
        "Weather was warm across the whole country this week. "
        "Iraq and the US agreed a timetable for the withdrawal of coalition troops. "
        "Officials said nothing else about the football results today."
    )
    summary = summarise(text, count_of("Iraq", "withdrawal", "troops"), max_sentences=2)
    assert summary == (
        "Markets were calm on Monday in the region overall. Iraq and the US "
        "agreed a timetable for the withdrawal of coalition troops."
    )


def test_abbreviations_do_not_end_sentences() -> None:
    assert split_sentences("The U.S. Defense Secretary visited. He left.") == [
        "The U.S. Defense Secretary visited.",
        "He left.",
    ]


def test_long_text_is_clipped_on_a_word() -> None:
    text = "Iraq " * 400 + "."
    summary = summarise(text, count_of("Iraq"), max_characters=100)
    assert len(summary) <= 100
    assert summary.endswith("…")


def test_summary_and_matcher_share_one_sentence_splitter() -> None:
    text = (
        "Gen. Smith met U.S. officials in Baghdad. The talks ended on Sept. 5 without a deal!\n"
        "A new paragraph without a full stop\nand another"
    )
    sentences = split_sentences(text)
    assert sentences == [
        "Gen. Smith met U.S. officials in Baghdad.",
        "The talks ended on Sept. 5 without a deal!",
        "A new paragraph without a full stop",
        "and another",
    ]
    tokens = tokenize(text)
    words_per_sentence = [tokens.sentences.count(n) for n in sorted(set(tokens.sentences))]
    assert words_per_sentence == [len(tokenize(s).texts) for s in sentences]


def test_html_blocks_are_not_glued_together() -> None:
    text = html_to_text("<p>US troops will leave</p><p>Iraq's <b>parliament</b> said</p>")
    assert text == "US troops will leave\nIraq's parliament said"
    assert split_sentences(text) == ["US troops will leave", "Iraq's parliament said"]
