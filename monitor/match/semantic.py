"""The semantic layer of a topic: how close an item is to the topic's example sentences.

Beside the rules, a topic may carry ``examples`` (short sentences saying what matters) and
``counter_examples`` (what looks alike but does not). An item that names the topic's anchor
terms is embedded with a small static model, WordLlama (256-dimension token vectors averaged,
no torch, no GPU), whose weights ship inside its wheel: the model is read from the installed
package and never downloaded, so it works with the network off. Its vectors carry English
meaning only; items in other languages score near zero and keep the rules.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monitor.match.settings import Level
from monitor.records import SemanticScore

Vectors = npt.NDArray[np.float32]

# The item's title and this many sentences of its text are scored, each on its own: examples
# are single sentences, and an average over a whole article would blur what it is about.
SCORED_SENTENCES = 2
_LONGEST_SEGMENT = 400  # characters; a feed "sentence" can be a whole unpunctuated paragraph


class ModelUnavailableError(RuntimeError):
    """The embedding model's files are not where its wheel puts them."""


class Embedder:
    """Unit-length sentence vectors from the WordLlama weights installed with the package."""

    def __init__(self) -> None:
        try:
            # Imported here: only a topic with examples pays for loading the model.
            import wordllama
            from wordllama import WordLlama
        except ImportError as error:  # pragma: no cover - a broken install
            raise ModelUnavailableError(f"the wordllama package is missing: {error}") from error
        # The wheel holds weights/ and tokenizers/ beside its code; pointing the cache at the
        # package folder with downloads disabled makes the loader read those and nothing else.
        package = Path(wordllama.__file__).parent
        try:
            self._model = WordLlama.load(cache_dir=package, disable_download=True)
        except (FileNotFoundError, OSError) as error:
            raise ModelUnavailableError(
                f"the WordLlama weights are not in {package}: {error}"
            ) from error
        self.dimensions = int(self._model.embedding.shape[1])

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text (a text with no known token gets a zero vector)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


@functools.cache
def shared_embedder() -> Embedder:
    """The one embedder of this process: the model is read once (about 0.3 s, 35 MB)."""
    return Embedder()


@dataclass(frozen=True, slots=True)
class SemanticIndex:
    """A topic's example sentences as vectors, with the thresholds that raise an item."""

    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    example_vectors: Vectors
    counter_vectors: Vectors
    require: tuple[str, ...]
    alert_similarity: float
    digest_similarity: float
    embedder: Embedder

    @classmethod
    def build(
        cls,
        examples: Sequence[str],
        counter_examples: Sequence[str],
        *,
        require: Sequence[str],
        alert_similarity: float,
        digest_similarity: float,
        embedder: Embedder | None = None,
    ) -> SemanticIndex:
        model = embedder or shared_embedder()
        examples = tuple(dict.fromkeys(text.strip() for text in examples if text.strip()))
        counters = tuple(dict.fromkeys(text.strip() for text in counter_examples if text.strip()))
        return cls(
            examples=examples,
            counter_examples=counters,
            example_vectors=model.embed(examples),
            counter_vectors=model.embed(counters),
            require=tuple(require),
            alert_similarity=alert_similarity,
            digest_similarity=digest_similarity,
            embedder=model,
        )

    def with_more(self, examples: Sequence[str], counter_examples: Sequence[str]) -> SemanticIndex:
        """This index with more examples and counter-examples (e.g. an operator's feedback)."""
        return SemanticIndex.build(
            (*self.examples, *examples),
            (*self.counter_examples, *counter_examples),
            require=self.require,
            alert_similarity=self.alert_similarity,
            digest_similarity=self.digest_similarity,
            embedder=self.embedder,
        )

    def score(self, segments: Sequence[str]) -> SemanticScore:
        """The closest any segment comes to an example, and to a counter-example."""
        segments = [segment[:_LONGEST_SEGMENT] for segment in segments if segment.strip()]
        if not segments or not self.examples:
            return SemanticScore(similarity=0.0, nearest_example="")
        vectors = self.embedder.embed(segments)
        to_examples = vectors @ self.example_vectors.T
        best = np.unravel_index(int(np.argmax(to_examples)), to_examples.shape)
        similarity = float(to_examples[best])
        counter_similarity = 0.0
        nearest_counter = ""
        if self.counter_examples:
            to_counters = vectors @ self.counter_vectors.T
            closest = np.unravel_index(int(np.argmax(to_counters)), to_counters.shape)
            counter_similarity = float(to_counters[closest])
            nearest_counter = self.counter_examples[int(closest[1])]
        return SemanticScore(
            similarity=round(similarity, 3),
            nearest_example=self.examples[int(best[1])],
            counter_similarity=round(counter_similarity, 3),
            nearest_counter_example=nearest_counter,
        )


def semantic_level(
    score: SemanticScore, alert_similarity: float, digest_similarity: float
) -> Level | None:
    """``alert`` or ``digest`` when ``score`` clears that threshold and the item is closer to an
    example than to every counter-example; else None."""
    if score.counter_similarity >= score.similarity:
        return None
    if score.similarity >= alert_similarity:
        return "alert"
    if score.similarity >= digest_similarity:
        return "digest"
    return None
