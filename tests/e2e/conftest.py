"""Browser fixtures for the widget end-to-end tests (Debian's Chromium driven by Playwright).

- `browser`: one Chromium for the session; FAILS (never skips) when /usr/bin/chromium is missing.
- `new_page(**context_options)`: a page in a fresh browser context (fresh localStorage); every
  page is screenshotted at the end of the test to test-artifacts/screenshots/<test-name>.png
  (pass or fail), then its context is closed; an uncaught JavaScript error in a page fails the
  test at teardown.
- `page`: `new_page()` with the default desktop viewport (1280x900).
- `screenshot(page, step)`: an extra mid-test screenshot, <test-name>-<step>.png.
- `start_server(tiny=False)`: another real `LiveServer` (stopped at teardown if still running).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from helpers import LiveServer, write_tiny_corpus

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}

# answers come back in well under a second; the margin is for a loaded 2-core CI machine
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh` (as root) to install "
            "Debian's Chromium for the e2e tests (CI installs it; never `playwright install`).",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
    yield browser
    browser.close()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "test"


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Factory: new_page(**context_options) -> Page in a fresh context; screenshots at the end."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    page_errors: list[str] = []

    def make(**context_options: Any) -> Page:
        options: dict[str, Any] = {"viewport": DESKTOP, "locale": "en-US"}
        options.update(context_options)
        context = browser.new_context(**options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(f"{page.url}: {exc}"))
        pages.append(page)
        return page

    yield make

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = _safe_name(request.node.name)
    for i, page in enumerate(pages):
        path = SCREENSHOTS / (f"{base}.png" if i == 0 else f"{base}-{i + 1}.png")
        try:
            if not page.is_closed():
                page.screenshot(path=str(path), timeout=10_000)
        except Exception as exc:  # a screenshot failure must not hide the test's own result
            print(f"screenshot {path.name} failed: {exc}")
    for context in contexts:
        context.close()
    if page_errors:
        pytest.fail("uncaught JavaScript errors in the page:\n" + "\n".join(page_errors))


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """screenshot(page, "step") saves an extra test-artifacts/screenshots/<test-name>-step.png."""

    def take(page: Page, suffix: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_safe_name(request.node.name)}-{_safe_name(suffix)}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Factory for extra real servers, each with its own data dir; all stopped at teardown.

    start_server() serves the real corpus. start_server(tiny=True) serves the two-document tiny
    corpus of tests/helpers.py (its article is the demo page): the same server code, but with
    next to nothing to index it is ready in about half the time on a busy 2-core machine.
    """
    servers: list[Any] = []

    def start(*, tiny: bool = False) -> Any:
        folder = tmp_path / f"server{len(servers)}"
        folder.mkdir()  # LiveServer writes its log next to the data dir
        options: dict[str, Any] = {}
        if tiny:
            options["corpus_dir"] = write_tiny_corpus(folder)
            options["IVIG_CHAT_DEFAULT_ARTICLE"] = "tiny-article"
        server = LiveServer(folder / "data", **options)
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.stop()
