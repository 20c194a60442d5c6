"""The one redaction function: what it masks and what it leaves readable."""

from __future__ import annotations

import pytest

from monitor.text.redact import redact, redact_url

SLACK_TOKEN = "Wq9vRt3nKm8XzP2sLd7YcH4f"
SLACK = f"https://hooks.slack.com/services/T024BE7LD/B08QZ1YL2KM/{SLACK_TOKEN}"
DISCORD = (
    "https://discord.com/api/webhooks/1234567890123456789/"
    "nQx8Kv2-LpR7tZ0y_Wc5mHs3JdF9aGb1eUoIqX4rT6kN8vB2cM0zPl5hY7wS3jD9fA1g"
)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://news.example/feed.xml", "https://news.example/feed.xml"),
        ("https://u:p4ss@news.example/feed", "https://***@news.example/feed"),
        (
            "https://news.example/rss?api_key=abc123&lang=en",
            "https://news.example/rss?api_key=***&lang=***",
        ),
        (
            "https://news.example/2024/01/25/us-iraq-talks-2024",
            "https://news.example/2024/01/25/us-iraq-talks-2024",
        ),
        (SLACK, "https://hooks.slack.com/services/***/***/***"),
        (DISCORD, "https://discord.com/api/webhooks/1234567890123456789/***"),
        ("http://127.0.0.1:8080/hook#frag", "http://127.0.0.1:8080/hook"),
        (
            "postgresql+asyncpg://postgres:hunter2@db:5432/monitor",
            "postgresql+asyncpg://***@db:5432/monitor",
        ),
        ("http://[::1]:99999/x", "***"),
    ],
)
def test_urls_keep_scheme_host_and_path_and_lose_their_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact(f"failed: {url}!") == f"failed: {shown}!"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"ClientResponseError: 400, message='Bad status line', url='{SLACK}'", SLACK_TOKEN),
        (f"webhook_url = '{SLACK.removeprefix('https://')}'", SLACK_TOKEN),
        ("database_url = 'postgresql://postgres:s3cr3t-pw@127.0.0.1/test'", "s3cr3t-pw"),
        ("connect postgres:s3cr3t-pw@db failed", "s3cr3t-pw"),
        (
            "secrets = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ),
        ("sent password=hunter2 and token: abcdef", "hunter2"),
        ("sent password=hunter2 and token: abcdef", "abcdef"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_secrets_in_free_text_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "alert d79170cc-94fc-41bf-b8d6-3f4c5ccb826a delivered",
        "feeds polled: 8 (1 failed), new articles: 3, matches: 1",
        "U.S. initiates talks with Iraq on withdrawal of American troops",
        "HTTP 503 Service Unavailable",
        "",
    ],
)
def test_text_without_secrets_is_left_alone(text: str) -> None:
    assert redact(text) == text
