"""report.html in headless Chromium: charts and findings render, nothing is fetched, no console errors.

Drives Debian's /usr/bin/chromium over the DevTools pipe (tests/cdp.py: standard library only). Takes a
full-page screenshot and checks it holds the charts' colours, prints the page to PDF, and proves the
harness itself catches console errors. The screenshot is kept under ``LABREPORT_SCREENSHOT_DIR`` (default:
the system temp folder) as ``labreport_report.png`` for a human to look at.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from pipeline.render import ReportPaths
from pipeline.render.charts import PALETTE
from pipeline.render.report import report_for_documents
from tests.cdp import Chromium, find_chromium
from tests.report_factory import bench_series, make_series, with_edge_cases

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (Debian package 'chromium'); CI must install it")
        pytest.skip("chromium is not installed (Debian package 'chromium')")
    with Chromium.launch(timeout=30) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    return report_for_documents(with_edge_cases(make_series(6)), tmp_path_factory.mktemp("report"))


CHECK_PAGE = """(() => {
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const charts = [...document.querySelectorAll('svg.chart')];
  return {
    charts: charts.length,
    chartsVisible: charts.filter((c) => visible(c) && c.getBoundingClientRect().height > 120).length,
    chartsWithPoints: charts.filter((c) => c.querySelectorAll('g.point').length >= 2).length,
    chartsWithBands: charts.filter((c) => c.querySelectorAll('rect.band').length >= 1).length,
    findings: [...document.querySelectorAll('article.finding')].filter(visible).map((f) => f.className),
    firstSection: document.querySelector('main > section').id,
    resources: performance.getEntriesByType('resource').length,
    title: document.title,
  };
})()"""


def test_report_renders_in_chromium(browser: Chromium, report: ReportPaths) -> None:
    page = browser.new_page(1280, 900)
    page.navigate(report.html.as_uri())
    state = page.evaluate(CHECK_PAGE)
    assert page.errors == []
    assert state["resources"] == 0  # nothing fetched: no CSS, font, script or image from anywhere
    assert state["charts"] >= 10
    assert state["chartsVisible"] == state["chartsWithPoints"] == state["chartsWithBands"] == state["charts"]
    assert state["firstSection"] == "findings"
    assert state["findings"] and state["findings"][0] == "finding urgent"
    assert "Laboratory results over time" in state["title"]

    png = page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width == 1280 and image.height > 3000
    box = page.evaluate(
        "(() => { const r = document.querySelector('svg.chart').getBoundingClientRect();"
        " return [r.left + scrollX, r.top + scrollY, r.right + scrollX, r.bottom + scrollY]; })()"
    )
    chart = image.crop(tuple(round(v) for v in box))
    colours: set[tuple[int, int, int]] = {
        (c[0], c[1], c[2]) for _, c in chart.getcolors(maxcolors=1 << 24) or [] if isinstance(c, tuple)
    }
    lab_colours = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in PALETTE[:2]}
    assert lab_colours <= colours  # both labs' markers were painted inside the first chart
    band = [c for c in colours if abs(c[0] - 225) <= 3 and abs(c[1] - 241) <= 3 and abs(c[2] - 231) <= 3]
    assert band  # and its reference band
    keep = Path(os.environ.get("LABREPORT_SCREENSHOT_DIR", tempfile.gettempdir()))
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "labreport_report.png").write_bytes(png)
    (keep / "labreport_report_top.png").write_bytes(page.screenshot())

    pdf = page.pdf()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 2


def test_large_report_renders_without_errors(browser: Chromium, tmp_path: Path) -> None:
    paths = report_for_documents(bench_series(), tmp_path / "big")
    page = browser.new_page(1280, 900)
    page.navigate(paths.html.as_uri())
    state = page.evaluate(CHECK_PAGE)
    assert page.errors == []
    assert state["charts"] == state["chartsWithPoints"] >= 30


def test_harness_catches_console_errors(browser: Chromium, tmp_path: Path) -> None:
    """The check above could fail: a page with a console error and an exception is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><title>x</title><script>console.error('boom'); undefinedCall();</script>")
    page = browser.new_page()
    page.navigate(bad.as_uri())
    errors = page.errors
    assert any("boom" in e for e in errors) and any("exception" in e for e in errors)
