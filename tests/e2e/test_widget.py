"""The embeddable widget in a real browser against a real server (`live_server`, real corpus).

Playwright's CSS locators pierce the widget's open shadow root, so `page.locator(...)` finds
elements inside `ivig-chat-widget`. Screenshots: test-artifacts/screenshots/<test-name>.png.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

ARTICLE_ID = "ivig-ms"
CONVERSATION_KEY = f"ivig-chat:conversation:{ARTICLE_ID}"
INPUT = "textarea.question-input"
SEND = "button.send-button"
FINAL_ANSWER = "article.answer[data-status]"  # data-status is set once an answer is complete

Q_SPMS = "Does IVIG help in secondary progressive MS?"
Q_RRMS_FOLLOW_UP = "and what about relapsing-remitting MS?"
Q_PREGNANCY = "Is IVIG safe during pregnancy?"
Q_DIET = "What is the best diet for MS?"
Q_URGENT = "my patient has chest pain and trouble breathing during the IVIG infusion"


# ------------------------------------------------------------------------------- helpers


def open_demo(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("ivig-chat-widget")).to_have_count(1)
    expect(page.locator(INPUT)).to_be_visible()
    expect(page.locator(SEND)).to_be_enabled()


def status_class(status: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s)status-{status}(\s|$)")


def ask(page: Page, question: str, *, typed: bool = False) -> Locator:
    """Enter the question and press Enter; wait for the new answer to complete and return it."""
    answers = page.locator(FINAL_ANSWER)
    before = answers.count()
    box = page.locator(INPUT)
    if typed:
        box.click()
        box.press_sequentially(question)
    else:
        box.fill(question)
    box.press("Enter")
    expect(answers).to_have_count(before + 1)
    return answers.nth(before)


def sse_events(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in re.split(r"\r?\n\r?\n", body):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.scrollingElement.scrollWidth,"
        " client: document.scrollingElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"] + 1, widths


def assert_no_placeholder_text(locator: Locator) -> None:
    """No "null" / "undefined" / "[object Object]" leaked into the rendered text."""
    text = locator.inner_text()
    lines = {line.strip() for line in text.splitlines()}
    assert not lines & {"null", "undefined", "NaN"}, text
    assert "[object Object]" not in text, text


def assert_citation_details(panel: Locator, citation: dict[str, Any]) -> None:
    """The open panel shows this citation's quote, reference number and source link (if any)."""
    expect(panel.locator("blockquote.citation-quote")).to_have_text(citation["quote"])
    if citation["ref"] is not None:
        expect(panel.locator(".citation-ref")).to_have_text(
            f"Reference {citation['ref']} of the article"
        )
    else:
        expect(panel.locator(".citation-ref")).to_have_count(0)
    link = panel.locator("a.citation-link")
    if citation["url"]:
        expect(link).to_have_attribute("href", citation["url"])
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", re.compile(r"\bnoopener\b"))
    else:
        expect(link).to_have_count(0)


# Records, from inside the page, every moment an answer is in its streaming state.
STREAM_RECORDER = """() => {
  const root = document.querySelector('ivig-chat-widget').shadowRoot;
  const rec = { streaming: 0, busy: 0, lengths: [] };
  window.__ivcRec = rec;
  const check = () => {
    for (const a of root.querySelectorAll('article.answer')) {
      if (a.getAttribute('aria-busy') === 'true') rec.busy++;
      if (!a.classList.contains('answer-streaming')) continue;
      rec.streaming++;
      const body = a.querySelector('.answer-body');
      const n = body ? body.textContent.length : 0;
      if (rec.lengths[rec.lengths.length - 1] !== n) rec.lengths.push(n);
    }
  };
  new MutationObserver(check).observe(root, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  // The bytes of each stream as the widget receives them (a tee of the real response): the
  // browser's own copy of a finished streaming body is not always kept for the test to read.
  rec.streams = [];
  const original = window.fetch;
  window.fetch = async (...args) => {
    const res = await original(...args);
    if (!String(args[0]).endsWith('/v1/chat/stream') || !res.body) return res;
    const entry = { text: '', done: false };
    rec.streams.push(entry);
    const [mine, theirs] = res.body.tee();
    (async () => {
      const reader = mine.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        entry.text += decoder.decode(value, { stream: true });
      }
      entry.done = true;
    })();
    const init = { status: res.status, statusText: res.statusText, headers: res.headers };
    return new Response(theirs, init);
  };
}"""


# --------------------------------------------------------------------------------- tests


def test_ask_streams_cites_and_follows_up(
    page: Page, live_server: Any, screenshot: Callable[[Page, str], Any]
) -> None:
    base = live_server.base_url
    open_demo(page, base)
    page.evaluate(STREAM_RECORDER)

    # typed + Enter; the streaming response is captured from the network
    with page.expect_response(lambda r: r.url == base + "/v1/chat/stream") as first_info:
        box = page.locator(INPUT)
        box.click()
        box.press_sequentially(Q_SPMS)
        box.press("Enter")
    answer = page.locator(FINAL_ANSWER).first
    expect(answer).to_have_class(status_class("answered"))
    expect(answer).to_have_attribute("aria-busy", "false")
    expect(page.locator(".user-message").first).to_contain_text(Q_SPMS)
    expect(box).to_have_value("")  # sent questions leave the box

    response = first_info.value
    assert response.status == 200
    assert "text/event-stream" in response.headers["content-type"]
    page.wait_for_function("window.__ivcRec.streams.length > 0 && window.__ivcRec.streams[0].done")
    events = sse_events(page.evaluate("window.__ivcRec.streams[0].text"))
    names = [name for name, _ in events]
    assert names[0] == "meta" and names[-1] == "done", names
    assert names.count("delta") >= 2, names
    done = events[-1][1]
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    assert streamed.strip() and done["status"] == "answered"
    assert answer.get_attribute("data-turn-id") == done["turn_id"]

    recorded = page.evaluate("window.__ivcRec")
    print("streaming states seen:", recorded)
    assert recorded["streaming"] > 0 and recorded["busy"] > 0, recorded  # seen mid-stream

    # disclaimer shown once, under the answer, not repeated inside the answer text
    disclaimer = answer.locator("p.disclaimer")
    expect(disclaimer).to_be_visible()
    expect(disclaimer).to_contain_text("healthcare professionals")
    assert "assumes no liability" not in answer.locator(".answer-body").inner_text()

    # citations: open the first chip, check the quote against the cited document
    chips = answer.locator("button.citation-chip")
    assert chips.count() >= 1
    chip = chips.first
    expect(chip).to_have_attribute("aria-expanded", "false")
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    panel = answer.locator(".citation-panel")
    expect(panel).to_be_visible()
    n = int(chip.get_attribute("data-n") or "0")
    cited = next(c for c in done["citations"] if c["n"] == n)
    doc = httpx.get(f"{base}/v1/documents/{cited['doc_id']}", timeout=10).json()
    quote = panel.locator("blockquote.citation-quote")
    expect(quote).to_be_visible()
    quote_text = quote.inner_text()
    assert quote_text.strip() and squash(quote_text) in squash(doc["text"]), (quote_text, doc["id"])
    expect(panel.locator(".citation-title")).to_contain_text(doc["title"])
    assert_citation_details(panel, cited)
    assert_no_placeholder_text(panel)

    # a citation with a source link: the panel switches to it
    linked = next((c for c in done["citations"] if c["url"] and c["n"] != n), None)
    if linked is not None:
        other = answer.locator(f'button.citation-chip[data-n="{linked["n"]}"]')
        other.click()
        expect(other).to_have_attribute("aria-expanded", "true")
        expect(chip).to_have_attribute("aria-expanded", "false")
        expect(panel).to_have_attribute("data-n", str(linked["n"]))
        assert_citation_details(panel, linked)
        assert_no_placeholder_text(panel)
    panel.scroll_into_view_if_needed()
    screenshot(page, "citation")

    # follow-up in the same conversation
    with page.expect_request(lambda r: r.url == base + "/v1/chat/stream") as second_info:
        second = ask(page, Q_RRMS_FOLLOW_UP, typed=True)
    expect(second).to_have_class(status_class("answered"))
    assert (second_info.value.post_data_json or {})["conversation_id"] == done["conversation_id"]
    assert second.get_attribute("data-turn-id") not in (None, "", done["turn_id"])
    expect(second.locator(".answer-body")).not_to_be_empty()
    expect(page.locator(".turn")).to_have_count(2)

    # Shift+Enter inserts a newline and sends nothing
    box.click()
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    page.wait_for_timeout(300)
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator("article.answer")).to_have_count(2)
    assert_no_placeholder_text(page.locator("section.ivc"))
    box.scroll_into_view_if_needed()


def test_patient_audience_gets_patient_disclaimer(page: Page, live_server: Any) -> None:
    open_demo(page, live_server.base_url)
    page.get_by_label("Patient or caregiver").check()
    expect(page.locator("input.audience-radio[value=patient]")).to_be_checked()
    expect(page.locator("input.audience-radio[value=clinician]")).not_to_be_checked()

    with page.expect_request(lambda r: r.url.endswith("/v1/chat/stream")) as request_info:
        answer = ask(page, Q_PREGNANCY)
    assert (request_info.value.post_data_json or {})["audience"] == "patient"
    disclaimer = answer.locator("p.disclaimer")
    expect(disclaimer).to_be_visible()
    expect(disclaimer).to_contain_text("doctor or healthcare provider")
    expect(disclaimer).not_to_contain_text("intended for healthcare professionals")
    disclaimer.scroll_into_view_if_needed()


def test_abstention_offers_suggestions_that_answer(page: Page, live_server: Any) -> None:
    open_demo(page, live_server.base_url)
    first = ask(page, Q_DIET)
    expect(first).to_have_class(status_class("abstained"))
    expect(first.locator(".status-label")).to_be_visible()
    expect(first.locator(".status-label")).to_contain_text("Not covered")
    suggestions = first.locator("button.suggested-question")
    assert suggestions.count() >= 1
    suggestion = suggestions.first
    suggested_text = suggestion.inner_text().strip()
    assert suggested_text

    suggestion.click()
    answers = page.locator(FINAL_ANSWER)
    expect(answers).to_have_count(2)
    second = answers.nth(1)
    expect(second).to_have_class(status_class("answered"))
    expect(page.locator(".user-message").nth(1)).to_contain_text(suggested_text)
    expect(second.locator("button.citation-chip").first).to_be_visible()
    expect(first.locator("button.suggested-question")).to_have_count(0)  # only under the latest
    second.scroll_into_view_if_needed()


def test_urgent_question_shows_emergency_banner(page: Page, live_server: Any) -> None:
    open_demo(page, live_server.base_url)
    answer = ask(page, Q_URGENT)
    expect(answer).to_have_class(status_class("urgent"))
    banner = answer.locator(".urgent-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("role", "alert")
    expect(banner).to_contain_text("emergency")
    expect(page.get_by_role("alert")).to_have_count(1)
    banner.scroll_into_view_if_needed()


def test_feedback_is_stored(page: Page, live_server: Any) -> None:
    open_demo(page, live_server.base_url)
    answer = ask(page, Q_SPMS)
    turn_id = answer.get_attribute("data-turn-id")
    assert turn_id
    up = answer.locator("button.feedback-up")
    down = answer.locator("button.feedback-down")
    expect(up).to_have_attribute("aria-pressed", "false")

    with page.expect_response(lambda r: r.url.endswith("/v1/feedback")) as feedback_info:
        up.click()
    assert feedback_info.value.status == 201
    expect(answer.locator(".feedback-thanks")).to_be_visible()
    expect(answer.locator(".feedback-thanks")).to_contain_text("Thanks")
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")

    db = sqlite3.connect(f"file:{live_server.data_dir / 'conversations.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT rating, comment FROM feedback WHERE turn_id = ?", (turn_id,)
        ).fetchall()
    finally:
        db.close()
    assert rows == [("up", None)]
    up.scroll_into_view_if_needed()


def test_reload_restores_conversation_and_new_conversation_clears(
    page: Page, live_server: Any
) -> None:
    open_demo(page, live_server.base_url)
    answer = ask(page, Q_SPMS)
    turn_id = answer.get_attribute("data-turn-id")
    answer_text = answer.locator(".answer-body").inner_text()
    conversation_id = page.evaluate(f"localStorage.getItem('{CONVERSATION_KEY}')")
    assert conversation_id and conversation_id.startswith("conv_")

    page.reload()
    open_demo(page, live_server.base_url)
    expect(page.locator(".user-message")).to_have_count(1)
    expect(page.locator(".user-message")).to_contain_text(Q_SPMS)
    restored = page.locator(f'{FINAL_ANSWER}[data-turn-id="{turn_id}"]')
    expect(restored).to_be_visible()
    expect(restored).to_have_class(status_class("answered"))
    assert squash(restored.locator(".answer-body").inner_text()) == squash(answer_text)
    expect(restored.locator("button.citation-chip").first).to_be_visible()
    expect(restored.locator("p.disclaimer")).to_contain_text("healthcare professionals")

    new_button = page.locator("button.new-conversation")
    expect(new_button).to_be_visible()
    new_button.click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator(".empty-hint")).to_be_visible()
    expect(new_button).to_be_hidden()
    assert page.evaluate(f"localStorage.getItem('{CONVERSATION_KEY}')") is None

    page.reload()  # stays cleared
    open_demo(page, live_server.base_url)
    expect(page.locator(".empty-hint")).to_be_visible()
    expect(page.locator(".turn")).to_have_count(0)
    page.locator("ivig-chat-widget").scroll_into_view_if_needed()


def test_phone_viewport(new_page: Callable[..., Page], live_server: Any) -> None:
    page = new_page(
        viewport={"width": 375, "height": 740},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    open_demo(page, live_server.base_url)
    assert_no_horizontal_scroll(page)
    box = page.locator(INPUT)
    box.scroll_into_view_if_needed()
    expect(box).to_be_in_viewport()
    bounds = box.bounding_box()
    assert bounds and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= 375, bounds
    assert bounds["height"] >= 40, bounds

    box.tap()
    box.fill(Q_SPMS)
    page.locator(SEND).tap()
    answer = page.locator(FINAL_ANSWER).first
    expect(answer).to_have_class(status_class("answered"))
    answer.locator("button.citation-chip").first.tap()
    expect(answer.locator(".citation-panel")).to_be_visible()
    assert_no_horizontal_scroll(page)
    widget = page.locator("ivig-chat-widget").bounding_box()
    assert widget and widget["x"] >= 0 and widget["x"] + widget["width"] <= 375, widget
    answer.scroll_into_view_if_needed()


def test_server_unreachable_shows_error_with_retry(
    page: Page, start_server: Callable[..., Any]
) -> None:
    # a second real server; the tiny corpus only makes it start faster (the widget's error
    # handling does not depend on the corpus)
    server = start_server(tiny=True)
    open_demo(page, server.base_url)
    server.stop()

    page.locator(INPUT).fill(Q_SPMS)
    page.locator(INPUT).press("Enter")
    error = page.locator(".error-message")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("couldn't reach")
    retry = error.locator("button.retry-button")
    expect(retry).to_be_visible()
    expect(retry).to_be_enabled()
    expect(page.locator("article.answer")).to_have_count(0)
    expect(page.locator(SEND)).to_be_enabled()

    retry.click()  # still down: the error comes back, once
    expect(page.locator(".error-message")).to_have_count(1)
    expect(page.locator(".error-message button.retry-button")).to_be_enabled()
    expect(page.locator(".turn")).to_have_count(1)
    error.scroll_into_view_if_needed()


def test_html_in_question_is_shown_literally(page: Page, live_server: Any) -> None:
    question = 'Does IVIG help? <img src=x onerror="window.__pwned=1"> <b>bold</b>'
    open_demo(page, live_server.base_url)
    ask(page, question)
    expect(page.locator(".user-message")).to_contain_text(question)
    page.wait_for_timeout(200)  # an injected <img src=x> would have failed to load by now
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("ivig-chat-widget img").count() == 0
    assert page.locator("ivig-chat-widget b").count() == 0
    page.locator(".user-message").scroll_into_view_if_needed()


def test_accessibility_has_no_serious_violations(page: Page, live_server: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    open_demo(page, live_server.base_url)
    answer = ask(page, Q_SPMS)
    answer.locator("button.citation-chip").first.click()
    expect(answer.locator(".citation-panel")).to_be_visible()

    results = Axe().run(page)
    violations = results.response["violations"]
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in bad
    ]
    print(json.dumps(report, indent=2))
    assert not bad, json.dumps(report, indent=2)
    answer.scroll_into_view_if_needed()


HOSTILE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hostile host page</title>
<style>
* {{ font-size: 40px !important; color: red !important }}
button {{ display: none !important }}
</style></head>
<body><h1>A host page with aggressive CSS</h1>
<script src="{base}/widget/ivig-chat.js" data-api-base="{base}" data-article-id="ivig-ms" async>
</script>
</body></html>"""


def test_host_css_does_not_leak_into_widget(page: Page, live_server: Any) -> None:
    base = live_server.base_url
    page.goto(base + "/healthz")  # same origin as the API, then replace the document
    page.set_content(HOSTILE_PAGE.format(base=base))
    send = page.locator(SEND)
    expect(send).to_be_visible()
    expect(page.locator(INPUT)).to_be_visible()
    style = send.evaluate(
        "b => { const s = getComputedStyle(b); return {size: s.fontSize, color: s.color}; }"
    )
    assert style == {"size": "16px", "color": "rgb(255, 255, 255)"}, style

    answer = ask(page, Q_SPMS)  # and it still works
    expect(answer).to_have_class(status_class("answered"))
    expect(answer.locator("button.citation-chip").first).to_be_visible()
    expect(answer.locator("button.feedback-up")).to_be_visible()
    answer.scroll_into_view_if_needed()
