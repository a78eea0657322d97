"""The headless-Chromium harness (browser.py) reports what it should: each problem a report
page could have is put in a small page of its own and must show up; a clean page shows none.
Every launch must leave no Chromium process and no temporary profile behind."""

from __future__ import annotations

import socket
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser import BrowserError, chromium_path, is_blank, open_page, png_pixels

SVG = """
<svg width="300" height="120" viewBox="0 0 300 120" role="img">
  <rect class="bar" x="10" y="60" width="60" height="60" fill="#1f77b4"/>
  <rect class="bar" x="110" y="20" width="60" height="100" fill="#ff7f0e"/>
  <rect class="bar" x="210" y="40" width="60" height="80" fill="#2ca02c"/>
</svg>"""

# a 1 x 1 PNG, as a report would inline an image
DATA_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
    "DwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head>'
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def browser_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Require Chromium; put the harness's temporary profile under ``tmp_path`` and check
    afterwards that it is removed and that no process still uses it."""
    if chromium_path() is None:
        pytest.fail(
            "Chromium is not on PATH; the report tests need it: apt-get install -y chromium",
            pytrace=False,
        )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield tmp_path
    assert list(scratch.iterdir()) == [], "the temporary Chromium profile was left behind"
    users = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(scratch).encode() in cmdline.read_bytes():
                users.append(cmdline.parent.name)
        except OSError:
            continue  # exited meanwhile
    assert users == [], f"Chromium processes left running: {users}"


def test_clean_page(browser_tmp: Path) -> None:
    html = _page(
        browser_tmp,
        f"<h1>Report</h1>{SVG}<img src='{DATA_PNG}'>"
        "<script>console.log('fine'); console.warn('only a warning')</script>",
    )
    report = open_page(
        html,
        evaluations={
            "svgs": "document.querySelectorAll('svg').length",
            "bars": "[...document.querySelectorAll('rect.bar')].map(r => r.getBBox().height)",
        },
        width=800,
        height=600,
    )
    assert report.console_errors == []
    assert report.requests == []
    assert report.data_urls == [DATA_PNG[:99] + "…"]  # inline images are not requests
    assert report.values == {"svgs": 1, "bars": [60, 100, 80]}
    assert png_pixels(report.screenshot).shape == (600, 800, 3)
    assert not is_blank(report.screenshot)
    assert report.pdf.startswith(b"%PDF-") and report.pdf_pages == 1


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('console.error("boom")', "console.error: boom"),
        ('console.assert(1 === 2, "wrong sum")', "console.assert: wrong sum"),
        ('throw new Error("kaput")', "exception: Uncaught Error: kaput"),
        ('setTimeout(() => { throw new TypeError("later") }, 0)', "TypeError: later"),
    ],
)
def test_console_errors_are_reported(browser_tmp: Path, script: str, expected: str) -> None:
    report = open_page(_page(browser_tmp, f"<p>x</p><script>{script}</script>"))
    assert len(report.console_errors) == 1, report.console_errors
    assert expected in report.console_errors[0]
    assert "page.html" in report.console_errors[0]  # where it happened


@pytest.mark.parametrize(
    ("body", "url"),
    [
        # port 9 is on Chromium's unsafe list: the request is recorded, nothing is sent
        ('<img src="http://127.0.0.1:9/x.png">', "http://127.0.0.1:9/x.png"),
        ('<script src="https://127.0.0.1:9/x.js"></script>', "https://127.0.0.1:9/x.js"),
        ("<script>new WebSocket('ws://127.0.0.1:9/')</script>", "ws://127.0.0.1:9/"),
        ('<img src="other.png">', "other.png"),  # another file beside the report
    ],
)
def test_outside_requests_are_reported(browser_tmp: Path, body: str, url: str) -> None:
    html = _page(browser_tmp, body)
    report = open_page(html)
    expected = (html.parent / url).as_uri() if url == "other.png" else url
    assert report.requests == [expected]
    assert report.data_urls == []
    assert report.console_errors  # the failed load is an error too


def test_empty_page_is_blank(browser_tmp: Path) -> None:
    report = open_page(_page(browser_tmp, ""), width=640, height=480)
    assert report.console_errors == [] and report.requests == []
    assert is_blank(report.screenshot)


def test_page_breaks_make_pdf_pages(browser_tmp: Path) -> None:
    sections = "".join(f"<section>part {i}{SVG}</section>" for i in range(3))
    body = f"<style>section {{ break-after: page }}</style>{sections}"
    report = open_page(_page(browser_tmp, body))
    # the break after the last section makes no empty fourth page
    assert report.pdf_pages == 3
    assert report.pdf.count(b"/Type /Page\n") == 3


def test_a_load_that_never_ends_times_out(browser_tmp: Path) -> None:
    # a local server that takes the connection and never answers: no load event, ever
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        html = _page(browser_tmp, f'<img src="http://127.0.0.1:{port}/slow.png">')
        with pytest.raises(BrowserError, match=r"timed out waiting for Page\.loadEventFired"):
            open_page(html, timeout=2)


def test_evaluation_error_is_raised(browser_tmp: Path) -> None:
    with pytest.raises(BrowserError, match=r"evaluating 'x'.*ReferenceError: nope"):
        open_page(_page(browser_tmp, "<p>x</p>"), evaluations={"x": "nope.length"})


def test_missing_chromium_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium_path() is None
    with pytest.raises(BrowserError, match=r"apt-get install -y chromium"):
        open_page(_page(tmp_path, "<p>x</p>"))


# --- the PNG decoder behind is_blank, on every filter type ----------------------------------


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _encode_png(pixels: np.ndarray, colour: int) -> bytes:
    """A PNG whose row y uses filter y % 5 (None, Sub, Up, Average, Paeth)."""
    height, width, bpp = pixels.shape
    rows = pixels.reshape(height, width * bpp).astype(int)
    raw = bytearray()
    for y in range(height):
        kind, line = y % 5, rows[y]
        prior = rows[y - 1] if y else np.zeros_like(line)
        out = []
        for i, x in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b = prior[i]
            c = prior[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, _paeth(a, b, c)][kind]
            out.append((x - pred) & 0xFF)
        raw += bytes([kind, *out])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("colour", "channels"), [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_png_decoder_round_trip(colour: int, channels: int) -> None:
    pixels = np.random.default_rng(colour).integers(0, 256, (11, 7, channels), dtype=np.uint8)
    assert np.array_equal(png_pixels(_encode_png(pixels, colour)), pixels)


def test_is_blank_threshold() -> None:
    white = np.full((100, 100, 3), 255, np.uint8)
    assert is_blank(_encode_png(white, 2))
    speck = white.copy()
    speck[50, 50] = 0  # 1 pixel in 10,000: within the default 0.01 %
    assert is_blank(_encode_png(speck, 2))
    assert not is_blank(_encode_png(speck, 2), max_fraction=0)
    speck[40:44, 40:44] = 0
    assert not is_blank(_encode_png(speck, 2))
