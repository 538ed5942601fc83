"""`reasoner report`: one self-contained HTML page (reasoner/face/render/html.py, cli `report`; issue 16), rendered
in headless Chromium (Debian's `chromium`, installed by .ci/run) and checked by its screenshot and its DOM.

The page of examples/org (a refuted assertion and ten proved ones, a finding, two lint issues, a diff) must
load nothing (no `src`, `<link>`, `url(`, `@import` or absolute URL); in the DOM Chromium builds, each
responsible statement is marked on exactly its lines of its policy; the screenshot has the page's size, and
shows the marked statements (the highlight colour covers a real area) and the verdict badges (red and green);
the page's script runs (opened at `#only-failing`, what passes is hidden). Set REASONER_SCREENSHOT=PATH to keep
the screenshot.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reasoner.face.cli import main

pytestmark = pytest.mark.solver

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1280, 2400
MARK = (0xFF, 0xF8, 0xC5)  # --mark
RED = (0xCF, 0x22, 0x2E)  # --bad
GREEN = (0x1A, 0x7F, 0x37)  # --ok


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        status = main(["report", "examples/org/environment.yaml", "--checks", "examples/org/failing",
                       "examples/org/checks", "--diff", "examples/org/environment.yaml",
                       "examples/org/proposed/environment.yaml", "--output", str(out)], io.StringIO(), io.StringIO())
    finally:
        os.chdir(here)
    assert status == 1  # the refuted assertion, the finding and the issues
    return out


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "headless Chromium is needed (Debian package `chromium`; .ci/run installs it)"
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={profile}", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    pixels: list[tuple[int, int, int]] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        pixels += [(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, bpp)]
        previous = line
    return width, height, pixels


class Marks(HTMLParser):
    """The marked lines (`mark.stmt`), the section ids, and what would load something."""

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[tuple[str, int]] = []
        self.sections: list[str] = []
        self.loads: list[str] = []
        self.hidden = 0
        self.items = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "mark" and a.get("class") == "stmt":
            self.marked.append((a["data-file"] or "", int(a["data-line"] or 0)))
        if tag == "section":
            self.sections.append(a.get("id") or "")
        if "src" in a or tag == "link" or (a.get("href") or "#").startswith(("http", "//", "file")):
            self.loads.append(f"{tag} {a}")
        classes = (a.get("class") or "").split()
        if tag == "div" and "item" in classes:
            self.items += 1
            self.hidden += "hidden" in classes


def test_the_page_loads_nothing(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"url\(|@import|https?://", text), "the page would load or link something"
    marks = Marks()
    marks.feed(text)
    assert marks.loads == []


def test_chromium_renders_the_statements_marked_in_their_policies(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", report.as_uri(),
                    profile=tmp_path / "profile")
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    if os.environ.get("REASONER_SCREENSHOT"):
        shutil.copy2(shot, os.environ["REASONER_SCREENSHOT"])
    dom = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    assert dom.returncode == 0 and "<html" in dom.stdout[:200], dom.stderr[-2000:]
    marks = Marks()
    marks.feed(dom.stdout)
    assert marks.sections == ["checks", "findings-1", "lint-1", "diff"]
    marked = Counter(marks.marked)
    # the refuted assertion: the key policy statement (lines 30-37) and the identity policy statement (4-9)
    assert {line for f, line in marked if f == "examples/org/iam/444455556666/analytics.json"} == set(range(4, 10))
    assert {line for f, line in marked if f == "examples/org/keys/app-data.json"} >= set(range(30, 38))
    assert "<strong>arn:aws:iam::444455556666:role/Analytics</strong> can <code>kms:Decrypt</code>" in dom.stdout
    assert "HYG004" in dom.stdout and "can no longer" in dom.stdout

    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    colours = Counter(pixels)
    assert colours[MARK] > 20_000, colours[MARK]  # the marked statements cover a real area of the first screen
    assert colours[RED] > 200 and colours[GREEN] > 200, (colours[RED], colours[GREEN])  # verdict badges
    assert len(colours) > 50  # text, not a blank page


def test_the_script_hides_what_passes(report: Path, tmp_path: Path) -> None:
    dom = chromium("--dump-dom", report.as_uri() + "#only-failing", profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    marks = Marks()
    marks.feed(dom.stdout)
    assert marks.items > 10 and marks.hidden == 10  # the ten proved assertions
    plain = Marks()
    plain.feed(chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile").stdout)
    assert plain.hidden == 0


def test_report_needs_something_to_report() -> None:
    err = io.StringIO()
    assert main(["report"], io.StringIO(), err) == 2 and "nothing to report" in err.getvalue()


def test_accepted_results_are_marked_in_the_page(tmp_path: Path) -> None:
    accepted = tmp_path / "accepted.yaml"
    accepted.write_text("version: 1\naccepted:\n  - assertion: no principal outside the security account decrypts "
                        "app data\n    reason: kept as an example\n    accepted_by: docs\n", encoding="utf-8")
    out = tmp_path / "r.html"
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        status = main(["report", "--checks", "examples/org/failing", "--accepted", str(accepted), "-o", str(out)],
                      io.StringIO(), io.StringIO())
    finally:
        os.chdir(here)
    text = out.read_text(encoding="utf-8")
    assert status == 0
    assert '<div class="item bad accepted" data-verdict="REFUTED">' in text
    assert "accepted: kept as an example (accepted by docs)" in text
