"""Article extraction on real pages, scored against their expected main content."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from monitor.parse.article import ExtractionError, extract_page

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"


def token_f1(extracted: str, expected: str) -> float:
    """Token-level F1 (whitespace tokens, multiset overlap), as the evaluation scores it."""
    got, want = Counter(extracted.split()), Counter(expected.split())
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize("name", ["bbc-1", "guardian-1", "lemonde-1"])
def test_real_pages_extract_their_article(name: str) -> None:
    folder = PAGES / name
    expected = lxml.html.fromstring((folder / "expected.html").read_text("utf-8")).text_content()
    metadata = json.loads((folder / "expected-metadata.json").read_text())

    page = extract_page((folder / "source.html").read_bytes(), "https://news.example/article")

    assert token_f1(page.text, expected) > 0.85
    assert page.title == metadata["title"]
    assert page.language == metadata["lang"]
    assert page.published_at is not None


def test_the_seed_page_keeps_the_story_and_drops_the_chrome(fixtures_dir: Path) -> None:
    page = extract_page((fixtures_dir / "seed-article.html").read_bytes(), None)
    assert "Higher Military Commission" in page.text
    assert "Most read" not in page.text
    assert "All rights reserved" not in page.text
    assert page.published_at is not None
    assert page.published_at.date().isoformat() == "2024-01-26"


@pytest.mark.parametrize("html", [b"", b"<html><body></body></html>", b"\x00\x01\x02"])
def test_a_page_without_text_is_an_error(html: bytes) -> None:
    with pytest.raises(ExtractionError):
        extract_page(html, "https://news.example/empty")
