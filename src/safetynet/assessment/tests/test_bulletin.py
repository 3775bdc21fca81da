"""The bulletin: SVG charts of our own, the PDF (first page converted to PNG for a look) and the XLSX."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

from safetynet.assessment import bulletin, charts, services

from .conftest import DAY, publish_and_review

pytestmark = pytest.mark.urls("safetynet.assessment.tests.urls")

# Where the first page of the PDF is left for a person to look at.
PNG_DIR = Path("/tmp/assessment_bulletin")


def test_bar_and_radar_are_plain_svg():
    bar = charts.bar_chart(["中山区", "西岗区"], [61.0, 60.0], title="各单位总分")
    assert bar.startswith("<svg") and bar.count("<rect") == 2 and "中山区" in bar and "61.0" in bar
    radar = charts.radar_chart(["甲", "乙", "丙"], [("平均", [1.0, 0.5, 0.0])], title="得分率")
    assert radar.count("<polygon") == 4 + 1  # four rings and the series
    assert "不绘制雷达图" in charts.radar_chart(["甲", "乙"], [])


def _frozen(dataset):
    publish_and_review(dataset)
    scheme = services.scheme_freeze(
        actor=dataset.city_admin, scheme=dataset.scheme, day=DAY, appeal_until=timezone.localdate()
    )
    return services.bulletin_update(
        actor=dataset.city_admin,
        scheme=scheme,
        commendation="中山区建会工作扎实，信息报送有待加强，特予表扬。",
        criticism="西岗区发生较大生产安全事故，实行一票否决，予以通报批评。",
    )


def test_pdf_has_the_letterhead_and_its_first_page_renders(dataset):
    scheme = _frozen(dataset)
    data = bulletin.pdf_bytes(bulletin.build(scheme))
    assert data.startswith(b"%PDF-")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    pdf_path = PNG_DIR / "bulletin.pdf"
    pdf_path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_path), str(PNG_DIR / "page")],
        check=True,
    )
    page = next(PNG_DIR.glob("page*.png"))
    assert page.stat().st_size > 10_000  # a page with text and charts, not a blank one
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf_path), "-"], capture_output=True, text=True).stdout
    assert "大连市总工会" in text and "目标考核结果的通报" in text and "中山区" in text


def test_xlsx_has_the_ranking_and_the_explanations(dataset):
    from openpyxl import load_workbook

    scheme = _frozen(dataset)
    book = load_workbook(io.BytesIO(bulletin.xlsx_bytes(bulletin.build(scheme))))
    ranking = list(book["排名"].iter_rows(values_only=True))
    assert ranking[1][:2] == ("名次", "单位")
    assert ranking[2][:2] == (1, "中山区") and ranking[2][-1] == 61.0
    assert ranking[3][:2] == (2, "西岗区") and ranking[3][-1] == 60.0 and ranking[3][-2] == 60.0
    details = list(book["计分说明"].iter_rows(values_only=True))
    assert any(row[1] == "信息报送" and "迟报 1 次" in row[3] for row in details[1:])
