"""The words that tell one news story from another: content words, names and headline numbers.

Two outlets rarely word a story alike ("US defense secretary makes unannounced trip to Iraq",
"Pentagon chief, on surprise trip, says US troops to stay"), so words are reduced to what they
share: spelling variants folded (the topic matcher's normalisation, British and American
spelling, "U.S." and "US"), function words dropped, plurals and a few headline synonyms merged.
Pure functions; no model and no network.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.text.tokens import Tokens, normalise, tokenize

# Function words, reporting verbs and calendar words: common to every story, so no evidence.
_STOP_TEXT = """a about above after again against all also am amid an and any are as at be because
    been before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves says said say
    saying told tell tells new news latest live update updates video watch via per one two three
    four five six seven eight nine ten first last week weeks day days year years monday tuesday
    wednesday thursday friday saturday sunday today yesterday tonight morning evening night time
    times may might must shall us"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# British spellings and a few names that outlets spell their own way.
_SPELLINGS = {
    "defence": "defense",
    "offence": "offense",
    "authorisation": "authorization",
    "authorise": "authorize",
    "authorised": "authorized",
    "organisation": "organization",
    "programme": "program",
    "centre": "center",
    "favour": "favor",
    "labour": "labor",
    "isil": "isis",
    "daesh": "isis",
}

# Headline words that mean the same event: a story told as a "surprise trip" by one outlet is an
# "unannounced visit" at another.
_SYNONYMS = {
    "unannounced": "surprise",
    "unexpected": "surprise",
    "trip": "visit",
    "tour": "visit",
    "airstrike": "strike",
    "raid": "strike",
    "killed": "kill",
    "killing": "kill",
    "wounded": "injured",
    "wound": "injured",
    "injuring": "injured",
    "injure": "injured",
    "terminate": "end",
    "revoke": "repeal",
    "rescind": "repeal",
}

# Headline verbs of a reaction to an event ("Iraq condemns US strikes", "Turkey urged to
# apologise"): a reaction is news of its own, not another report of what it reacts to. Word
# starts, to take every form of the verb.
_REACTIONS = (
    "condemn",
    "denounc",
    "slam",
    "blast",
    "rebuk",
    "critici",
    "protest",
    "reject",
    "warn",
    "urg",
    "demand",
    "apolog",
    "welcom",
    "prais",
)

# "U.S.", "U.N.", "U.K.": dotted acronyms written as one word, so "US" and "U.S." agree.
_DOTTED = re.compile(r"\b((?:[A-Za-z]\.){2,})")
_ACRONYMS = frozenset({"US", "UK", "UN", "EU"})
# A photo credit at the end of a feed summary: the summary is a caption, not the story's lead.
_CAPTION = re.compile(
    r"\([^()]*(?:Photo|Images|AFP|Reuters|AP|Getty|File|Public Domain)[^()]*\)\s*$"
)
_YEAR = re.compile(r"^(1[89]|20)\d\d$")


def prepared(text: str) -> str:
    """Normalised text with dotted acronyms closed up."""
    return _DOTTED.sub(lambda match: match.group(1).replace(".", ""), normalise(text))


def is_caption(text: str) -> bool:
    """Whether a summary is a photo caption ("… (Susan Walsh/AP Photo)") rather than a lead."""
    return bool(_CAPTION.search(text.strip()))


def canonical_word(lower: str) -> str:
    """One form for a word's spellings, plural and headline synonyms."""
    word = _SPELLINGS.get(lower, lower)
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return _SYNONYMS.get(word, word)


def _content(tokens: Tokens, limit: int | None) -> list[str]:
    words: list[str] = []
    for text, lower in zip(tokens.texts, tokens.lowers, strict=True):
        if text in _ACRONYMS:
            words.append(lower)
        elif lower not in STOP_WORDS and len(lower) > 1:
            words.append(canonical_word(lower))
        if limit is not None and len(words) >= limit:
            break
    return words


def content_words(text: str, limit: int | None = None) -> list[str]:
    """The content words of ``text`` in order, canonical forms, at most ``limit`` of them."""
    return _content(tokenize(prepared(text)), limit)


def names(title: str, lead: str) -> frozenset[str]:
    """Proper names and acronyms: capitalised words that do not start a sentence.

    A headline in Title Case (every word longer than three letters capitalised) capitalises
    names and the rest alike, so only its acronyms count as names.
    """
    found: set[str] = set()
    for part, is_title in ((title, True), (lead, False)):
        tokens = tokenize(prepared(part))
        title_case = is_title and all(word[:1].isupper() for word in tokens.texts if len(word) > 3)
        previous_sentence = -1
        for text, lower, sentence in zip(
            tokens.texts, tokens.lowers, tokens.sentences, strict=True
        ):
            starts_sentence = sentence != previous_sentence
            previous_sentence = sentence
            acronym = len(text) > 1 and text.isupper()
            capitalised = (
                text[:1].isupper()
                and lower not in STOP_WORDS
                and not title_case
                and not starts_sentence
            )
            if acronym or capitalised:
                found.add(canonical_word(lower))
    return frozenset(found)


def headline_numbers(title: str) -> frozenset[str]:
    """Numbers in a headline other than years: "attacked 55 times" is not "57 times"."""
    return frozenset(
        word for word in tokenize(prepared(title)).texts if word.isdigit() and not _YEAR.match(word)
    )


def shingles(text: str, size: int = 3) -> list[str]:
    """Overlapping runs of ``size`` content words: what two copies of one wire story share."""
    words = content_words(text)
    if len(words) < size:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]


@lru_cache(maxsize=1 << 14)
def is_reaction(title_terms: frozenset[str]) -> bool:
    """Whether a headline reports a reaction: it has a word such as "condemns" or "urges"."""
    return any(term.startswith(_REACTIONS) for term in title_terms)
