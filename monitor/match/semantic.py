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
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monitor.records import Level, SemanticScore

Vectors = npt.NDArray[np.float32]
Vector = npt.NDArray[np.float32]

# The item's title and this many sentences of its text are scored, each on its own: examples
# are single sentences, and an average over a whole article would blur what it is about.
SCORED_SENTENCES = 2
_LONGEST_SEGMENT = 400  # characters; a feed "sentence" can be a whole unpunctuated paragraph
_CACHED_WORDS = 8_192  # words whose summed vector is kept: 1 KB each, most words of the news
# A segment of fewer words is not scored: "Iraq talks" is as close to an example about talks
# as a full headline, but says too little to be raised on its likeness alone.
FEWEST_WORDS = 4
# An item this close to a sentence an operator marked "not relevant" (and closer to it than to
# any example) is dropped, whatever the rules say: a paraphrase of a headline scores about 0.95
# against it, another story on the same subject about 0.4 to 0.7.
VETO_SIMILARITY = 0.85


class ModelUnavailableError(RuntimeError):
    """The embedding model's files are not where its wheel puts them."""


WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


def model_folder() -> Path:
    """Where the installed wordllama wheel keeps its weights and tokenizer (found without
    importing the package, whose loader would fall back to a download)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("the wordllama package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class Embedder:
    """Unit-length sentence vectors: the mean of the WordLlama vectors of a text's tokens, as
    WordLlama computes them, read straight from the files its wheel installs."""

    def __init__(self, folder: Path | None = None) -> None:
        # Imported here: only a process with a topic that has examples pays for them.
        from safetensors import safe_open
        from tokenizers import Tokenizer

        folder = folder or model_folder()
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
            with safe_open(str(folder / WEIGHTS), "np") as weights:
                # Kept in float16 as shipped (16 MB); only the rows a text uses are widened.
                self._vectors: npt.NDArray[np.float16] = weights.get_tensor("embedding.weight")
        except (OSError, ValueError, Exception) as error:
            raise ModelUnavailableError(
                f"cannot read the WordLlama model in {folder}: {error}"
            ) from error
        self.dimensions = int(self._vectors.shape[1])
        self._word_sums = functools.lru_cache(maxsize=_CACHED_WORDS)(self._sum_word)

    def _sum_word(self, word: str) -> Vector | None:
        """The sum of a word's token vectors, widened to float32 (None: the word has none)."""
        ids = self._tokenizer.encode(word, add_special_tokens=False).ids
        return self._vectors[ids].sum(axis=0, dtype=np.float32) if ids else None

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit vector per text: the mean of its token vectors (a text with no token gets a
        zero vector)."""
        result = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # Word by word: the tokenizer (Llama's, with no pre-tokenizer) gives a text the tokens
        # it gives each of its words, as none spans a space; so a text's vector is the sum of
        # its words' sums, each computed once and kept (widening float16 rows costs more than
        # the arithmetic). The scale drops out when the sum is made unit length.
        word_sum = self._word_sums
        per_text = [
            [vector for word in text.split() if (vector := word_sum(word)) is not None]
            for text in texts
        ]
        rows = [row for row, vectors in enumerate(per_text) if vectors]
        if not rows:
            return result
        counts = np.array([len(per_text[row]) for row in rows])
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        stacked = np.array([vector for row in rows for vector in per_text[row]])
        sums = np.add.reduceat(stacked, starts, axis=0)
        norms = np.linalg.norm(sums, axis=1)
        kept = norms > 0
        result[np.array(rows)[kept]] = sums[kept] / norms[kept, None]
        return result


@functools.cache
def shared_embedder() -> Embedder:
    """The one embedder of this process: the model is read once (about 0.3 s, 35 MB)."""
    return Embedder()


@dataclass(frozen=True, slots=True)
class SemanticIndex:
    """A topic's example sentences as vectors, with the thresholds that raise an item."""

    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    require: tuple[str, ...]
    alert_similarity: float
    digest_similarity: float
    embedder: Embedder
    vetoes: tuple[str, ...] = ()  # an operator's counter-examples, which may overrule rules
    # Examples, counter-examples and vetoes stacked, in that order: scored in one product.
    reference_vectors: Vectors = field(default_factory=lambda: np.zeros((0, 0), np.float32))

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
        vetoes: Sequence[str] = (),
    ) -> SemanticIndex:
        """The index of ``examples`` and ``counter_examples``; ``vetoes`` (an operator's
        counter-examples, also counted among ``counter_examples``) may overrule the rules."""
        model = embedder or shared_embedder()
        examples = _distinct(examples)
        vetoes = _distinct(vetoes)
        counters = _distinct((*counter_examples, *vetoes))
        return cls(
            examples=examples,
            counter_examples=counters,
            require=tuple(require),
            alert_similarity=alert_similarity,
            digest_similarity=digest_similarity,
            embedder=model,
            vetoes=vetoes,
            reference_vectors=model.embed((*examples, *counters, *vetoes)),
        )

    def with_more(self, examples: Sequence[str], counter_examples: Sequence[str]) -> SemanticIndex:
        """This index with an operator's examples and counter-examples added."""
        return SemanticIndex.build(
            (*self.examples, *examples),
            self.counter_examples,
            require=self.require,
            alert_similarity=self.alert_similarity,
            digest_similarity=self.digest_similarity,
            embedder=self.embedder,
            vetoes=(*self.vetoes, *counter_examples),
        )

    def score(self, segments: Sequence[str]) -> SemanticScore:
        """The closest any segment comes to an example, and to a counter-example."""
        segments = [
            segment[:_LONGEST_SEGMENT]
            for segment in segments
            if len(segment.split()) >= FEWEST_WORDS
        ]
        if not segments or not self.examples:
            return SemanticScore(similarity=0.0, nearest_example="")
        # One product against every example, counter-example and veto; each one's closest
        # segment; then the closest of each kind.
        closest = (self.embedder.embed(segments) @ self.reference_vectors.T).max(axis=0).tolist()
        examples, counters = len(self.examples), len(self.counter_examples)
        best = _argmax(closest, 0, examples)
        similarity = closest[best]
        counter_similarity, nearest_counter = 0.0, ""
        if counters:
            index = _argmax(closest, examples, examples + counters)
            counter_similarity = closest[index]
            nearest_counter = self.counter_examples[index - examples]
        veto_similarity, nearest_veto = 0.0, ""
        if self.vetoes:
            index = _argmax(closest, examples + counters, len(closest))
            veto_similarity, nearest_veto = closest[index], self.vetoes[index - examples - counters]
        return SemanticScore(
            similarity=round(similarity, 3),
            nearest_example=self.examples[best],
            counter_similarity=round(counter_similarity, 3),
            nearest_counter_example=nearest_counter,
            veto_similarity=round(veto_similarity, 3),
            nearest_veto=nearest_veto,
        )


def _argmax(values: list[float], start: int, stop: int) -> int:
    return max(range(start, stop), key=values.__getitem__)


def _distinct(texts: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.strip() for text in texts if text.strip()))


def vetoed(score: SemanticScore) -> bool:
    """Whether an operator's "not relevant" feedback overrules the item: it comes within
    VETO_SIMILARITY of one, and closer to it than to any example."""
    return score.veto_similarity >= VETO_SIMILARITY and score.veto_similarity > score.similarity


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
