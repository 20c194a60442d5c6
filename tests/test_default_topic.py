"""The shipped topic, US–Iraq security talks, on headlines written to its definition
(``core`` → alert, ``related`` → digest, look-alikes → nothing), in each language it covers."""

from __future__ import annotations

import pytest

from monitor.match.topic import Topic, match_topic
from monitor.settings import load_settings
from tests.conftest import DEFAULT_CONFIG

CORE = [
    (
        "US and Iraq agree to end coalition mission by September 2025",
        "The two governments announced a two-phase transition for the anti-ISIS coalition.",
    ),
    (
        "Iraq, US begin talks on future of coalition forces",
        "The Higher Military Commission held its first round in Baghdad on Saturday.",
    ),
    (
        "Iraqi parliament votes to expel US troops",
        "Lawmakers passed a non-binding resolution demanding the government end the foreign "
        "military presence.",
    ),
    (
        "Pentagon says US troops will stay in Iraq for now",
        "Officials said no decision had been made on a withdrawal timetable.",
    ),
    (
        "Coalition hands over Ain al-Asad air base to Iraqi forces",
        "The handover is part of the transition agreed by Washington and Baghdad.",
    ),
    (
        "Sudani: Iraq no longer needs US-led coalition",
        "The Iraqi prime minister told reporters the coalition's mission should end.",
    ),
    (
        "US-Iraq Higher Military Commission meets in Washington",
        "The HMC discussed the transition to a bilateral security partnership.",
    ),
    (
        "Washington and Baghdad hold security dialogue",
        "US and Iraqi officials discussed the future of American forces in Iraq.",
    ),
    (
        "Germany to withdraw troops from Iraq as coalition mission winds down",
        "Berlin said its soldiers in Erbil would leave by the end of the year.",
    ),
    (
        "US troop drawdown in Iraq to begin next month, officials say",
        "About 2,500 American troops are deployed in the country.",
    ),
    (
        "Iraq and US sign memorandum on bilateral security cooperation",
        "The agreement replaces the coalition framework after the mission ends.",
    ),
    (
        "Iraqi PM meets Biden at White House; security partnership on agenda",
        "The leaders discussed the transition of the US military presence in Iraq.",
    ),
    (
        "US forces complete withdrawal from Baghdad bases, move to Erbil",
        "The move follows an agreement with the Iraqi government.",
    ),
    (
        "Kurdistan Region asks US forces to stay after coalition exit",
        "Erbil officials said they want American troops to remain.",
    ),
    (
        "واشنطن وبغداد تبدآن محادثات بشأن انسحاب القوات الأمريكية من العراق",
        "اللجنة العسكرية العليا تعقد اجتماعها الأول.",
    ),
    (
        "البرلمان العراقي يصوت على إخراج القوات الأجنبية",
        "طالب النواب بإنهاء وجود قوات التحالف الدولي في العراق.",
    ),
    (
        "США и Ирак начали переговоры о выводе американских войск",
        "Высшая военная комиссия провела первое заседание в Багдаде.",
    ),
    (
        "США та Ірак домовилися про виведення військ коаліції",
        "Переговори щодо завершення місії коаліції тривали кілька місяців.",
    ),
    (
        "ئەمریکا و عێراق دانوستان لەسەر کشانەوەی هێزەکانی هاوپەیمانی دەکەن",
        "لیژنەی باڵای سەربازی لە بەغدا کۆبوویەوە.",
    ),
    (
        "U.S. to end anti-ISIS coalition mission in Iraq, transition to bilateral ties",
        "The Pentagon announced the timeline on Friday.",
    ),
]
# Headlines of issue 12, worded unlike anything the rules were first written against; the rules
# for handovers and the forces' future, and Iraqi and US leaders' names, were added for them.
HEADLINES = [
    "US hands Ain al-Asad air base over to Iraqi army",
    "Kurdistan Region asks Washington to keep forces in Erbil",
    "Sudani tells Biden security partnership must move to bilateral footing",
    "Senate hearing presses Austin on plan for forces in Iraq after 2025",
    "US general briefs Iraqi commanders on handover of training missions",
]
RELATED = [
    ("Drone attack targets US base in western Iraq", "No casualties were reported at Ain al-Asad."),
    (
        "US strikes Kataib Hezbollah targets in Iraq after troops wounded",
        "The Pentagon said the strikes were in self-defense.",
    ),
    ("Rockets hit near US embassy in Baghdad", "Iraqi security forces found the launchers."),
    (
        "Senate votes to repeal 2002 Iraq war authorization",
        "The AUMF repeal now goes to the House.",
    ),
    (
        "Iraqi PM discusses dollar shortage with US Treasury officials",
        "Baghdad seeks relief from restrictions on dollar transfers.",
    ),
    (
        "Iran-backed militias threaten US forces in Iraq",
        "The Islamic Resistance in Iraq warned of more attacks.",
    ),
    (
        "US renews sanctions waiver for Iraq to import Iranian electricity",
        "The State Department said the waiver lasts 120 days.",
    ),
    ("هجوم بطائرة مسيرة على قاعدة تضم قوات أمريكية في العراق", "لم تسجل إصابات."),
    ("Удар беспилотника по американской базе в Ираке", "Пострадавших нет."),
]
NO = [
    (
        "ISIS fighters attack Syrian army positions near Deir ez-Zor",
        "The Islamic State group remains active in eastern Syria.",
    ),
    (
        "US troops to withdraw from Niger by September",
        "The Pentagon agreed to pull out about 1,000 troops.",
    ),
    ("Iraq holds provincial elections for first time in a decade", "Turnout was 41 percent."),
    ("Iraq's football team beats Japan at Asian Cup", "Aymen Hussein scored twice."),
    (
        "Saudi-led coalition strikes Houthi positions in Yemen",
        "The coalition said it targeted drone sites.",
    ),
    (
        "Twenty years after the invasion, Iraqis reflect on the war",
        "Many recall the fall of Saddam Hussein in 2003.",
    ),
    ("US withdrawal from Afghanistan: a timeline", "American troops left Kabul in August 2021."),
    (
        "Iraqi oil exports rise to 3.4 million barrels a day",
        "Revenue from Basra terminals increased.",
    ),
    ("Protesters in Baghdad demand jobs and electricity", "Security forces fired tear gas."),
    ("France to withdraw troops from Chad", "French soldiers will leave by January."),
    (
        "Turkey strikes PKK targets in northern Iraq",
        "Ankara said the operation hit caves in the Qandil mountains.",
    ),
    (
        "Iraqi Kurdistan resumes oil exports through Turkey",
        "The Kurdistan Regional Government welcomed the deal.",
    ),
    (
        "Heat wave in Iraq pushes temperatures past 50C",
        "Baghdad recorded its hottest day of the year.",
    ),
    (
        "US Army veteran who served in Iraq wins Senate seat",
        "He campaigned on veterans' health care.",
    ),
    (
        "Iraq and Iran sign border security agreement",
        "Tehran and Baghdad agreed to disarm Kurdish opposition groups.",
    ),
    ("UN mission in Iraq to end in 2025 at Baghdad's request", "UNAMI has operated since 2003."),
]


@pytest.fixture(scope="module")
def default() -> Topic:
    return Topic.from_settings(load_settings(DEFAULT_CONFIG).topic("us-iraq-security-talks"))


@pytest.mark.parametrize(("title", "summary"), CORE, ids=[title[:40] for title, _ in CORE])
def test_core_stories_alert(default: Topic, title: str, summary: str) -> None:
    assert match_topic(default, title, summary).level == "alert"


@pytest.mark.parametrize("title", HEADLINES, ids=[title[:40] for title in HEADLINES])
def test_new_headlines_alert_on_their_own(default: Topic, title: str) -> None:
    assert match_topic(default, title, "").level == "alert"


@pytest.mark.parametrize(("title", "summary"), RELATED, ids=[t[:40] for t, _ in RELATED])
def test_related_stories_go_to_the_digest(default: Topic, title: str, summary: str) -> None:
    assert match_topic(default, title, summary).level == "digest"


@pytest.mark.parametrize(("title", "summary"), NO, ids=[title[:40] for title, _ in NO])
def test_look_alikes_match_nothing(default: Topic, title: str, summary: str) -> None:
    assert match_topic(default, title, summary).level is None
