"""The word being read, in real headless Chromium: the "tts-word" highlight follows the chunks' marks during
playback, a click on a word starts there, and readers can turn it off (逐词高亮, kept across reloads).

The server is the real one (``tts-service serve``) with espeak, whose marks are proportional by syllable: fast
to make, and as real as any engine's to the page, which only reads the manifest.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from helpers import LiveServer, axe_problems, wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

pytestmark = pytest.mark.browser
AUDIO = "document.querySelector('.player-audio')"
WORD = (
    "(() => { const h = CSS.highlights.get('tts-word');"
    " return h ? [...h].map((r) => r.toString()).join('|') : null; })()"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("words-home"), TTS_ENGINE="espeak", TTS_FALLBACK_ENGINE="")
    live.cli("seed")
    live.cli("pregen", "demo")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def manifest(server: LiveServer) -> dict:
    manifest = httpx.get(f"{server.url}/api/articles/demo/audio").json()
    assert manifest["status"] == "ready" and manifest["url"]
    assert all(chunk["marks"] for chunk in manifest["chunks"])
    return manifest


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="zh-CN")
    refused: list[str] = []
    ctx.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield ctx
    ctx.close()
    assert refused == []  # under the real policy: nothing inline


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def text_of(chunk: dict, mark: dict) -> str:
    """A mark's text, cut from its chunk's (both count UTF-16 code units from the paragraph's start)."""
    units = chunk["text"].encode("utf-16-le")
    start, end = (offset - chunk["offsets"][0] for offset in mark["offsets"])
    return units[2 * start : 2 * end].decode("utf-16-le")


def heard(page: Page) -> dict:
    """The audio's time, the sentence being read and the word highlighted, read in one go."""
    return page.evaluate(
        f"""() => ({{t: {AUDIO}.currentTime, word: {WORD},
                    sentence: Number(document.querySelector('.chunk.reading')?.dataset.chunk ?? -1)}})"""
    )


def words_at(manifest: dict, t: float, slack: float = 0.06) -> set[str]:
    """The marks' texts heard around t in the whole-article file (a frame's lag either way)."""
    return {
        text_of(chunk, mark)
        for chunk in manifest["chunks"]
        for mark in chunk["marks"]
        if mark["article_start"] - slack <= t < mark["article_end"] + slack
    }


def record_statuses(page: Page) -> None:
    page.evaluate(
        """() => { const el = document.querySelector('.player-status'); window.statuses = [];
                   new MutationObserver(() => window.statuses.push(el.textContent.trim()))
                     .observe(el, {childList: true, characterData: true, subtree: true}); }"""
    )


def test_the_word_highlight_follows_playback(page: Page, server: LiveServer, manifest: dict) -> None:
    page.goto(f"{server.url}/articles/demo")
    record_statuses(page)
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, f"{AUDIO}.currentTime > 0.6 && {WORD} !== null", timeout=20_000)
    first = heard(page)
    wait_until(page, f"{AUDIO}.currentTime > {first['t'] + 0.7}", timeout=10_000)
    second = heard(page)
    page.get_by_role("button", name="暂停").click()
    for sample in (first, second):  # the word highlighted is the one the audio is at
        assert sample["word"] in words_at(manifest, sample["t"]), sample
        chunk = manifest["chunks"][sample["sentence"]]
        assert sample["word"] in chunk["text"]  # inside the sentence highlight
    assert first["word"] != second["word"] or first["sentence"] != second["sentence"]
    # Words are not announced: the live region said only that reading began (and then paused).
    statuses = page.evaluate("window.statuses")
    assert statuses == [statuses[0], "已暂停"] and statuses[0].startswith("正在播报第 1 句"), statuses


def word_box(page: Page, sentence: int, start: int, end: int) -> dict:
    """The middle of a mark's text on the page (its offsets count in the sentence's paragraph)."""
    return page.evaluate(
        """([sentence, start, end]) => {
            const p = document.querySelector(`.chunk[data-chunk="${sentence}"]`).closest('p');
            const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
            const range = new Range();
            let at = 0;
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                if (start >= at && start < at + node.data.length) range.setStart(node, start - at);
                if (end > at && end <= at + node.data.length) range.setEnd(node, end - at);
                at += node.data.length;
            }
            const box = range.getClientRects()[0];
            return {x: box.left + box.width / 2, y: box.top + box.height / 2};
        }""",
        [sentence, start, end],
    )


def test_a_click_on_a_word_starts_reading_at_it(page: Page, server: LiveServer, manifest: dict) -> None:
    index = 3
    chunk = manifest["chunks"][index]
    marks = [m for m in chunk["marks"] if text_of(chunk, m).strip("，。、；：！？“”")]
    mark = marks[len(marks) // 2]  # mid-sentence
    assert mark["article_start"] > chunk["start"] + 0.5  # far from where the sentence starts
    page.goto(f"{server.url}/articles/demo")
    # Where playback really began, and the word shown when it did.
    page.evaluate(
        f"""() => {AUDIO}.addEventListener('playing', () => {{
                window.began = {{t: {AUDIO}.currentTime}};
                requestAnimationFrame(() => {{ window.began.word = {WORD}; }});
            }}, {{once: true}})"""
    )
    box = word_box(page, index, *mark["offsets"])
    page.mouse.click(box["x"], box["y"])
    wait_until(page, "window.began?.word !== undefined", timeout=20_000)
    began = page.evaluate("window.began")
    expect(page.locator(".chunk.reading")).to_have_attribute("data-chunk", str(index))
    assert abs(began["t"] - mark["article_start"]) < 0.2, (began, mark)
    assert began["word"] == text_of(chunk, mark), began
    assert page.evaluate(f"{AUDIO}.src") == manifest["url"]  # the whole-article file, sought into


def test_keyboard_pointing_stays_at_the_sentence(page: Page, server: LiveServer, manifest: dict) -> None:
    page.goto(f"{server.url}/articles/demo")
    page.locator('.chunk[data-chunk="2"]').focus()
    page.keyboard.press("Enter")
    wait_until(page, f"!{AUDIO}.paused && {AUDIO}.currentTime > 0", timeout=20_000)
    assert abs(page.evaluate(f"{AUDIO}.currentTime") - manifest["chunks"][2]["start"]) < 0.3


def test_turning_it_off_is_kept_and_shows_no_word(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/articles/demo")
    off, on = (page.get_by_role("button", name=f"逐词高亮{label}") for label in ("关", "开"))
    expect(on).to_have_attribute("aria-pressed", "true")  # on by default
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, f"{WORD} !== null", timeout=20_000)
    off.click()  # applies at once, while playing
    wait_until(page, "!CSS.highlights.has('tts-word')")
    page.reload()
    expect(off).to_have_attribute("aria-pressed", "true")
    expect(on).to_have_attribute("aria-pressed", "false")
    assert "words-off" in page.evaluate("document.documentElement.className")  # the server rendered it
    page.evaluate(
        f"""() => {{ window.seen = false;
            const look = () => {{ window.seen ||= CSS.highlights.has('tts-word');
                                  if (!{AUDIO}.paused || !window.seen) requestAnimationFrame(look); }};
            requestAnimationFrame(look); }}"""
    )
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, f"{AUDIO}.currentTime > 1.5", timeout=20_000)
    assert page.evaluate("window.seen") is False  # not on any frame of 1.5 s of playback
    on.click()
    wait_until(page, f"{WORD} !== null")  # and back on, without a reload


def test_the_preference_works_without_javascript(browser: Browser, server: LiveServer) -> None:
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = ctx.new_page()
    page.goto(f"{server.url}/articles/demo")
    with page.expect_navigation():
        page.get_by_role("button", name="逐词高亮关").click()
    assert page.url == f"{server.url}/articles/demo"
    expect(page.get_by_role("button", name="逐词高亮关")).to_have_attribute("aria-pressed", "true")
    assert "words-off" in page.evaluate("document.documentElement.className")
    ctx.close()


@pytest.mark.parametrize(
    ("scheme", "color_scheme"), [("auto", "light"), ("auto", "dark"), ("contrast", "light")]
)
def test_axe_and_contrast_with_the_toggle_and_a_word_shown(
    browser: Browser, server: LiveServer, scheme: str, color_scheme: str
) -> None:
    # bypass_csp: the policy (script-src 'self') would refuse the axe script the test injects.
    ctx = browser.new_context(locale="zh-CN", color_scheme=color_scheme, bypass_csp=True)
    ctx.add_cookies([{"name": "tts_scheme", "value": scheme, "url": server.url}])
    page = ctx.new_page()
    page.goto(f"{server.url}/articles/demo")
    page.get_by_role("button", name="语音播报").click()
    wait_until(page, f"{WORD} !== null", timeout=20_000)
    page.get_by_role("button", name="暂停").click()
    assert axe_problems(page) == []
    # The word's colours as the browser resolves them for the highlight: AA against each other.
    ratio = page.evaluate(
        """() => {
            const style = getComputedStyle(document.querySelector('.chunk.reading'), '::highlight(tts-word)');
            const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
            const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }"""
    )
    assert ratio >= 4.5, (scheme, color_scheme, ratio)
    ctx.close()
