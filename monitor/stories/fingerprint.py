"""An article's story fingerprint: what grouping compares, and the keys it is looked up by.

Two kinds of evidence. Syndicated copies of one wire story share long runs of words, so a
MinHash over word shingles of title and text estimates their Jaccard similarity in constant
space, and LSH bands of that MinHash (32 bands of 4 values) make copies of about 0.5 similarity
or more share a band key with high probability. Different write-ups of one event share far
fewer runs but the same words and names in their headlines and leads, so the title and lead
terms are kept as sets and each becomes a lookup key too. Pure functions over frozen records.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache

from monitor.records import StoryFingerprint
from monitor.stories.evidence import BODY_WORDS, actions, figures, renews
from monitor.stories.terms import content_words, headline_numbers, is_caption, names, shingles

NUM_PERM = 128
BANDS, ROWS = 32, 4  # P(shared band) = 1 - (1 - J**4)**32: 0.87 at J = 0.5, 0.23 at J = 0.3
# The permutation scheme and seed are part of every stored signature: changing them makes old
# signatures incomparable, so they are fixed here, not configurable.
_SCHEME, _SEED = "affine32", 1
# Below this many shingles a text is a headline or a caption, too short to call a copy.
MIN_SHINGLES = 8
_KEY_MASK = (1 << 63) - 1  # keys fit a signed 64-bit column
_CHARACTERS_PER_WORD = 15  # generous: content words, with the function words between them


@lru_cache(maxsize=1)
def _permutations() -> object:
    # Imported here: datasketch loads SciPy (a second of start-up), and a check that finds no
    # new article never signs one.
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations


def fingerprint(
    title: str,
    text: str,
    *,
    lead: str = "",
    lead_words: int = 40,
    at: datetime | None = None,
) -> StoryFingerprint:
    """The fingerprint of an article: ``lead`` is the feed's summary (a photo caption is
    ignored), else the start of ``text`` is the lead. ``at``, the publication time, dates
    the weekdays the text mentions ("on Tuesday")."""
    own_lead = bool(lead) and not is_caption(lead)
    if not own_lead:
        lead = text
    # The event evidence reads the text further than the lead: the page when it was fetched.
    body = text[: BODY_WORDS * _CHARACTERS_PER_WORD]
    evidence = f"{title}\n{lead}\n{body}" if own_lead else f"{title}\n{body}"
    # Enough characters for the lead's words; names and terms past the lead are not compared.
    lead = lead[: lead_words * _CHARACTERS_PER_WORD]
    title_words = content_words(title)
    lead_terms = content_words(lead, lead_words)
    article_names = names(title, lead)
    runs = shingles(f"{title}\n{text}")
    signature = b""
    if len(runs) >= MIN_SHINGLES:
        from datasketch import MinHash

        minhash = MinHash(
            num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME, permutations=_permutations()
        )
        minhash.update_batch([run.encode() for run in runs])
        signature = minhash.hashvalues.astype("<u4").tobytes()
    return StoryFingerprint(
        title_terms=frozenset(title_words),
        terms=frozenset(title_words) | frozenset(lead_terms) | article_names,
        names=article_names,
        numbers=headline_numbers(title),
        signature=signature,
        actions=actions(title),
        figures=figures(evidence, at),
        text_names=names("", body) - article_names,
        renewed=renews(title),
    )


def duplicate_similarity(a: bytes, b: bytes) -> float:
    """The Jaccard similarity of two texts' shingles as their signatures estimate it (as
    ``MinHash.jaccard`` does); 0 when either text was too short to sign."""
    if not a or not b or len(a) != len(b):
        return 0.0
    import numpy as np  # here: the store imports this module, and most commands never compare

    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / len(left)


@lru_cache(maxsize=1 << 16)
def term_key(term: str) -> int:
    """A term's lookup key: 63 bits of its BLAKE2b hash, never 0 (reserved). Remembered:
    the words of the news repeat, and an article is filed and looked up by the same keys."""
    return _key(b"t" + term.encode())


def band_keys(print_: StoryFingerprint) -> list[int]:
    """The LSH band keys of a signature: a band is ``ROWS`` consecutive values."""
    return list(_band_keys(print_.signature)) if print_.signature else []


@lru_cache(maxsize=256)  # an article is looked up, then filed, by the same keys
def _band_keys(signature: bytes) -> tuple[int, ...]:
    width = ROWS * 4
    return tuple(
        _key(b"b" + bytes([band]) + signature[band * width : (band + 1) * width])
        for band in range(BANDS)
    )


def _key(data: bytes) -> int:
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return (int.from_bytes(digest, "big") & _KEY_MASK) or 1


def index_keys(print_: StoryFingerprint) -> tuple[int, ...]:
    """Where an article is filed for lookup: one key per term, one per LSH band."""
    return tuple(sorted({term_key(term) for term in print_.terms} | set(band_keys(print_))))
