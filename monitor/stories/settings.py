"""The ``[stories]`` section: how articles about one event are grouped into a story."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorySettings(_Section):
    """How articles about one event are grouped into a story, which alerts once."""

    # Articles further apart in time than this are never one story.
    window_hours: float = Field(default=48, gt=0)
    # MinHash estimate of the Jaccard similarity of two texts' 3-word shingles: a copy.
    duplicate_similarity: float = Field(default=0.5, gt=0, le=1)
    # Weighted cosine similarity of headline and lead terms plus the event evidence two
    # articles share (see stories/evidence.py): surely the same event at this score or more...
    event_similarity: float = Field(default=0.37, gt=0, le=2)
    # ...and likely the same between this and event_similarity: the article starts a story of
    # its own and alerts, marked as a likely follow-up of the story it resembles.
    related_similarity: float = Field(default=0.25, gt=0, le=2)
    # What the evidence adds: the same main headline action, each shared figure or date (up to
    # two), shared rare names of title, lead and text (up to names_weight; 0 by default: on the
    # labelled set they add nothing the weighted terms, which include names, do not already
    # give); less day_penalty per day apart. Chosen on labelled events (README, "Stories").
    action_weight: float = Field(default=0.15, ge=0)
    figure_weight: float = Field(default=0.05, ge=0)
    names_weight: float = Field(default=0.0, ge=0)
    day_penalty: float = Field(default=0.05, ge=0)
    # What each further article of a story at least related to the new one adds (up to 3).
    corroboration_weight: float = Field(default=0.1, ge=0)
    # Older settings, no longer read: shared names weigh in names_weight.
    event_similarity_with_names: float | None = Field(default=None, gt=0, le=1)
    shared_names_weight: float | None = Field(default=None, ge=0)
    title_weight: float = Field(default=2.0, ge=1)  # a headline word counts this many times
    lead_words: int = Field(default=40, ge=1)  # content words of the lead compared
    # An endpoint with story_updates hears again when a story gains this many more sources.
    update_after_sources: int = Field(default=3, ge=1)
    max_candidates: int = Field(default=50, ge=1)  # closest stored articles compared

    @model_validator(mode="after")
    def _ordered(self) -> StorySettings:
        if self.related_similarity > self.event_similarity:
            raise ValueError("related_similarity is above event_similarity")
        return self
