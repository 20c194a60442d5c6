"""The console in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium; nothing is downloaded): a running ``monitor run`` daemon over three local outlets
carrying one story, and a local webhook receiver. Each test does what an operator does and
checks what the page then shows.

With MONITOR_TEST_SCREENSHOTS=DIR the tests save a screenshot of each page there (docs/console in
the README was made so).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import ROOT, write_config
from tests.console_site import TOKEN
from tests.test_stories_pipeline import serve_outlets
from tests.web import Item, Receiver, Site, rss

CHROMEDRIVER, CHROMIUM = Path("/usr/bin/chromedriver"), Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parent / "fixtures"
T = TypeVar("T")
WAIT_SECONDS = 15

if not (CHROMEDRIVER.exists() and CHROMIUM.exists()):
    reason = "Debian's chromium and chromium-driver are not installed (.ci/run installs them)"
    if os.environ.get("MONITOR_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only once the browser is known to be there)
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class Background:
    """An event loop in a thread, for the local servers the daemon talks to."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Daemon:
    """``monitor run`` with the console on a free port, and the servers it polls."""

    def __init__(self, tmp: Path) -> None:
        self.background = Background()
        self.site = self.background.run(Site().start())
        self.receiver = self.background.run(Receiver().start())
        self.port = free_port()
        self.database = tmp / "monitor.db"
        config = write_config(
            tmp / "monitor.toml",
            database_url=f"sqlite+aiosqlite:///{self.database}",
            feeds=serve_outlets(self.site),
            webhook_url=self.receiver.url,
            sections={
                "http": {"port": self.port, "token": TOKEN},
                "poll": {"tick_seconds": 0.2},
                "delivery": {"tick_seconds": 0.2},
            },
        )
        self.log = (tmp / "daemon.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until(lambda: self._answers("/healthz"))
        self.wait_until(lambda: len(self.receiver.deliveries) == 1)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.url(path), timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def wait_until(self, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not check():
            assert self.process.poll() is None, "the daemon stopped"
            assert time.monotonic() < deadline, "timed out waiting for the daemon"
            time.sleep(0.1)

    def sql(self, statement: str) -> list[Any]:
        with sqlite3.connect(self.database, timeout=10) as connection:
            return connection.execute(statement).fetchall()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        self.background.run(self.site.close())
        self.background.run(self.receiver.close())
        self.background.stop()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    running = Daemon(tmp_path_factory.mktemp("console"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[WebDriver]:
    """One headless Chromium for every browser test."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium: WebDriver, daemon: Daemon) -> WebDriver:
    """The shared browser, signed in to the console."""
    chromium.get(daemon.url("/"))
    if "/login" in chromium.current_url:
        chromium.find_element(By.ID, "token").send_keys(TOKEN)
        press(chromium, chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        WebDriverWait(chromium, WAIT_SECONDS).until(lambda d: "/login" not in d.current_url)
    return chromium


def shot(driver: WebDriver, name: str) -> None:
    folder = os.environ.get("MONITOR_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, max(600, min(int(height), 2000)))
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))
        driver.set_window_size(1280, 900)


def press(driver: WebDriver, element: WebElement) -> None:
    """Click what loads a new page, and wait until the browser has left the old one: a form's
    answer is read from the page it leads to, never from the page that sent it.

    The old page is marked in its window object, which the new page does not have; while the
    browser is between the two, chromedriver may answer any question with an error, so
    errors mean "not there yet"."""
    driver.execute_script("window.monitorTestLeft = false")
    element.click()
    WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.monitorTestLeft === undefined && document.readyState === 'complete'"
        )
    )


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def refreshed_until(driver: WebDriver, check: Callable[[WebDriver], bool]) -> None:
    """Reload the page until ``check`` holds: the console has no script to update itself."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not check(driver):
        assert time.monotonic() < deadline, f"the page never showed it: {driver.current_url}"
        time.sleep(0.3)
        driver.refresh()


def test_signing_in_with_the_token_shows_the_overview(chromium: WebDriver, daemon: Daemon) -> None:
    chromium.delete_all_cookies()
    chromium.get(daemon.url("/alerts"))
    assert "/login" in chromium.current_url
    shot(chromium, "login")
    chromium.find_element(By.ID, "token").send_keys("not-the-token-at-all")
    press(chromium, chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    assert "not the one" in text_of(chromium, "problem")
    chromium.find_element(By.ID, "token").send_keys(TOKEN)
    press(chromium, chromium.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
    WebDriverWait(chromium, WAIT_SECONDS).until(lambda d: d.current_url.endswith("/alerts"))
    chromium.get(daemon.url("/"))
    assert "ok\n3" in text_of(chromium, "feeds-summary")
    assert "delivered\n1" in text_of(chromium, "alerts-summary")
    shot(chromium, "overview")


def test_a_feed_added_through_the_form_is_polled(browser: WebDriver, daemon: Daemon) -> None:
    added = daemon.site.serve(
        "/fourth.xml",
        rss([Item("Weather in Oslo", daemon.site.url("/oslo"))], title="Fourth Outlet"),
    )
    browser.get(daemon.url("/feeds"))
    browser.find_element(By.ID, "url").send_keys(added)
    browser.find_element(By.ID, "name").send_keys("Fourth")
    press(browser, browser.find_element(By.CSS_SELECTOR, "#add-feed button"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: "/feeds/" in d.current_url)
    refreshed_until(browser, lambda d: text_of(d, "feed-title") == "Fourth Outlet")
    assert text_of(browser, "feed-state") == "ok"
    assert text_of(browser, "feed-status") == "200"
    assert text_of(browser, "feed-checked") != "-"
    shot(browser, "feed")
    browser.get(daemon.url("/feeds"))
    assert "Fourth" in text_of(browser, "feeds")
    shot(browser, "feeds")


def test_splitting_an_article_gives_it_a_story_and_an_alert(
    browser: WebDriver, daemon: Daemon
) -> None:
    browser.get(daemon.url("/stories"))
    shot(browser, "stories")
    press(browser, browser.find_element(By.CSS_SELECTOR, "#stories tbody a"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#articles tbody tr")
    assert len(rows) == 3
    assert "a copy of" in rows[1].text
    shot(browser, "story")
    moved = rows[1].find_element(By.TAG_NAME, "td").text
    press(browser, rows[1].find_element(By.CSS_SELECTOR, "form button"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: "split=" in d.current_url)
    assert f"Article {moved} now has a story of its own" in text_of(browser, "split-note")
    [row] = browser.find_elements(By.CSS_SELECTOR, "#articles tbody tr")
    assert row.find_element(By.TAG_NAME, "td").text == moved
    refreshed_until(browser, lambda d: "delivered" in text_of(d, "story-alerts"))
    assert "article.matched" in text_of(browser, "story-alerts")
    daemon.wait_until(lambda: len(daemon.receiver.deliveries) == 2)


def test_a_dead_alert_is_retried_and_delivered(browser: WebDriver, daemon: Daemon) -> None:
    [(alert_id,)] = daemon.sql("SELECT id FROM alerts ORDER BY created_at LIMIT 1")
    daemon.sql(
        f"UPDATE alerts SET status = 'dead', last_error = 'HTTP 500' WHERE id = '{alert_id}'"
    )
    browser.get(daemon.url("/alerts?status=dead"))
    assert "HTTP 500" in text_of(browser, "alerts")
    shot(browser, "alerts")
    press(browser, browser.find_element(By.CSS_SELECTOR, "#alerts tbody a"))
    assert text_of(browser, "alert-status") == "dead"
    press(browser, browser.find_element(By.ID, "retry"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: "retried=1" in d.current_url)
    assert "Retry queued" in text_of(browser, "retried")
    refreshed_until(browser, lambda d: text_of(d, "alert-status") == "delivered")
    assert "200" in text_of(browser, "attempts")
    shot(browser, "alert")


def test_an_opml_file_is_imported(browser: WebDriver, daemon: Daemon) -> None:
    browser.get(daemon.url("/feeds"))
    browser.find_element(By.ID, "file").send_keys(str(FIXTURES / "feeds.opml"))
    press(browser, browser.find_element(By.CSS_SELECTOR, "#import-opml button"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: d.find_elements(By.ID, "import-result"))
    assert text_of(browser, "import-result").startswith("NOT imported: 2 feed(s) added")
    assert "ftp://example.org/feed" in text_of(browser, "invalid")
    browser.get(daemon.url("/feeds"))
    browser.find_element(By.ID, "file").send_keys(str(FIXTURES / "feeds.opml"))
    browser.find_element(By.NAME, "skip_invalid").click()
    press(browser, browser.find_element(By.CSS_SELECTOR, "#import-opml button"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: d.find_elements(By.ID, "import-result"))
    assert text_of(browser, "import-result").startswith("imported: 2 feed(s) added")
    assert "courier.xml?api_key=***" in text_of(browser, "added")
    assert text_of(browser, "repeated").splitlines() == [
        "http://127.0.0.1:9/wire.xml: listed 2 times in folders News, Elsewhere",
        "http://127.0.0.1:9/courier.xml?api_key=***: listed 2 times in folder News/Middle East",
    ]
    assert "SECRET123" not in browser.page_source
    shot(browser, "import")


def test_trying_a_headline_explains_the_verdict(browser: WebDriver, daemon: Daemon) -> None:
    browser.get(daemon.url("/topics"))
    browser.find_element(By.ID, "title").send_keys(
        "US and Iraq open talks on the withdrawal of American troops"
    )
    press(browser, browser.find_element(By.CSS_SELECTOR, "#try button"))
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: d.find_elements(By.ID, "result"))
    assert text_of(browser, "result-level") == "alert"
    assert float(text_of(browser, "result-score")) > 0
    assert "It would alert at once" in text_of(browser, "result-explanation")
    shot(browser, "topics")
