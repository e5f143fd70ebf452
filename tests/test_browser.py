"""The explorer in a real browser: headless Chromium (Debian's /usr/bin/chromium) via Playwright.

Starts ``streamlit run app.py`` on a free port against a private copy of the
sample database, clicks through Person and Refer, checks what a user sees
(including that a name holding HTML shows as text, never as markup), and saves
screenshots to tests/screenshots/ (gitignored). Never downloads a browser: if
Chromium is missing or cannot start, the test is skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HTML_NAME = "<b>Ada</b> <script>alert(1)</script> Lovelace"
TIMEOUT_MS = 30_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 40.0) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError("streamlit did not answer within 40 s")


@pytest.fixture(scope="module")
def server(warm_sample_db, copy_db, tmp_path_factory):
    # the sample with its model cached (fitting it inside the app is covered by tests/test_app*.py)
    db = copy_db(warm_sample_db, tmp_path_factory.mktemp("browser") / "app.db")
    port = _free_port()
    env = dict(os.environ, FRACNET_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    log = open(db.parent / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"BROWSER TEST SKIPPED: {CHROMIUM} is missing (install Debian's package: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"BROWSER TEST SKIPPED: the playwright Python package is not installed ({exc})")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch failure is a skip with its reason
        pw.stop()
        pytest.skip(f"BROWSER TEST SKIPPED: playwright could not launch {CHROMIUM}: {exc}")
    yield b
    b.close()
    pw.stop()


def _wait_idle(page) -> None:
    """Wait until Streamlit has finished the current run (no 'running' indicator)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        " return !w || !(w.innerText.includes('Running') || w.innerText.includes('Stop')); }",
        timeout=TIMEOUT_MS)
    page.wait_for_timeout(300)


def _no_injected_markup(page) -> None:
    # the name shows as text: no <b>Ada</b> element and no script carrying alert(1) in the app
    assert page.evaluate("() => [...document.querySelectorAll('b')].filter(b => b.textContent === 'Ada').length") == 0
    assert page.evaluate(
        "() => [...document.querySelectorAll('script')].filter(s => s.textContent.includes('alert(1)')).length") == 0


def _find_node(page, text: str, legend_px: int = 130):
    """Move the mouse outward from the plot's middle until Vega's tooltip shows ``text``."""
    box = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
    cx, cy = box["x"] + (box["width"] - legend_px) / 2, box["y"] + box["height"] / 2
    offsets = sorted(((dx, dy) for dx in range(-90, 91, 4) for dy in range(-70, 71, 4)),
                     key=lambda o: o[0] ** 2 + o[1] ** 2)
    for dx, dy in offsets:
        page.mouse.move(cx + dx, cy + dy)
        if page.evaluate("t => { const e = document.getElementById('vg-tooltip-element');"
                         " return !!e && e.classList.contains('visible') && e.textContent.includes(t); }", text):
            return (cx + dx, cy + dy)
    return None


def test_person_and_refer_in_a_browser(server, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)  # allow for a loaded machine
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialogs = []
    page = browser.new_page(viewport={"width": 1440, "height": 2000})
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_default_timeout(TIMEOUT_MS)

    # Overview, then pick the person by typing into the searchable sidebar picker
    page.goto(server + "/")
    expect(page.get_by_text("Fractionals by function")).to_be_visible()
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    picker.click()
    page.keyboard.type("Lovelace")
    page.get_by_role("option", name=HTML_NAME, exact=False).first.click()
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "01_overview.png"), full_page=True)

    # Person: grouped recommendations with reasons and an add-to-outreach button
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Person", exact=True).click()
    expect(page.get_by_text("Peers (same function, complementary specialty)")).to_be_visible()
    expect(page.get_by_text("Adjacent fractionals (same kind of client)")).to_be_visible()
    expect(page.get_by_text("Executives in your ICP")).to_be_visible()
    expect(page.locator("h1").filter(has_text=HTML_NAME)).to_be_visible()
    _no_injected_markup(page)
    page.get_by_role("button", name="Add to outreach").first.click()
    _wait_idle(page)
    expect(page.get_by_role("button", name="In list ✓").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "02_person.png"), full_page=True)

    # Refer: fill the form, submit, see the lane check and the picks
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Refer an opportunity", exact=True).click()
    expect(page.get_by_role("button", name="Find the best peers")).to_be_visible()
    needs = page.locator('[data-testid="stMultiSelect"]').first
    needs.click()
    page.keyboard.type("fundraising")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_label("Description").fill("Series A SaaS company needs a forecast model before its raise")
    page.get_by_role("button", name="Find the best peers").click()
    _wait_idle(page)
    expect(page.get_by_text("Out of your lane", exact=False)).to_be_visible()
    expect(page.get_by_text("Refer to these", exact=False)).to_be_visible()
    expect(page.get_by_text("Draft notes (double opt-in)")).to_be_visible()
    assert page.get_by_role("button", name="Log referral").count() >= 2
    page.screenshot(path=str(SHOTS / "03_refer.png"), full_page=True)
    page.get_by_role("button", name="Log referral").first.click()
    _wait_idle(page)
    expect(page.get_by_text("Logged referral", exact=False)).to_be_visible()
    page.screenshot(path=str(SHOTS / "04_refer_logged.png"), full_page=True)

    # Network map: drawn, capped, and the HTML name still text
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Network", exact=True).click()
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    _wait_idle(page)
    page.wait_for_timeout(800)
    _no_injected_markup(page)
    # hover the chosen person (drawn at the middle of the plot): the tooltip shows the name as text
    spot = _find_node(page, "Lovelace")
    assert spot is not None, "no tooltip for the chosen person near the middle of the map"
    tip = page.evaluate("() => document.getElementById('vg-tooltip-element').innerHTML")
    assert "&lt;script&gt;" in tip and "<script" not in tip
    page.screenshot(path=str(SHOTS / "05_network.png"), full_page=True)
    # selecting a node shows that person
    page.mouse.click(*spot)
    _wait_idle(page)
    expect(page.get_by_role("button", name="Open profile")).to_be_visible()
    page.screenshot(path=str(SHOTS / "06_network_selected.png"), full_page=True)

    for name, shot in (("Outreach list", "07_outreach.png"), ("Insights", "08_insights.png"), ("Data", "09_data.png")):
        page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
        _wait_idle(page)
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / shot), full_page=True)
    _no_injected_markup(page)
    assert not dialogs, f"a script ran in the page: {dialogs}"
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
    page.close()
