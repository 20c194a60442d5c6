"""Fingerprints and grouping decisions: pure functions on small, real-looking news items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.stories.fingerprint import (
    MIN_SHINGLES,
    duplicate_similarity,
    fingerprint,
    index_keys,
    term_key,
)
from monitor.stories.grouping import Candidate, decide, event_similarity, lookup_keys, rarity
from monitor.stories.settings import StorySettings
from monitor.stories.terms import content_words, headline_numbers, is_caption, names

NOW = datetime(2023, 3, 7, 12, 0, tzinfo=UTC)
SETTINGS = StorySettings()
FLAT = rarity({}, 0)  # every term as rare as any other

WIRE = (
    "Iran-backed militants fired rockets at Ain al-Asad air base in western Iraq on Tuesday, "
    "wounding two American service members, a U.S. defense official said. The attack was the "
    "third on the base this month. U.S. forces responded with an AC-130 gunship strike on a "
    "vehicle carrying the militants near Abu Ghraib, killing three of them, the official added. "
    "Kataib Hezbollah, an Iran-aligned militia, said in a statement that its fighters would "
    "keep up the pressure until U.S. troops leave Iraq. Iraq's government condemned both the "
    "attack and the American response as violations of its sovereignty. About 2,500 U.S. troops "
    "remain in Iraq to advise and assist local forces fighting the Islamic State group."
)
# The same wire story as another site runs it: its own headline, a sentence cut, a word changed.
EDITED = WIRE.replace(" The attack was the third on the base this month.", "").replace(
    "wounding", "injuring"
)
# A separate attack on the same base a week later: the same actors, place and vocabulary.
WEEK_LATER = (
    "Militants launched drones at Ain al-Asad air base in western Iraq on Wednesday, a U.S. "
    "official said, the latest in a string of attacks on American forces. Both drones were shot "
    "down and no one was hurt, the official said. No group claimed responsibility."
)
AUSTIN = [
    (
        "US defense secretary makes unannounced trip to Iraq",
        "US Secretary of Defense Lloyd Austin made an unannounced trip to Baghdad on Tuesday, "
        "according to the US press pool traveling with him.",
    ),
    (
        "Pentagon chief, on surprise trip, says US troops to stay in Iraq",
        "In Baghdad, Secretary of Defense Lloyd Austin pledges continued US troop presence in "
        "fight against ISIL.",
    ),
    (
        "Defense Secretary Lloyd Austin makes unannounced visit to Iraq",
        "Defense Secretary Lloyd Austin made an unannounced trip to Iraq on Tuesday to show a "
        "U.S. commitment to maintaining its military presence in the region.",
    ),
]


def candidate(article_id: int, title: str, text: str, at: datetime = NOW) -> Candidate:
    return Candidate(
        article_id, story_id=100 + article_id, at=at, fingerprint=fingerprint(title, text)
    )


def test_words_fold_spellings_plurals_acronyms_and_headline_synonyms() -> None:
    assert content_words("U.S. defence chiefs make unannounced trips") == [
        "us",
        "defense",
        "chief",
        "make",
        "surprise",
        "visit",
    ]
    assert names(
        "US talks open in Baghdad", "Officials said. Lloyd Austin met Mohammed al-Sudani."
    ) >= {
        "baghdad",
        "austin",
        "sudani",
    }
    # Title Case headlines capitalise everything: only acronyms count as names there.
    assert names("Defense Secretary Makes Unannounced Visit To Iraq", "") == frozenset()
    assert headline_numbers("Pentagon: 55 attacks on US troops since Oct. 17, 2023") == {"55", "17"}
    assert is_caption("Lloyd Austin speaks at the Pentagon. (Susan Walsh/AP Photo)")


def test_a_wire_copy_with_small_edits_is_a_near_duplicate() -> None:
    original = fingerprint("Rockets hit Iraq base housing US troops", WIRE)
    copy = fingerprint("Two Americans hurt in attack on Ain al-Asad", EDITED)
    other = fingerprint("Drones shot down over Iraq air base", WEEK_LATER)
    assert duplicate_similarity(original.signature, copy.signature) >= 0.5
    assert duplicate_similarity(original.signature, other.signature) < 0.2
    # Copies share LSH bands, so a lookup finds one from the other by key.
    assert set(lookup_keys(copy, FLAT)) & set(index_keys(original))

    decision = decide(
        copy, NOW, [candidate(1, "Rockets hit Iraq base housing US troops", WIRE)], FLAT, SETTINGS
    )
    assert (decision.story_id, decision.reason, decision.article_id) == (101, "duplicate", 1)
    assert decision.similarity >= 0.5


def test_a_headline_alone_is_never_called_a_copy() -> None:
    short = fingerprint("The Morning Risk Report", "")
    assert len(short.signature) == 0
    assert duplicate_similarity(short.signature, short.signature) == 0.0
    assert MIN_SHINGLES > 3


def test_the_same_event_in_different_words_joins_one_story() -> None:
    first, *others = AUSTIN
    stored = [candidate(1, *first)]
    for number, (title, lead) in enumerate(others, start=2):
        decision = decide(
            fingerprint(title, lead), NOW + timedelta(hours=number), stored, FLAT, SETTINGS
        )
        assert decision.reason == "event", title
        assert decision.story_id == 101
        assert {"austin", "visit"} & set(decision.shared)
        stored.append(Candidate(number, 101, NOW, fingerprint(title, lead)))


def test_two_attacks_on_the_same_base_a_week_apart_stay_two_stories() -> None:
    first = candidate(1, "Rockets hit Ain al-Asad base in Iraq, wounding two Americans", WIRE)
    week_later = fingerprint("Drones target Ain al-Asad base in Iraq", WEEK_LATER)
    decision = decide(week_later, NOW + timedelta(days=7), [first], FLAT, SETTINGS)
    assert (decision.story_id, decision.reason) == (None, "new")
    assert decision.article_id is None  # outside the window: not even compared


def test_different_counts_in_headlines_are_different_events() -> None:
    lead = (
        "The Pentagon said attacks on U.S. troops in Iraq and Syria have continued since October."
    )
    earlier = candidate(1, "Pentagon confirms 55 attacks on US troops in Iraq and Syria", lead)
    later = fingerprint("Pentagon confirms 58 attacks on US troops in Iraq and Syria", lead)
    assert event_similarity(later, earlier.fingerprint, FLAT, 2.0) > SETTINGS.event_similarity
    assert decide(later, NOW, [earlier], FLAT, SETTINGS).story_id is None


def test_a_reaction_is_not_another_report_of_what_it_reacts_to() -> None:
    strikes = candidate(
        1,
        "US strikes kill eight Iran-backed fighters in Iraq",
        "U.S. strikes on Kataib Hezbollah sites in Iraq killed eight fighters, officials said.",
    )
    reaction = fingerprint(
        "Iraq condemns US strikes that killed eight Iran-backed fighters",
        "Baghdad denounced the U.S. strikes on Kataib Hezbollah as a breach of its sovereignty.",
    )
    assert event_similarity(reaction, strikes.fingerprint, FLAT, 2.0) > SETTINGS.event_similarity
    assert decide(reaction, NOW, [strikes], FLAT, SETTINGS).story_id is None
    # Two reports of the reaction are one event.
    stored = Candidate(2, 102, NOW, reaction)
    again = fingerprint(
        "Iraq slams US strikes that killed eight Iran-backed fighters",
        "Baghdad denounces the strikes as a breach of its sovereignty.",
    )
    assert decide(again, NOW, [strikes, stored], FLAT, SETTINGS).story_id == 102


def test_rare_terms_weigh_more_than_the_topic_everyone_shares() -> None:
    weight = rarity({"iraq": 900, "us": 950, "austin": 2}, 1000)
    assert weight("austin") > 3 * weight("iraq")
    assert weight("never-seen") >= weight("austin")
    assert term_key("iraq") != term_key("iran")
    assert 0 < term_key("iraq") < 2**63
