"""What an endpoint receives: the JSON payload as it is, or rendered for Slack or Discord.

Outbox rows keep the canonical payload; it is rendered for the endpoint's format at send time.
Every body is bounded: long fields are trimmed and lists capped, so a receiver never gets a
40 KB message because an article was long.
"""

from __future__ import annotations

from typing import Any, Literal

from monitor.text.html import clip

Format = Literal["json", "slack", "discord"]
FORMATS: tuple[Format, ...] = ("json", "slack", "discord")

MAX_TITLE = 250
MAX_SUMMARY = 600
MAX_TERMS = 12
MAX_STORIES = 25
MAX_SOURCES = 10
# Discord refuses an embed description over 4096 characters and a message over 6000 in all.
_DISCORD_DESCRIPTION = 4000
# Slack refuses a section text over 3000 characters.
_SLACK_SECTION = 2900


def bounded(payload: dict[str, Any], *, all_stories: bool = False) -> dict[str, Any]:
    """The canonical payload with its free-text fields and lists trimmed to their bounds; a
    digest keeps ``all_stories`` (a JSON receiver gets every story the digest mark moved past),
    or its first ``MAX_STORIES`` and a count of the rest."""
    result = dict(payload)
    if "title" in result:
        result["title"] = clip(result["title"], MAX_TITLE)
    if "summary" in result:
        result["summary"] = clip(result["summary"], MAX_SUMMARY)
    if isinstance(result.get("matched_terms"), list):
        result["matched_terms"] = result["matched_terms"][:MAX_TERMS]
    story = result.get("story")
    if isinstance(story, dict) and isinstance(story.get("sources"), list):
        sources = story["sources"]
        result["story"] = {
            **story,
            "sources": sources[:MAX_SOURCES],
            "more_sources": max(0, len(sources) - MAX_SOURCES) + int(story.get("more_sources", 0)),
        }
    if isinstance(result.get("stories"), list):
        stories = result["stories"]
        kept = stories if all_stories else stories[:MAX_STORIES]
        result["stories"] = [bounded(story) for story in kept]
        result["more_stories"] = len(stories) - len(kept) + int(result.get("more_stories", 0))
    return result


def render(payload: dict[str, Any], fmt: Format) -> dict[str, Any]:
    """The body to POST for ``payload`` in format ``fmt``."""
    payload = bounded(payload, all_stories=fmt == "json")
    if fmt == "json":
        return payload
    if fmt == "slack":
        return _slack(payload)
    return _discord(payload)


def _fitting(lines: list[str], more: int, limit: int) -> list[str]:
    """As many whole story lines as fit in ``limit`` characters with a closing "…and N more"
    that counts every story left out: a line is never cut, so no link breaks and no story
    disappears without being counted."""
    for keep in range(len(lines), -1, -1):
        left = more + len(lines) - keep
        shown = lines[:keep] + ([f"…and {left} more"] if left else [])
        if len("\n".join(shown)) <= limit:
            return shown
    return [f"…and {more + len(lines)} more"]


def _why(story: dict[str, Any]) -> str:
    rules = ", ".join(story.get("matched_rules") or [])
    terms = ", ".join(story.get("matched_terms") or [])
    parts = [f"rules: {rules}" if rules else "", f"terms: {terms}" if terms else ""]
    return "; ".join(part for part in parts if part)


def _source(story: dict[str, Any]) -> str:
    """The outlet of a digest's story, with how many others carried it."""
    source = story.get("source") or {}
    name = str(source.get("title") or source.get("url") or "")
    details = story.get("story") or {}
    others = len(details.get("sources") or []) + int(details.get("more_sources", 0)) - 1
    return f"{name} and {others} other outlet{'s' if others > 1 else ''}" if others > 0 else name


def also_reported_by(payload: dict[str, Any]) -> str:
    """ "Also reported by: A, B and 3 more", the story's other outlets; "" when there are none."""
    story = payload.get("story") or {}
    own = (payload.get("source") or {}).get("url")
    others = [
        str(source.get("title") or source.get("url") or "")
        for source in story.get("sources") or []
        if source.get("url") != own
    ]
    if not others:
        return ""
    more = int(story.get("more_sources", 0))
    return "Also reported by: " + ", ".join(others) + (f" and {more} more" if more else "")


def follow_up_line(payload: dict[str, Any]) -> str:
    """ "Likely the same story as “…”, now 3 outlets": an alert whose article likely reports
    an event already alerted, told as one line; "" for an alert that is not such a follow-up."""
    related = payload.get("related_story")
    if not isinstance(related, dict):
        return ""
    count = int(related.get("source_count") or 0)
    line = f"Likely the same story as “{clip(str(related.get('title') or ''), 120)}”"
    return line + (f", now {count} outlets" if count > 1 else "")


def _slack_follow_up(payload: dict[str, Any]) -> dict[str, Any]:
    """A follow-up as one small context line, not a headline card."""
    title = _slack_escape(clip(str(payload.get("title") or ""), 150))
    link = f"<{payload['url']}|{title}>" if payload.get("url") else title
    source = _slack_escape(_source(payload))
    line = f"↪ {link}" + (f" — {source}" if source else "")
    line += f" · {_slack_escape(follow_up_line(payload))}"
    return {
        "text": follow_up_line(payload),
        "blocks": [{"type": "context", "elements": [{"type": "mrkdwn", "text": clip(line, 2900)}]}],
    }


def _discord_follow_up(payload: dict[str, Any]) -> dict[str, Any]:
    """A follow-up as one line of content, its link preview suppressed (flag 4)."""
    title = clip(str(payload.get("title") or ""), 150)
    link = f"[{title}](<{payload['url']}>)" if payload.get("url") else title
    source = _source(payload)
    line = f"↪ {link}" + (f" — {source}" if source else "") + f" · {follow_up_line(payload)}"
    return {"content": clip(line, 1900), "flags": 4}


def _headline(payload: dict[str, Any]) -> str:
    title = str(payload.get("title") or payload.get("type", "monitor"))
    return f"Update: {title}" if payload.get("type") == "story.updated" else title


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, text: str) -> str:
    """``<url|text>`` that no character of a publisher's URL or title can break out of: Slack
    reads ``&``, ``<`` and ``>`` as escapes, and the first ``|`` as the end of the URL."""
    return f"<{_slack_escape(url).replace('|', '%7C')}|{_slack_escape(text)}>"


def discord_link(url: str, text: str) -> str:
    """``[text](url)`` in Discord's markdown, with the brackets of the text escaped and the
    characters that would end the URL percent-encoded."""
    for char, code in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    escaped = "".join(f"\\{c}" if c in "[]()\\*_~`|>" else c for c in text)
    return f"[{escaped}]({url})"


def _slack(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("type") == "digest":
        lines = [
            f"• {slack_link(story['url'], story['title'])} — {_slack_escape(_source(story))}"
            for story in payload["stories"]
        ]
        heading = f"Digest: {len(payload['stories']) + payload.get('more_stories', 0)} stories"
        lines = _fitting(lines, payload.get("more_stories", 0), _SLACK_SECTION)
        return {
            "text": heading,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": clip(heading, 150)}},
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "\n".join(lines)},
                },
            ],
        }
    if follow_up_line(payload):
        return _slack_follow_up(payload)
    headline = _headline(payload)
    link = slack_link(payload["url"], headline) if payload.get("url") else _slack_escape(headline)
    context = " · ".join(
        part
        for part in (
            _slack_escape(_source(payload)),
            f"topic {payload.get('topic')}" if payload.get("topic") else "",
            _slack_escape(_why(payload)),
            _slack_escape(also_reported_by(payload)),
        )
        if part
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{link}*"}}
    ]
    if payload.get("summary"):
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _slack_escape(payload["summary"])},
            }
        )
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(context, 2900)}]}
        )
    return {"text": _headline(payload), "blocks": blocks}


def _discord(payload: dict[str, Any]) -> dict[str, Any]:
    if payload.get("type") == "digest":
        lines = [
            f"• {discord_link(story['url'], story['title'])} — {_source(story)}"
            for story in payload["stories"]
        ]
        count = len(payload["stories"]) + payload.get("more_stories", 0)
        lines = _fitting(lines, payload.get("more_stories", 0), _DISCORD_DESCRIPTION)
        return {
            "content": f"Digest: {count} stories",
            "embeds": [{"title": "Digest", "description": "\n".join(lines)}],
        }
    if follow_up_line(payload):
        return _discord_follow_up(payload)
    embed: dict[str, Any] = {
        "title": clip(_headline(payload), 256),
        "description": payload.get("summary") or "",
    }
    if payload.get("url"):
        embed["url"] = payload["url"]
    fields = []
    if _source(payload):
        fields.append({"name": "Source", "value": clip(_source(payload), 1024), "inline": True})
    if payload.get("topic"):
        fields.append({"name": "Topic", "value": str(payload["topic"]), "inline": True})
    if _why(payload):
        fields.append({"name": "Why", "value": clip(_why(payload), 1024)})
    if also_reported_by(payload):
        also = also_reported_by(payload).removeprefix("Also reported by: ")
        fields.append({"name": "Also reported by", "value": clip(also, 1024)})
    if fields:
        embed["fields"] = fields
    if payload.get("published_at"):
        embed["timestamp"] = payload["published_at"]
    return {"content": "", "embeds": [embed]}
