"""The web console in a real browser: Debian's Chromium driven by Playwright, against
``openlive serve`` on the embedded models (and an echo server for resumption).

Chromium's fake capture devices stand in for the hardware: its microphone plays a question
spoken by espeak-ng (a voice the server does not use), its camera shows a rendered error
dialog. The page reports what it played through its playback worklet (``window.openlive``),
which is how these tests hear the reply. A screenshot of every state the page goes through is
kept in ``artifacts/console/`` (not committed).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..helpers import ROOT, ServerProcess, start_server
from ..images import error_dialog
from .media import question_wav, screen_y4m

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is installed by scripts/install.sh --dev"
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "console"
QUIET_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("console-media")
    return {
        "question": question_wav(tmp / "question.wav", "What is the capital of France?"),
        "screen": screen_y4m(tmp / "screen.y4m", error_dialog("Error: File not found: report.pdf")),
    }


@pytest.fixture(scope="module")
def browser(media: dict[str, Path]) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed: run scripts/install.sh --dev")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *QUIET_FLAGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={media['question']}%noloop",
                f"--use-file-for-fake-video-capture={media['screen']}",
                "--auto-select-desktop-capture-source=Entire screen",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


class Console:
    """One page of the console, with what it reported and screenshots of its states."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = name
        self.problems: list[str] = []
        self.shot: set[str] = set()
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.problems.append(f"console error: {message.text}")
                if message.type == "error"
                else None
            ),
        )

    def open(self, server: ServerProcess) -> None:
        self.page.goto(server.http_url + "/")
        # polled from here: Playwright's own polling of a string runs it through eval inside
        # the page, which the console's Content-Security-Policy (script-src 'self') refuses
        # whenever the page is not ready at the first look; page.evaluate is not subject to it
        deadline = time.monotonic() + 30
        while not self.page.evaluate("Boolean(window.openlive && window.openlive.ready)"):
            assert time.monotonic() < deadline, "the console never said it was ready"
            self.page.wait_for_timeout(50)

    def hooks(self) -> dict[str, Any]:
        value: dict[str, Any] = self.page.evaluate(
            "JSON.parse(JSON.stringify({...window.openlive, events: undefined}))"
        )
        return value

    def state(self) -> str:
        return str(self.page.evaluate("window.openlive.state"))

    def screenshot(self, label: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{label}.png"), full_page=True)

    def wait(self, what: str, check: Callable[[dict[str, Any]], bool], timeout: float = 90) -> Any:
        """Poll the page's hooks until ``check`` holds, screenshotting each new state."""
        deadline = time.monotonic() + timeout
        hooks: dict[str, Any] = {}
        while time.monotonic() < deadline:
            hooks = self.hooks()
            state = hooks["state"]
            if state not in self.shot:
                self.shot.add(state)
                self.screenshot(state)
            if check(hooks):
                return hooks
            time.sleep(0.1)
        self.screenshot(f"timeout-{what.replace(' ', '-')}")
        raise AssertionError(f"{what}: not seen in {timeout} s; page reported {json.dumps(hooks)}")

    def connect(self, modality: str = "AUDIO", *, auto_answer: bool = True) -> None:
        self.page.select_option("#modality", modality)
        self.page.fill("#temperature", "0")  # the small embedded model answers steadily
        if not auto_answer:
            self.page.uncheck("#autoAnswer")
        self.page.click("#connect")
        self.wait("connected", lambda h: h["state"] == "ready", timeout=60)

    def say(self, text: str) -> None:
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")


@pytest.fixture
def console(browser: Any, request: pytest.FixtureRequest) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    view = Console(page, request.node.name.removeprefix("test_"))
    yield view
    view.screenshot("end")
    context.close()
    assert not view.problems, view.problems


def test_page_is_served_labelled_and_keyboard_usable(
    embedded_serve: ServerProcess, console: Console
) -> None:
    console.open(embedded_serve)
    page = console.page
    assert page.title() == "openlive console"
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select, textarea, button')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !(el.tagName === 'BUTTON' && el.textContent.trim()))
             .map(el => el.id || el.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == []
    models = page.eval_on_selector_all("#model option", "o => o.map(x => x.value)")
    assert models and models[0].startswith("gemini-")
    assert "Puck" in page.eval_on_selector_all("#voice option", "o => o.map(x => x.value)")
    # the page holds no key: tokens are minted per connection
    source = page.content()
    assert "auth_tokens/" not in source
    # the keyboard reaches the settings and switches tabs
    page.focus("#tab-live")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-music"
    assert page.is_visible("#panel-music") and not page.is_visible("#panel-live")
    page.keyboard.press("ArrowLeft")
    assert page.is_visible("#panel-live")
    page.focus("#instruction")
    page.keyboard.type("Answer briefly.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "instruction"
    console.screenshot("idle")


def test_spoken_question_is_heard_and_answered_aloud(
    embedded_serve: ServerProcess, console: Console
) -> None:
    console.open(embedded_serve)
    console.connect("AUDIO")
    console.page.click("#mic")
    console.wait("the microphone streams", lambda h: h["stats"]["chunksSent"] > 5, timeout=20)
    assert console.page.get_attribute("#mic", "aria-pressed") == "true"
    hooks = console.wait(
        "the question transcribed",
        lambda h: any(
            "capital" in row["text"].lower() for row in h["transcript"] if row["role"] == "user"
        ),
    )
    hooks = console.wait(
        "the answer heard",
        lambda h: (
            h["stats"]["played"] > 24000 and any("paris" in r.lower() for r in self_replies(h))
        ),
    )
    assert hooks["stats"]["peak"] > 0.05, "the reply played silence"
    hooks = console.wait("the turn ends", lambda h: h["state"] in ("listening", "ready"))
    assert {"listening", "speaking"} <= set(hooks["states"])
    voice_turns = [t for t in hooks["turns"] if t["kind"] == "voice"]
    assert voice_turns and 0 < voice_turns[0]["ms"] < 30_000
    chart = console.page.get_attribute("#chart", "aria-label") or ""
    assert str(voice_turns[0]["ms"]) in chart
    console.page.click("#mic")
    assert console.page.get_attribute("#mic", "aria-pressed") == "false"


def self_replies(hooks: dict[str, Any]) -> list[str]:
    return [row["text"] for row in hooks["transcript"] if row["role"] == "model"]


def test_text_chat_and_interruption(embedded_serve: ServerProcess, console: Console) -> None:
    console.open(embedded_serve)
    console.connect("TEXT")
    console.say("What is the capital of Italy? Answer in one word.")
    hooks = console.wait(
        "a text reply",
        lambda h: h["state"] == "ready" and any("rome" in r.lower() for r in self_replies(h)),
    )
    assert any(t["kind"] == "text" for t in hooks["turns"])
    console.say("Tell me a long story about a dragon and a knight, with many details.")
    console.wait("the story starts", lambda h: h["state"] == "speaking")
    console.say("Stop the story. What is two plus two? Answer with just the number.")
    hooks = console.wait(
        "the story interrupted and the new question answered",
        lambda h: (
            "interrupted" in h["states"]
            and h["state"] == "ready"
            and any("4" in r or "four" in r.lower() for r in self_replies(h)[-1:])
        ),
    )


def test_tool_calls_round_trip(embedded_serve: ServerProcess, console: Console) -> None:
    console.open(embedded_serve)
    console.connect("TEXT")
    console.say("What's the weather like in Paris right now?")
    hooks = console.wait(
        "the demo tool answered and used",
        lambda h: bool(h["calls"]) and h["state"] == "ready" and bool(self_replies(h)),
    )
    call = hooks["calls"][0]
    assert call["name"] == "get_weather" and "paris" in json.dumps(call["args"]).lower()
    response = call["response"]["output"]
    reply = " ".join(self_replies(hooks)).lower()
    assert str(response["temperature_c"]) in reply or response["sky"] in reply, reply


def test_tool_answered_by_hand(embedded_serve: ServerProcess, console: Console) -> None:
    console.open(embedded_serve)
    declarations = [
        {
            "name": "find_order",
            "description": "Look up the delivery status of an order by its number.",
            "parameters": {
                "type": "OBJECT",
                "properties": {"order_number": {"type": "STRING"}},
                "required": ["order_number"],
            },
        }
    ]
    console.page.fill("#tools", json.dumps(declarations))
    console.connect("TEXT", auto_answer=False)
    console.say("Where is my order number 4417?")
    console.wait("the call shown", lambda h: bool(h["calls"]))
    answer = console.page.get_by_label("Answer to find_order (JSON)")
    answer.fill(json.dumps({"output": {"status": "shipped", "arrives": "Friday"}}))
    console.screenshot("tool-call")
    console.page.get_by_role("button", name="Send answer").click()
    hooks = console.wait(
        "the answer used",
        lambda h: (
            h["calls"][0]["response"] is not None
            and h["state"] == "ready"
            and any("friday" in r.lower() or "shipped" in r.lower() for r in self_replies(h))
        ),
    )
    assert "4417" in json.dumps(hooks["calls"][0]["args"])


def test_shared_camera_frame_is_described(embedded_serve: ServerProcess, console: Console) -> None:
    console.open(embedded_serve)
    console.connect("TEXT")
    console.page.click("#camera")
    console.wait("frames sent", lambda h: h["stats"]["framesSent"] >= 2)
    assert console.page.is_visible("#preview")
    console.say("Read me the error message on my screen.")
    hooks = console.wait(
        "the screen read back",
        lambda h: h["state"] == "ready" and bool(self_replies(h)),
    )
    reply = " ".join(self_replies(hooks)).lower()
    assert "report.pdf" in reply or "not found" in reply, reply
    console.page.click("#camera")
    assert not console.page.is_visible("#preview")
    # the screen (Chromium's fake one, a generated picture) goes the same way
    sent = console.hooks()["stats"]["framesSent"]
    console.page.click("#screen")
    console.wait("screen frames sent", lambda h: h["stats"]["framesSent"] >= sent + 2)
    assert console.page.get_attribute("#screen", "aria-pressed") == "true"
    console.say("Describe my screen in one sentence.")
    hooks = console.wait(
        "the screen described",
        lambda h: h["state"] == "ready" and len(self_replies(h)) >= 2,
    )
    assert self_replies(hooks)[-1].strip()
    console.page.click("#screen")
    assert console.page.get_attribute("#screen", "aria-pressed") == "false"


def test_music_tab_plays(embedded_serve: ServerProcess, console: Console) -> None:
    console.open(embedded_serve)
    console.page.click("#tab-music")
    console.page.click("#play")
    hooks = console.wait("music heard", lambda h: h["music"]["seconds"] > 1.5)
    assert hooks["music"]["peak"] > 0.02, "the music played silence"
    console.screenshot("music-playing")
    console.page.fill("#bpm", "90")
    console.page.press("#bpm", "Enter")
    console.page.click("#pause")
    assert "Paused" in console.page.inner_text("#musicStatus")
    console.page.click("#play")
    before = console.hooks()["music"]["chunks"]
    console.wait("music again", lambda h: h["music"]["chunks"] > before + 5)
    console.page.click("#stop")
    assert "Stopped" in console.page.inner_text("#musicStatus")


def test_errors_are_shown_with_code_and_reason(
    embedded_serve: ServerProcess, console: Console
) -> None:
    console.open(embedded_serve)
    console.page.evaluate(
        """() => { const o = document.createElement('option'); o.value = 'no-such-model';
                   o.textContent = 'no-such-model'; document.getElementById('model').append(o);
                   document.getElementById('model').value = 'no-such-model'; }"""
    )
    console.page.click("#connect")
    console.page.wait_for_selector("#alert:not([hidden])")
    text = console.page.inner_text("#alert")
    assert "1008" in text and "no-such-model" in text, text
    assert console.state() == "error"
    console.screenshot("error")
    assert console.page.is_enabled("#connect")


@pytest.fixture(scope="module")
def echo_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("console-echo"), "--model", "echo")
    yield server
    server.stop()


def test_resumes_after_goaway_and_dropped_connection(
    echo_serve: ServerProcess, console: Console
) -> None:
    console.open(echo_serve)
    console.connect("TEXT")
    console.say("first [[fault goaway 1]]")
    console.wait(
        "moved after goAway",
        lambda h: "reconnecting" in h["states"] and h["state"] == "ready",
    )
    console.say("second message")
    console.wait(
        "reply after the move", lambda h: any("second message" in r for r in self_replies(h))
    )
    console.say("third [[fault drop]]")
    hooks = console.wait(
        "resumed after the drop",
        lambda h: h["states"].count("reconnecting") >= 2 and h["state"] == "ready",
    )
    console.say("fourth [[history]]")
    hooks = console.wait(
        "the conversation kept through both moves",
        lambda h: (
            h["state"] == "ready"
            and any("first" in r and "second message" in r for r in self_replies(h)[-1:])
        ),
    )
    assert not hooks["errors"], hooks["errors"]


AXE = ROOT / "tests" / "conformance" / "js" / "node_modules" / "axe-core" / "axe.min.js"


def test_no_accessibility_violations(echo_serve: ServerProcess, browser: Any) -> None:
    """axe-core (the accessibility rules engine, from npm) finds nothing wrong with the page,
    before connecting, in a conversation, and on the music tab."""
    if not AXE.is_file():
        pytest.fail("axe-core is installed by scripts/install.sh --dev (tests/conformance/js)")
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    view = Console(page, "accessibility")
    view.open(echo_serve)

    def violations() -> list[str]:
        page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            """async () => (await axe.run(document)).violations.map(v =>
                 `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target).join(' ')}`)"""
        )
        return list(found)

    assert violations() == []
    view.connect("TEXT")
    view.say("hello there")
    view.wait("a reply", lambda h: any("hello there" in r for r in self_replies(h)))
    assert violations() == []
    page.click("#tab-music")
    assert violations() == []
    context.close()
    assert not view.problems, view.problems
