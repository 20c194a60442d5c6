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
    # Weighted cosine similarity of headline and lead terms: the same event...
    event_similarity: float = Field(default=0.44, gt=0, le=1)
    # ...or this much, when the two also share rare names worth shared_names_weight.
    event_similarity_with_names: float = Field(default=0.34, gt=0, le=1)
    shared_names_weight: float = Field(default=8.0, ge=0)
    title_weight: float = Field(default=2.0, ge=1)  # a headline word counts this many times
    lead_words: int = Field(default=40, ge=1)  # content words of the lead compared
    # An endpoint with story_updates hears again when a story gains this many more sources.
    update_after_sources: int = Field(default=3, ge=1)
    max_candidates: int = Field(default=50, ge=1)  # closest stored articles compared

    @model_validator(mode="after")
    def _ordered(self) -> StorySettings:
        if self.event_similarity_with_names > self.event_similarity:
            raise ValueError("event_similarity_with_names is above event_similarity")
        return self
