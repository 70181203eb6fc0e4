"""The console in a real browser on a phone-sized screen (360×740): sign in as admin, add an editor, sign out; the editor opens an article.

Debian's chromium drives it (never a downloaded browser); the screenshots it takes are
docs/screenshots/console-*.png, the pictures of the console the README can show.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import uvicorn

from bot.console.app import create_app
from bot.console.config import ConsoleConfig
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.knowledge.pack import load_pack
from bot.knowledge.store import replace_content
from bot.evaluation import free_port
from tests.console.staff_client import PASSWORD, add_person

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium (/usr/bin/chromium) is not installed yet: `make test` installs it")


@pytest.fixture
def console_url(sqlite_url, small_pack):
    upgrade_schema(sqlite_url)
    with session_scope(engine_for(sqlite_url)) as session:
        replace_content(session, load_pack(small_pack))
    add_person(sqlite_url, "admin", "nuria@example.org", "Núria Vila")
    port = free_port()
    app = create_app(ConsoleConfig(database_url=sqlite_url, secret_key="k" * 40, allowed_hosts=["127.0.0.1"]))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, ws="none", log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the console did not start")
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding it would inject a style, which the console's content security policy blocks.
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True, caret="initial")


def _fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways at 360 px"


def test_an_admin_signs_in_adds_an_editor_and_signs_out_on_a_phone(console_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport=PHONE)
            problems = []
            refused = []  # the forms sent with mistakes, answered 400 on purpose; the browser logs each
            page.on("response", lambda response: refused.append((response.status, response.url)) if response.status >= 400 else None)
            page.on("console", lambda message: problems.append(message.text)
                    if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(f"{console_url}/staff")
            expect(page).to_have_url(f"{console_url}/sign-in?next=/staff")
            expect(page.get_by_label("E-mail address")).to_be_focused()
            _shot(page, "sign-in")

            page.get_by_label("E-mail address").fill("nuria@example.org")
            page.get_by_label("Password").fill("not the password")
            page.keyboard.press("Enter")
            expect(page.get_by_role("alert")).to_contain_text("The e-mail address or the password is not right.")
            expect(page.get_by_label("E-mail address")).to_have_value("nuria@example.org")
            _shot(page, "sign-in-refused")

            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{console_url}/staff")
            expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
            page.get_by_role("link", name="Home").click()
            expect(page.get_by_role("heading", name="Hello, Núria Vila")).to_be_visible()
            _fits_the_screen(page)
            _shot(page, "home")
            page.reload()
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
            page.keyboard.press("Enter")
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Articles").last).to_be_focused()  # the first link of the page's content
            _shot(page, "keyboard")

            page.get_by_role("link", name="Staff accounts").first.click()
            page.locator("summary", has_text="Add an account").click()
            page.get_by_label("E-mail address").fill("jordi")
            page.get_by_label("Name").fill("Jordi <b>Soler</b>")
            page.get_by_label("Password", exact=True).fill("short")
            page.get_by_role("button", name="Add the account").click()
            summary = page.locator(".error-summary")
            expect(summary).to_contain_text("E-mail address: write a whole e-mail address")
            expect(summary).to_contain_text("Password: use at least 12 characters")
            expect(page.get_by_label("Name")).to_have_value("Jordi <b>Soler</b>")
            expect(page.get_by_label("Password", exact=True)).to_have_value("")
            _fits_the_screen(page)
            _shot(page, "staff-errors")

            expect(page.get_by_label("E-mail address")).to_have_value("jordi")  # the form stays open with what was typed
            page.get_by_label("E-mail address").fill("jordi@example.org")
            page.get_by_label("Name").fill("Jordi Soler")
            page.get_by_label("editor").check()
            page.get_by_label("Password", exact=True).fill("a long enough password")
            page.get_by_label("Password again").fill("a long enough password")
            page.get_by_role("button", name="Add the account").click()
            expect(page.get_by_role("status")).to_contain_text("Account created for Jordi Soler (editor).")
            expect(page.get_by_role("heading", name="Jordi Soler")).to_be_visible()
            _fits_the_screen(page)
            _shot(page, "staff")

            page.get_by_role("link", name="Audit log").click()
            expect(page.locator(".entry").first).to_contain_text("staff.create")
            _fits_the_screen(page)
            _shot(page, "audit")

            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(f"{console_url}/sign-in")
            expect(page.get_by_role("status")).to_contain_text("You are signed out.")
            _shot(page, "signed-out")

            page.get_by_label("E-mail address").fill("jordi@example.org")
            page.get_by_label("Password").fill("a long enough password")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("link", name="Articles").first.click()
            expect(page.get_by_role("heading", name="Whole territory")).to_be_visible()
            _fits_the_screen(page)  # the matrix scrolls inside its own region
            _shot(page, "articles")
            page.get_by_role("link", name="health_card, Arabic, Whole territory: missing").click()
            expect(page.get_by_role("heading", name="Write the Arabic article")).to_be_visible()
            expect(page.get_by_label("Title")).to_have_attribute("dir", "rtl")
            page.get_by_label("Title").fill("البطاقة الصحية")
            _fits_the_screen(page)
            _shot(page, "article")
            assert problems == [], "\n".join(problems)  # no script errors, nothing the content security policy blocked
            assert refused == [(400, f"{console_url}/sign-in"), (400, f"{console_url}/staff")]
        finally:
            browser.close()
