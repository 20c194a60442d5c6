"""An operator's corrections of story grouping: merging two stories judged to report one
event, and undoing such a merge.

A merge moves the articles of one story into the other in one transaction, and the kept
story takes the merged one's alert state per topic, so its later articles do not alert again
for what has been alerted already. The merged story keeps its row (``merged_into``) and its
articles remember it (``merged_from``): ``stories split`` on one of them undoes the merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.base import Database, Repository
from monitor.store.stories import StoryRepository, recount
from monitor.store.tables import AlertRow, ArticleRow, StoryRow, StoryTopicRow

_RANK = {"digest": 0, "alert": 1}


class MergeRefusedError(Exception):
    """Two stories that cannot be merged: one is missing, or they are one story already."""


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """Stories ``merged`` now belongs to ``kept``, with ``moved`` articles."""

    kept: int
    merged: int
    moved: int


class StoryEdits(Repository):
    """Merges of stories; each is one transaction, taking its turn with story decisions."""

    def __init__(self, db: Database, stories: StoryRepository) -> None:
        super().__init__(db)
        self._stories = stories

    async def merge_stories(self, kept_id: int, merged_id: int, now: datetime) -> MergeOutcome:
        """Move every article of story ``merged_id`` into story ``kept_id``."""
        async with self._db.writing() as session:
            await self._stories.lock_decisions(session)
            kept = await _current(session, kept_id)
            merged = await _current(session, merged_id)
            if kept.id == merged.id:
                raise MergeRefusedError(f"stories {kept_id} and {merged_id} are one story already")
            moving = list(
                await session.scalars(select(ArticleRow.id).where(ArticleRow.story_id == merged.id))
            )
            await session.execute(
                update(ArticleRow)
                .where(ArticleRow.id.in_(moving))
                .values(story_id=kept.id, merged_from=merged.id)
            )
            merged.merged_into = kept.id
            await _take_alert_state(session, kept.id, merged.id)
            # Alerts still waiting describe the story their article is in now.
            await session.execute(
                update(AlertRow)
                .where(AlertRow.story_id == merged.id, AlertRow.status == "pending")
                .values(story_id=kept.id)
            )
            await session.flush()
            await recount(session, kept)
            await recount(session, merged)
            return MergeOutcome(kept=kept.id, merged=merged.id, moved=len(moving))


async def _current(session: AsyncSession, story_id: int) -> StoryRow:
    """The story, or the story it was merged into."""
    story = await session.get(StoryRow, story_id)
    seen = set()
    while story is not None and story.merged_into is not None and story.id not in seen:
        seen.add(story.id)
        story = await session.get(StoryRow, story.merged_into)
    if story is None:
        raise MergeRefusedError(f"no story {story_id}")
    return story


async def _take_alert_state(session: AsyncSession, kept_id: int, merged_id: int) -> None:
    """Per topic, the kept story's level is the higher of the two, and it has alerted if
    either had, so what one story alerted the merged whole does not alert again."""
    theirs = await session.scalars(select(StoryTopicRow).where(StoryTopicRow.story_id == merged_id))
    for state in theirs:
        mine = await session.get(StoryTopicRow, (kept_id, state.topic))
        if mine is None:
            session.add(
                StoryTopicRow(
                    story_id=kept_id,
                    topic=state.topic,
                    level=state.level,
                    alerted_at=state.alerted_at,
                    notified_sources=state.notified_sources,
                )
            )
            continue
        if _RANK.get(state.level, 0) > _RANK.get(mine.level, 0):
            mine.level = state.level
        times = [at for at in (mine.alerted_at, state.alerted_at) if at is not None]
        mine.alerted_at = min(times) if times else None
        mine.notified_sources = max(mine.notified_sources, state.notified_sources)


async def unmerge(session: AsyncSession, article: ArticleRow) -> StoryRow | None:
    """Undo the merge that brought ``article`` into its story: it and the articles that came
    with it go back to their story. None when the article did not come by a merge."""
    if article.merged_from is None or article.story_id is None:
        return None
    merged = await session.get(StoryRow, article.merged_from)
    kept = await session.get(StoryRow, article.story_id)
    if merged is None or kept is None or merged.merged_into != kept.id:
        return None
    group = list(
        await session.scalars(
            select(ArticleRow.id).where(
                ArticleRow.story_id == kept.id, ArticleRow.merged_from == merged.id
            )
        )
    )
    await session.execute(
        update(ArticleRow)
        .where(ArticleRow.id.in_(group))
        .values(story_id=merged.id, merged_from=None)
    )
    await session.execute(
        update(AlertRow)
        .where(AlertRow.article_id.in_(group), AlertRow.status == "pending")
        .values(story_id=merged.id)
    )
    merged.merged_into = None
    await session.flush()
    await recount(session, kept)
    await recount(session, merged)
    return merged
