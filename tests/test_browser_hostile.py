"""Hostile text in a real Chromium: whatever a link, a problem file, an answer sheet or a file's
name supplies is shown as the text it is, never as Markdown.

A title, a quoted value or a file name that holds a link, an image, a formula, a colour or a
bare address must not become one: no element of the page may point at the attacker's host, no
request may leave for it, no formula but the lecture's own may be drawn, and nothing may grow
wider than the window. And the user's text must still be readable as typed: nnviz.core.text puts an
invisible U+2060 WORD JOINER into it here and there, which is ignored when comparing.

The server and the browser come from conftest.py; without /usr/bin/chromium these tests are
skipped (and fail under CI=true).
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from test_browser import TIMEOUT_MS, wait_idle
from test_browser_panels import open_app

from nnviz.core.problem import Problem
from nnviz.files import share

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads((ROOT / "examples" / "seed-problem.json").read_text())
SEED_ANSWERS = json.loads((ROOT / "examples" / "seed-answers.json").read_text())
ALERT = '[data-testid="stAlert"]'
PROBLEM_UPLOADER = "Open a problem (nnviz-problem/1 JSON)"
SHEET_UPLOADER = "Answer sheet: nnviz-answers/1 JSON, or a worked answer as text"
HOSTS = ("evil", "e.vil")  # what every hostile address below holds, and nothing of nnviz's does

# Titles at most 200 printable characters, as the format allows.
TITLES = [
    r"[click me](https://evil.example/phish) ![t](https://evil.example/pixel.png) "
    r"$\color{red}{\Huge HACKED}$ $\rule{5000px}{5000px}$ :red[red] www.evil.example",
    r"<https://evil.example/a> https://evil.example/b ![](<//e.vil/y.png>) [x](//e.vil) "
    r"**bold** _it_ `code` ~~gone~~ :smile: :material/home: a -> b <- c $$\Huge HACKED$$",
]
LINK_NAME = "[evil](https://evil.example) ![i](https://evil.example/i.png).json"


# --- what the page holds ----------------------------------------------------------------------

# Everything in the page that a user's text must never make: an element pointing at the hostile
# hosts; a formula saying HACKED, or one in a bold title or a notice (where the lecture has none
# of its own); and anything on screen wider than the window.
FINDINGS_JS = r"""() => {
  const bad = v => /evil|e\.vil/i.test(v || '');
  const show = e => e.outerHTML.replace(/\s+/g, ' ').slice(0, 200);
  const wide = e => {  // on screen: Plotly measures its text far off it
    const box = e.getBoundingClientRect();
    return box.width > window.innerWidth + 2 && box.right > 0 && box.bottom > 0;
  };
  const found = [];
  for (const e of document.querySelectorAll('*')) {
    for (const a of e.getAttributeNames()) {
      if (/^(href|src|srcset|xlink:href|action|formaction|poster|data|background|style)$/i
          .test(a) && bad(e.getAttribute(a))) {
        found.push(`${a} to the hostile host: ${show(e)}`);
      }
    }
    if (e.matches('.katex') && (/HACKED/.test(e.textContent)
                                || e.closest('strong, [data-testid="stAlert"]'))) {
      found.push(`a formula from the user's text: ${show(e)}`);
    }
    if (wide(e) && !(e.parentElement && wide(e.parentElement))) {  // the outermost only
      found.push(`wider than the window (${Math.round(e.getBoundingClientRect().width)} px): `
                 + show(e));
    }
  }
  return found;
}"""
# Markup a notice never holds of its own: what a user's link, image or formula would become.
MARKUP_JS = r"""(root) => [...root.querySelectorAll(
    'a, img, picture, video, audio, iframe, object, embed, image, .katex, '
    + '[data-testid="stIconMaterial"]'
  )].map(e => e.outerHTML.replace(/\s+/g, ' ').slice(0, 200))"""
# Whether some element's text, without word joiners and with whitespace collapsed, is `want`;
# when none is, the texts of the Markdown that hold one of `words`, to say what was shown.
SHOWN_JS = r"""(root, [want, words]) => {
  const plain = t => (t || '').replace(/\u2060/g, '').replace(/\s+/g, ' ').trim();
  for (const e of root.querySelectorAll('*')) {
    if (plain(e.innerText) === want) return null;
  }
  return [...root.querySelectorAll('[data-testid="stMarkdownContainer"]')]
    .map(e => plain(e.innerText)).filter(t => words.some(w => t.includes(w)));
}"""


def plain(text: str) -> str:
    """Text as compared: without word joiners, whitespace runs as one space."""
    return " ".join(text.replace("\u2060", "").split())


# Text each tab shows of its own, visible once the tab is on screen: right after the click, a
# panel's text may still be hidden, and innerText leaves hidden text out.
TAB_TEXT = {
    "Lecture": re.compile(r"^Step \d+ of \d+: "),
    "Check answers": re.compile(r"^Type your answers into the tables"),
}


def panel(page: Page, name: str) -> Locator:
    """A tab's panel, after clicking the tab by its label, with its text on screen."""
    page.get_by_role("tab", name=name).click()
    shown = page.get_by_role("tabpanel", name=name)
    expect(shown.get_by_text(TAB_TEXT[name])).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)  # a click on a tab may rerun the script: only the open tab runs
    return shown


def upload(page: Page, label: str, name: str, data: bytes) -> None:
    """A file given to the uploader labelled `label`."""
    page.locator('[data-testid="stFileUploader"]').filter(has_text=label).locator(
        'input[type="file"]'
    ).set_input_files({"name": name, "mimeType": "application/json", "buffer": data})


def notice(where: Locator, said: re.Pattern) -> Locator:
    """The notice, warning or error box in `where` whose text matches `said` (a part of the
    app's own words, not the user's), once the rerun that shows it has ended."""
    box = where.locator(ALERT).filter(has_text=said)
    expect(box).to_have_count(1, timeout=TIMEOUT_MS)
    wait_idle(where.page)
    return box


def packed(data: dict) -> str:
    """A problem's dict as a share link's p= packs it (share.encode, without a Problem)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    data64 = base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9))
    return f"{share.VERSION}.{data64.rstrip(b'=').decode('ascii')}"


def titled(title: str) -> dict:
    return {**SEED, "title": title}


# --- the checks: each gives a list of what is wrong, empty when nothing is --------------------


def hostile_requests(requests: list[str]) -> list[str]:
    """The requests that went anywhere but the app's server, or that fetch a hostile address
    from it (a relative link). A link's query may hold hostile text: it is data there."""
    bad = []
    for url in requests:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and (
            parts.hostname != "127.0.0.1" or any(h in parts.path.lower() for h in HOSTS)
        ):
            bad.append(f"a request to {url}")
    return bad


def markup(page: Page, requests: list[str]) -> list[str]:
    """Anything in the whole page (sidebar and every tab) made of a user's markup, and every
    request it caused."""
    found = page.evaluate(FINDINGS_JS)
    page.wait_for_timeout(200)  # an image in the page has asked for its address by now
    return found + hostile_requests(requests)


def quotes(message: str, value: str) -> bool:
    """Whether a message quotes `value` as typed: whole, or its start cut with "…"."""
    message, value = plain(message), " ".join(value.split())
    return value in message or any(
        value[:k] + "…" in message for k in range(min(10, len(value)), len(value))
    )


def plain_notice(box: Locator, *values: str) -> list[str]:
    """What is wrong with a notice that should quote each value as typed, with no link,
    image, formula or icon in it."""
    found = [f"in the notice: {m}" for m in box.evaluate(MARKUP_JS)]
    text = box.inner_text()
    found += [
        f"the notice does not quote {v!r} as typed: {plain(text)!r}"
        for v in values
        if not quotes(text, v)
    ]
    return found


def shown_as_typed(where: Locator, text: str) -> list[str]:
    """Empty when some element in `where` shows `text` as typed."""
    want = " ".join(text.split())
    words = re.findall(r"[A-Za-z]{4,}", want)
    try:  # as soon as it is (the text may still be hidden just after a tab is clicked)
        where.page.wait_for_function(
            f"([root, args]) => ({SHOWN_JS})(root, args) === null",
            arg=[where.element_handle(), [want, words]],
            timeout=2000,
        )
        return []
    except PlaywrightTimeoutError:
        shown = where.evaluate(SHOWN_JS, [want, words])
    return [] if shown is None else [f"{want!r} is not shown as typed; the page shows {shown}"]


def nothing_wrong(found: list[str]) -> None:
    found = list(dict.fromkeys(found))  # a page-wide check may see a thing twice
    assert not found, "the user's text became markup or was lost:\n" + "\n".join(found)


@pytest.fixture
def requests(page: Page) -> list[str]:
    """Every URL the page asks for, from the start."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


@pytest.fixture
def app(page: Page, app_url: str, requests) -> Page:
    """A fresh session on the seed problem, its requests recorded."""
    return open_app(page, app_url)


# --- share links ------------------------------------------------------------------------------


@pytest.mark.parametrize("title", TITLES, ids=["link-image-formula", "autolink-emoji-arrow"])
def test_a_shared_title_is_shown_as_typed(page: Page, app_url: str, requests, title: str):
    assert len(title) <= 200 and title.isprintable()
    problem = Problem.from_dict(titled(title))
    open_app(page, f"{app_url}/?p={share.encode(problem)}&step=1")
    lecture = panel(page, "Lecture")
    expect(lecture.locator(ALERT)).to_have_count(0)  # a good link says nothing
    found = shown_as_typed(lecture, title) + markup(page, requests)
    check = panel(page, "Check answers")
    found += [f"Check answers: {f}" for f in shown_as_typed(check, title)] + markup(page, [])
    nothing_wrong(found)


@pytest.mark.parametrize("step", ["![](//e.vil/x)", "[x](https://evil.example)"])
def test_a_hostile_step_is_quoted_in_the_notice(page: Page, app_url: str, requests, step: str):
    seed = Problem.from_dict(SEED)
    open_app(page, f"{app_url}/?p={share.encode(seed)}&step={quote(step, safe='')}")
    box = notice(panel(page, "Lecture"), re.compile("so the lecture opens at step 1"))
    nothing_wrong(plain_notice(box, step) + markup(page, requests))


@pytest.mark.parametrize("key", ["[x](https://evil.example/k)", "![](//e.vil/k)"])
def test_an_unknown_key_in_a_link_is_quoted_in_the_notice(
    page: Page, app_url: str, requests, key: str
):
    data = {k: v for k, v in SEED.items() if k not in ("format", "biases")}
    data[key] = 1
    open_app(page, f"{app_url}/?p={packed(data)}&step=2")
    box = notice(panel(page, "Lecture"), re.compile("^The share link is damaged: unknown key "))
    nothing_wrong(plain_notice(box, key) + markup(page, requests))


# --- problem files ----------------------------------------------------------------------------


def test_an_opened_problem_file_shows_its_title_as_typed(app: Page, requests):
    title = TITLES[0]
    upload(app, PROBLEM_UPLOADER, "hostile.json", json.dumps(titled(title)).encode())
    lecture = app.get_by_role("tabpanel", name="Lecture")
    notice(lecture, re.compile(r"^Opened hostile\.json\.$"))
    nothing_wrong(shown_as_typed(lecture, title) + markup(app, requests))


def test_a_refused_problem_file_quotes_its_key_as_typed(app: Page, requests):
    key = "[x](https://evil.example) ![i](//e.vil/i.png)"
    upload(app, PROBLEM_UPLOADER, "keys.json", json.dumps({**SEED, key: 1}).encode())
    lecture = app.get_by_role("tabpanel", name="Lecture")
    box = notice(lecture, re.compile(r"^keys\.json was not opened: unknown key "))
    nothing_wrong(plain_notice(box, key) + markup(app, requests))


def test_a_problem_file_name_is_quoted_as_typed(app: Page, requests):
    lecture = app.get_by_role("tabpanel", name="Lecture")
    upload(app, PROBLEM_UPLOADER, LINK_NAME, json.dumps({**SEED, "layers": "3-4-2"}).encode())
    box = notice(lecture, re.compile(" was not opened: layers is "))
    found = plain_notice(box, LINK_NAME) + markup(app, requests)
    upload(app, PROBLEM_UPLOADER, LINK_NAME, json.dumps(SEED).encode())
    box = notice(lecture, re.compile("^Opened "))
    nothing_wrong(found + plain_notice(box, LINK_NAME) + markup(app, requests))


# --- answer sheets ----------------------------------------------------------------------------


def test_a_refused_answer_sheet_quotes_it_as_typed(app: Page, requests):
    check = panel(app, "Check answers")
    hostile_format = "[x](https://evil.example) ![i](https://evil.example/i.png)"
    sheet = {**SEED_ANSWERS, "format": hostile_format}
    upload(app, SHEET_UPLOADER, "format.json", json.dumps(sheet).encode())
    box = notice(check, re.compile(r"^format\.json was not loaded: format is "))
    found = plain_notice(box, hostile_format) + markup(app, requests)
    key = "[x](//e.vil) ![i](//e.vil/i.png)"
    upload(app, SHEET_UPLOADER, "key.json", json.dumps({**SEED_ANSWERS, key: 1}).encode())
    box = notice(check, re.compile(r"^key\.json was not loaded: unknown key "))
    nothing_wrong(found + plain_notice(box, key) + markup(app, requests))


def test_a_loaded_answer_sheet_shows_its_title_as_typed(app: Page, requests):
    title = TITLES[0]
    check = panel(app, "Check answers")
    sheet = {**SEED_ANSWERS, "problem": titled(title)}
    upload(app, SHEET_UPLOADER, "titled.json", json.dumps(sheet).encode())
    notice(check, re.compile(r"^Loaded titled\.json\.$"))
    expect(check.get_by_text(re.compile(r"^\d+ answers: "))).to_be_visible(timeout=TIMEOUT_MS)
    nothing_wrong(shown_as_typed(check, title) + markup(app, requests))


def test_an_answer_sheet_name_is_quoted_as_typed(app: Page, requests):
    check = panel(app, "Check answers")
    upload(app, SHEET_UPLOADER, LINK_NAME, json.dumps({**SEED_ANSWERS, "answers": []}).encode())
    box = notice(check, re.compile(" was not loaded: answers is "))
    found = plain_notice(box, LINK_NAME) + markup(app, requests)
    upload(app, SHEET_UPLOADER, LINK_NAME, json.dumps(SEED_ANSWERS).encode())
    box = notice(check, re.compile("^Loaded "))
    nothing_wrong(found + plain_notice(box, LINK_NAME) + markup(app, requests))
