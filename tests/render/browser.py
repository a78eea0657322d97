"""Open an HTML file in headless Chromium over the DevTools protocol and report what happened.

A test helper, not a test: ``open_page`` launches Debian's ``chromium`` with a fresh profile,
loads the file, and returns the console errors, every request the page made, the values of
JavaScript expressions, a PNG of the first viewport and an A4 PDF. Chromium is always killed
(its whole process group) and the profile removed, also on error; every wait has a deadline
and a timeout names what it waited for.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websocket

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install it with: apt-get install -y chromium"

#: A4 in inches, as Page.printToPDF takes it
A4 = (8.27, 11.69)

_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root (CI, containers) has no sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
    "--remote-debugging-port=0",  # Chromium picks a free port and writes DevToolsActivePort
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--metrics-recording-only",
    "--mute-audio",
    "--hide-scrollbars",  # no scrollbar pixels in the screenshot of a long page
    "--force-color-profile=srgb",
)

# resolves after web fonts are in and two frames have been painted
_SETTLE = (
    "document.fonts.ready.then(() => new Promise("
    "r => requestAnimationFrame(() => requestAnimationFrame(() => r(true)))))"
)


class BrowserError(RuntimeError):
    """Chromium could not be started, timed out, or the page could not be loaded."""


@dataclass
class PageReport:
    """What happened when a page was opened."""

    url: str
    #: console.error/assert calls, uncaught exceptions and Log entries of level error
    console_errors: list[str] = field(default_factory=list)
    #: every request the page made other than for its own file: http(s), ws(s), other files
    requests: list[str] = field(default_factory=list)
    #: data: URLs the page loaded (inline images are fine), cut to 100 characters
    data_urls: list[str] = field(default_factory=list)
    #: name -> value of each expression passed as ``evaluations``
    values: dict[str, Any] = field(default_factory=dict)
    #: PNG of the first viewport
    screenshot: bytes = field(default=b"", repr=False)
    #: the page printed to A4 with backgrounds
    pdf: bytes = field(default=b"", repr=False)
    pdf_pages: int = 0


def chromium_path() -> str | None:
    """The first of chromium, chromium-browser, google-chrome on PATH, or None."""
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    return None


def open_page(
    html: Path,
    *,
    evaluations: dict[str, str] | None = None,
    width: int = 1280,
    height: int = 1800,
    timeout: float = 60,
) -> PageReport:
    """Load ``html`` in a fresh headless Chromium and report console errors, requests,
    ``evaluations`` (name -> JS expression, evaluated after load), a screenshot and a PDF.

    ``timeout`` bounds the whole call; ``BrowserError`` names what was being waited for.
    """
    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(html)
    binary = chromium_path()
    if binary is None:
        looked = ", ".join(CANDIDATES)
        raise BrowserError(f"Chromium not found on PATH (looked for {looked}); {INSTALL_HINT}")
    deadline = time.monotonic() + timeout
    workdir = Path(tempfile.mkdtemp(prefix="kpidesign-chromium-"))
    profile = workdir / "profile"
    log = workdir / "chromium.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        with log.open("wb") as err:
            proc = subprocess.Popen(
                [binary, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # its own process group, killed as one
            )
        try:
            port = _devtools_port(proc, profile / "DevToolsActivePort", deadline)
            ws_url = _page_target(port, deadline)
            with _Session(ws_url, deadline) as cdp:
                return _run(cdp, html, evaluations or {}, width, height)
        except BrowserError as exc:
            raise BrowserError(f"{exc}\n--- chromium stderr (tail) ---\n{_tail(log)}") from None
    finally:
        if proc is not None:
            _kill(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _run(
    cdp: _Session, html: Path, evaluations: dict[str, str], width: int, height: int
) -> PageReport:
    """Enable the domains, load the page, then evaluate, screenshot and print it."""
    report = PageReport(url=html.as_uri())
    loaded: list[bool] = []

    def on_event(method: str, params: dict[str, Any]) -> None:
        if method == "Page.loadEventFired":
            loaded.append(True)
        _collect(report, method, params)

    cdp.on_event = on_event
    for domain in ("Runtime", "Log", "Network", "Page"):
        cdp.call(f"{domain}.enable")
    viewport = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    cdp.call("Emulation.setDeviceMetricsOverride", **viewport)
    navigated = cdp.call("Page.navigate", url=report.url)
    if navigated.get("errorText"):
        raise BrowserError(f"could not load {report.url}: {navigated['errorText']}")
    cdp.wait_for(lambda: bool(loaded), "Page.loadEventFired")
    _evaluate(cdp, _SETTLE, "fonts and two animation frames")
    report.values = {name: _evaluate(cdp, expr, name) for name, expr in evaluations.items()}
    # optimizeForSpeed: zlib level 1 and the Up filter only, which is_blank decodes fast
    shot = cdp.call("Page.captureScreenshot", format="png", optimizeForSpeed=True)
    report.screenshot = base64.b64decode(shot["data"])
    pdf = cdp.call("Page.printToPDF", paperWidth=A4[0], paperHeight=A4[1], printBackground=True)
    report.pdf = base64.b64decode(pdf["data"])
    report.pdf_pages = pdf_page_count(report.pdf)
    return report


def _collect(report: PageReport, method: str, params: dict[str, Any]) -> None:
    """Record one CDP event in ``report``."""
    if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
        text = " ".join(_remote_text(arg) for arg in params.get("args", []))
        frames = params.get("stackTrace", {}).get("callFrames", [])
        where = f" ({frames[0]['url']}:{frames[0]['lineNumber'] + 1})" if frames else ""
        report.console_errors.append(f"console.{params['type']}: {text}{where}")
    elif method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        description = details.get("exception", {}).get("description", "")
        text = f"{details['text']} {description.splitlines()[0] if description else ''}".strip()
        where = f" ({details['url']}:{details['lineNumber'] + 1})" if details.get("url") else ""
        report.console_errors.append(f"exception: {text}{where}")
    elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
        entry = params["entry"]
        where = f" ({entry['url']})" if entry.get("url") else ""
        report.console_errors.append(f"{entry['source']}: {entry['text']}{where}")
    elif method == "Network.requestWillBeSent":
        url = params["request"]["url"]
        if url.startswith("data:"):
            report.data_urls.append(url if len(url) <= 100 else url[:99] + "…")
        elif url.split("#")[0] != report.url:
            report.requests.append(url)
    elif method == "Network.webSocketCreated":  # no requestWillBeSent for a websocket
        report.requests.append(params["url"])


def _remote_text(obj: dict[str, Any]) -> str:
    """A console argument (a Runtime.RemoteObject) as text."""
    if "value" in obj:
        return obj["value"] if isinstance(obj["value"], str) else json.dumps(obj["value"])
    return str(obj.get("unserializableValue") or obj.get("description") or obj.get("type"))


def _evaluate(cdp: _Session, expression: str, name: str) -> Any:
    """The JSON value of ``expression`` (awaited if a promise)."""
    result = cdp.call(
        "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
    )
    if "exceptionDetails" in result:
        details = result["exceptionDetails"]
        description = details.get("exception", {}).get("description") or details["text"]
        raise BrowserError(f"evaluating {name!r} ({expression}) threw: {description}")
    return result["result"].get("value")


class _Session:
    """One CDP websocket to a page target: commands in order, events to ``on_event``."""

    def __init__(self, ws_url: str, deadline: float) -> None:
        self.deadline = deadline
        self.last_id = 0
        self.answers: dict[int, dict[str, Any]] = {}
        self.on_event: Callable[[str, dict[str, Any]], None] = lambda method, params: None
        try:
            # Chromium refuses a websocket handshake whose Origin it was not told to allow
            self.ws = websocket.create_connection(
                ws_url, timeout=self._remaining("the DevTools websocket"), suppress_origin=True
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserError(f"could not connect to {ws_url}: {exc}") from exc

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.ws.close(timeout=1)

    def _remaining(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BrowserError(f"timed out waiting for {what}")
        return left

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command, handle events until its answer, return its result."""
        self.last_id += 1
        sent = self.last_id
        try:
            self.ws.send(json.dumps({"id": sent, "method": method, "params": params}))
        except (OSError, websocket.WebSocketException) as exc:
            raise BrowserError(f"DevTools connection lost sending {method}: {exc}") from exc
        self.wait_for(lambda: sent in self.answers, f"the answer to {method}")
        answer = self.answers.pop(sent)
        if "error" in answer:
            raise BrowserError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def wait_for(self, done: Callable[[], bool], what: str) -> None:
        """Read messages (answers and events) until ``done()``, within the deadline."""
        while not done():
            self.ws.settimeout(self._remaining(what))
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise BrowserError(f"timed out waiting for {what}") from None
            except (OSError, websocket.WebSocketException) as exc:
                raise BrowserError(f"DevTools connection lost waiting for {what}: {exc}") from exc
            if "id" in message:
                self.answers[message["id"]] = message
            else:
                self.on_event(message["method"], message.get("params", {}))


def _devtools_port(proc: subprocess.Popen[bytes], path: Path, deadline: float) -> int:
    """The port Chromium wrote to DevToolsActivePort (first line; the second is a path)."""
    while True:
        with contextlib.suppress(OSError, ValueError, IndexError):
            lines = path.read_text().splitlines()
            if len(lines) >= 2:  # both lines written: the file is complete
                return int(lines[0])
        if proc.poll() is not None:
            raise BrowserError(f"Chromium exited with code {proc.returncode} before it listened")
        if time.monotonic() > deadline:
            raise BrowserError(f"timed out waiting for {path}")
        time.sleep(0.05)


def _page_target(port: int, deadline: float) -> str:
    """The websocket URL of the first page target in /json/list."""
    url = f"http://127.0.0.1:{port}/json/list"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BrowserError(f"timed out waiting for a page target in {url}")
        with contextlib.suppress(OSError, ValueError):
            with urllib.request.urlopen(url, timeout=min(left, 5)) as answer:
                targets = json.load(answer)
            for target in targets:
                if target.get("type") == "page" and "webSocketDebuggerUrl" in target:
                    return target["webSocketDebuggerUrl"]
        time.sleep(0.05)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL Chromium's process group; return once no member still runs (5 s at most)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)
    end = time.monotonic() + 5
    # the children, orphaned, die a moment later and stay zombies until init reaps them
    while _running_in_group(proc.pid) and time.monotonic() < end:
        time.sleep(0.02)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group ``pgid`` other than a zombie exists (Linux /proc)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if int(group) == pgid and state != "Z":
            return True
    return False


def _tail(path: Path, lines: int = 15) -> str:
    """The last lines Chromium wrote to stderr, without its D-Bus noise (no bus in CI)."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(none)"
    return "\n".join([line for line in text if "dbus" not in line][-lines:]) or "(none)"


# --- PDF ---------------------------------------------------------------------------------

_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_PAGES = re.compile(rb"<<((?:(?!<<|>>).)*?/Type\s*/Pages(?![A-Za-z])(?:(?!<<|>>).)*)>>", re.S)


def pdf_page_count(pdf: bytes) -> int:
    """Pages in a PDF as Chromium (Skia) writes it: its page dictionaries are plain text.

    Counts the ``/Type /Page`` leaves and checks the total against ``/Count`` of the root
    ``/Pages`` node (the one without ``/Parent``), so a PDF of another shape (object
    streams) raises instead of miscounting.
    """
    leaves = len(_PAGE.findall(pdf))
    roots = [m.group(1) for m in _PAGES.finditer(pdf) if b"/Parent" not in m.group(1)]
    counts = [int(c) for root in roots for c in re.findall(rb"/Count\s+(\d+)", root)]
    if len(counts) != 1 or counts[0] != leaves:
        raise ValueError(f"cannot count the pages: {leaves} /Page leaves, root /Count {counts}")
    return leaves


# --- PNG ---------------------------------------------------------------------------------


def is_blank(png: bytes, *, max_fraction: float = 1e-4) -> bool:
    """Whether (nearly) every pixel has the same colour: at most ``max_fraction`` of them
    (0.01 %: 230 of a 1280 x 1800 screenshot) differ from the most common colour."""
    pixels = png_pixels(png)
    h, w, channels = pixels.shape
    packed = np.zeros((h, w), np.uint32)
    for c in range(channels):
        packed |= pixels[:, :, c].astype(np.uint32) << (8 * c)
    _, counts = np.unique(packed, return_counts=True)
    return h * w - int(counts.max()) <= max_fraction * h * w


def png_pixels(png: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced PNG (grey, RGB, palette, with or without alpha) to a
    (height, width, channels) uint8 array, with zlib and numpy alone."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not a PNG")
    pos, idat, palette, header = 8, [], None, None
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        pos += 12 + length  # length, type, data, CRC
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"PLTE":
            palette = np.frombuffer(data, np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    if depth != 8 or interlace:
        raise ValueError(f"unsupported PNG: bit depth {depth}, interlace {interlace}")
    stride = width * channels
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    rows = raw[: height * (stride + 1)].reshape(height, stride + 1)
    out = np.empty((height, stride), np.uint8)
    prior = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:]
        if kind == 0:
            out[y] = line
        elif kind == 1:  # Sub: a running sum per channel, mod 256
            out[y] = np.cumsum(line.reshape(width, channels), axis=0, dtype=np.uint8).ravel()
        elif kind == 2:  # Up
            out[y] = line + prior
        elif kind in (3, 4):  # Average, Paeth: sequential along the row
            row = _unfilter(kind, line.tobytes(), prior.tobytes(), channels)
            out[y] = np.frombuffer(row, np.uint8)
        else:
            raise ValueError(f"PNG row {y}: unknown filter {kind}")
        prior = out[y]
    pixels = out.reshape(height, width, channels)
    if colour == 3:
        if palette is None:
            raise ValueError("palette PNG without PLTE")
        pixels = palette[pixels[:, :, 0]]
    return pixels


def _unfilter(kind: int, line: bytes, prior: bytes, bpp: int) -> bytearray:
    """Undo the Average (3) or Paeth (4) filter of one row."""
    cur = bytearray(line)
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = prior[i]
        if kind == 3:
            cur[i] = (cur[i] + ((a + b) >> 1)) & 0xFF
            continue
        c = prior[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return cur
