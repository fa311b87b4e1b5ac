"""The live app in a real browser: Debian's chromium, driven by Playwright.

``make test-app`` installs what this needs (chromium from Debian if ``/usr/bin/chromium`` is
missing, the ``[app]`` extra with Playwright) and runs ``pytest -m app``; the default suite leaves
it out. Playwright never downloads a browser here: it starts the system chromium
(``executable_path``) headless, with a fresh profile and the flags that keep it off the network.

The test starts ``school-exit app`` on a free localhost port in a subprocess, waits until it
answers, opens the page, moves two sliders (one reported year; no census-date off-rolling spike
in the policy run), presses Reset and the run button, watches the progress pass through the
weeks, waits for the end, checks the summary in words, the settings the run used and the three
charts, saves a screenshot and stops the server. About 20 to 40 seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = os.environ.get("SCHOOL_EXIT_APP_SCREENSHOT")  # also save the screenshot here


def _missing(what: str):
    """Under `make test-app` or CI a missing browser is a failure (the target installs it); elsewhere a skip."""
    message = f"{what} (make test-app installs it)"
    if os.environ.get("CI") or os.environ.get("SCHOOL_EXIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """``school-exit app`` on a free port; yields its address, then stops it."""
    try:
        import solara  # noqa: F401
    except ImportError:
        _missing("the [app] extra is not installed")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "app", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app server exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app server did not answer in 90 s:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        log.close()


@pytest.fixture
def browser_page(tmp_path):
    if not Path(CHROMIUM).is_file():
        _missing(f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh profile
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1600, "height": 1100},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            context.close()


def _slider(page, label: str):
    """The Vuetify slider of the sidebar input labelled ``label``."""
    return page.locator(".v-input", has_text=label).locator("[role=slider]")


def test_choose_levers_run_and_see_the_paired_charts(server, browser_page, tmp_path):
    page = browser_page
    page.goto(server, wait_until="domcontentloaded")
    status = page.locator(".app-status")
    status.wait_for()
    assert "Ready: 8,000 pupils" in status.inner_text()

    # Move two sliders with the keyboard, as a presenter would with the mouse, then build the runs.
    _slider(page, "Reported years").focus()
    page.keyboard.press("Home")  # 1 year
    _slider(page, "Census off-roll spike").focus()
    page.keyboard.press("Home")  # 0: no census-date spike in the policy run
    page.get_by_role("button", name="Reset").click()
    page.locator(".app-status", has_text="9 years to simulate").wait_for()
    settings = page.locator(".app-settings").inner_text()
    assert re.search(r"Census-date off-rolling spike.*\t0 from 2023/24\t1", settings), settings
    assert page.locator(".app-chart-waiting").count() == 3

    # Run: the progress passes through the weeks, then the summary and the charts appear.
    started = time.monotonic()
    page.get_by_role("button", name="▶").click()
    page.locator(".app-status", has_text=re.compile(r"Week \d+ of 468")).wait_for()
    page.locator(".app-status", has_text="Done: 468 weeks").wait_for(timeout=120_000)
    seconds = time.monotonic() - started
    summary = page.locator(".app-summary").inner_text()
    assert re.search(r"2023/24 to 2023/24: \d+\.\d (fewer|more) children per 1,000 a year left a school roll", summary)
    assert "in an authority of 80,000 pupils" in summary
    assert page.locator(".app-chart-waiting").count() == 0
    charts = page.locator(".vue-grid-item img")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, box
    settings = page.locator(".app-settings").inner_text()
    assert re.search(r"Census-date off-rolling spike.*\t0\t1", settings), settings
    page.wait_for_timeout(500)
    shot = tmp_path / "app.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    if SCREENSHOT:
        shutil.copyfile(shot, SCREENSHOT)
    assert seconds < 90, f"one paired run took {seconds:.0f} s in the browser"
