"""Canonical URLs: the same article behind tracking links is one URL; the outlet a URL
belongs to."""

from __future__ import annotations

import pytest

from monitor.parse.urls import canonical_url, outlet


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://News.Example.com/a/b?utm_source=rss&utm_medium=feed",
            "https://news.example.com/a/b",
        ),
        (
            "https://www.aljazeera.com/news/2024/1/25/x?traffic_source=rss",
            "https://www.aljazeera.com/news/2024/1/25/x",
        ),
        ("https://news.example/a#comments", "https://news.example/a"),
        ("http://news.example:80/a?fbclid=IwAR0", "http://news.example/a"),
        ("https://news.example", "https://news.example/"),
        (
            "http://www.heise.de/meldung/x-3088438.html?wt_mc=rss.developer.beitrag.atom",
            "http://www.heise.de/meldung/x-3088438.html",
        ),
        (
            "https://www.theguardian.com/world/2024/jan/25/x?CMP=share_btn_tw",
            "https://www.theguardian.com/world/2024/jan/25/x",
        ),
        (
            "https://www.nytimes.com/2024/01/25/world/x.html?smid=nytcore-ios-share",
            "https://www.nytimes.com/2024/01/25/world/x.html",
        ),
    ],
)
def test_tracking_and_noise_are_removed(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_parameters_that_select_content_are_kept_in_a_stable_order() -> None:
    assert (
        canonical_url("https://x.example/story.php?story_fbid=12&id=3")
        == "https://x.example/story.php?id=3&story_fbid=12"
    )
    assert canonical_url("https://x.example/story.php?id=3&page=2") != canonical_url(
        "https://x.example/story.php?id=3&page=3"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://feeds.nbcnews.com/nbcnews/public/world", "nbcnews.com"),
        ("https://www.nbcnews.com/news/world/x", "nbcnews.com"),
        ("https://www.bbc.co.uk/news/world-middle-east-1", "bbc.co.uk"),
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "bbci.co.uk"),
        ("https://example.blogspot.com/2024/01/x.html", "example.blogspot.com"),
        ("https://WWW.Arabnews.com/node/1", "arabnews.com"),
        ("http://intranet:8080/feed", "intranet"),
        ("http://127.0.0.1:8080/story", None),
        ("http://[::1]/story", None),
        ("not a url", None),
    ],
)
def test_an_outlet_is_the_registrable_domain(url: str, expected: str | None) -> None:
    assert outlet(url) == expected
