"""An operator's feedback on a topic: "this alert was not relevant", "this is what matters".

Feedback is stored per topic as counter-examples and examples (``store.feedback``) and added to
the topic's own wherever a topic is compiled: the daemon at start-up and when the stored
feedback changes, ``monitor classify``, the console and the API.
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from monitor.match.topic import Topic
from monitor.service.context import BadInputError, NotFoundError, Services
from monitor.settings import Settings
from monitor.store.base import Database
from monitor.store.engine import DatabaseError, open_read_only_engine, schema_problem
from monitor.store.facade import Store
from monitor.store.feedback import (
    FeedbackEntry,
    FeedbackKind,
    FeedbackRepository,
    feedback_by_topic,
)

MAX_FEEDBACK_TEXT = 300  # characters: a headline or a sentence, not an article
READ_SECONDS = 5.0  # ``topics check`` gives up on a database that does not answer


def clean_feedback_text(text: str) -> str:
    """``text`` with control and formatting characters (and line breaks) made spaces and runs
    of white space made one: feedback is operator input, shown back in terminals and pages."""
    kept = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
    return " ".join(kept.split())


async def give_feedback(
    services: Services,
    *,
    relevant: bool,
    text: str | None = None,
    alert_id: str | None = None,
    topic: str | None = None,
) -> tuple[FeedbackEntry, bool]:
    """Store an example (``relevant``) or a counter-example of ``topic``: ``text``, or the
    headline of alert ``alert_id`` (whose topic is then the default). Returns the entry and
    whether it is new (the same sentence given twice is stored once)."""
    if (text is None) == (alert_id is None):
        raise BadInputError("text", "give either a text or an alert id")
    if alert_id is not None:
        detail = await services.store.alert_detail(alert_id)
        if detail is None:
            raise NotFoundError(f"no alert {alert_id!r}")
        if not detail.alert.title:
            raise BadInputError("alert_id", f"alert {alert_id} is about no article (a digest?)")
        topic = topic or detail.alert.topic
        text = detail.alert.title[: MAX_FEEDBACK_TEXT * 2]
    assert text is not None
    cleaned = clean_feedback_text(text)[:MAX_FEEDBACK_TEXT].strip()
    if alert_id is None and len(clean_feedback_text(text)) > MAX_FEEDBACK_TEXT:
        raise BadInputError("text", f"feedback is at most {MAX_FEEDBACK_TEXT} characters")
    if len(cleaned.split()) < 3:
        raise BadInputError("text", "feedback is a sentence: give at least three words")
    name = _topic_with_examples(services.settings, topic)
    kind: FeedbackKind = "example" if relevant else "counter_example"
    for entry in await services.store.feedback.entries(name):
        if entry.kind == kind and entry.text == cleaned:
            return entry, False
    entry = await services.store.feedback.add(name, kind, cleaned, alert_id, services.clock())
    return entry, True


async def list_feedback(services: Services, topic: str | None = None) -> list[FeedbackEntry]:
    """The stored feedback (of one topic, if given), oldest first."""
    if topic is not None and topic not in {t.name for t in services.settings.topics}:
        raise NotFoundError(f"no topic {topic!r}")
    return await services.store.feedback.entries(topic)


async def remove_feedback(services: Services, feedback_id: int) -> FeedbackEntry:
    """Delete one stored example or counter-example."""
    removed = await services.store.feedback.remove(feedback_id)
    if removed is None:
        raise NotFoundError(f"no feedback {feedback_id}")
    return removed


def _topic_with_examples(settings: Settings, name: str | None) -> str:
    chosen = next(
        (t for t in settings.topics if t.name == name) if name else iter(settings.topics), None
    )
    if chosen is None:
        raise NotFoundError(f"no topic {name!r}")
    if not chosen.examples:
        raise BadInputError(
            "topic",
            f"topic {chosen.name!r} has no examples: feedback works through the semantic layer; "
            "give the topic some examples in the config first",
        )
    return chosen.name


def compile_topics(settings: Settings, entries: Sequence[FeedbackEntry]) -> tuple[Topic, ...]:
    """Every configured topic, compiled with its stored feedback (feedback of a topic no longer
    configured is ignored)."""
    stored = feedback_by_topic(entries)
    return tuple(
        Topic.from_settings(
            topic,
            more_examples=stored[topic.name].examples if topic.name in stored else (),
            more_counter_examples=(
                stored[topic.name].counter_examples if topic.name in stored else ()
            ),
        )
        for topic in settings.topics
    )


async def compile_topics_from(store: Store, settings: Settings) -> tuple[Topic, ...]:
    """Every configured topic, with the feedback stored in ``store``."""
    return compile_topics(settings, await store.feedback.entries())


class FeedbackUnreadableError(Exception):
    """The stored feedback cannot be read; the message says why (and carries no secret)."""


async def read_feedback(database_url: str) -> list[FeedbackEntry]:
    """The stored feedback, read without creating, migrating or writing the database: for
    ``topics check`` and ``classify``, which must work (and stay quick) without one."""
    try:
        engine = open_read_only_engine(database_url)
    except DatabaseError as error:
        raise FeedbackUnreadableError(str(error)) from None
    try:
        if problem := await asyncio.wait_for(schema_problem(engine), READ_SECONDS):
            raise FeedbackUnreadableError(problem)
        return await asyncio.wait_for(FeedbackRepository(Database(engine)).entries(), READ_SECONDS)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise FeedbackUnreadableError(
            f"the database could not be read ({type(error).__name__})"
        ) from None
    finally:
        await engine.dispose()
