"""The bulletin (通报) of a frozen scheme: ranking, item table, charts; as HTML, PDF (WeasyPrint with Debian's
Noto CJK fonts, the federation's letterhead) and XLSX."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from safetynet.assessment import charts, scoring
from safetynet.assessment.models import ItemKind, Scheme


@dataclass
class Bulletin:
    scheme: Scheme
    sheet: scoring.ScoreSheet
    bar_svg: SafeString
    radar_svg: SafeString
    scored_items: list  # items with points (veto items are listed apart)

    @property
    def vetoed(self) -> list[scoring.UnitScore]:
        return [u for u in self.sheet.units if u.cap is not None or u.total < u.subtotal]


def build(scheme: Scheme, sheet: scoring.ScoreSheet | None = None) -> Bulletin:
    sheet = sheet or scoring.final_sheet(scheme)
    scored = [item for item in sheet.items if item.kind != ItemKind.VETO]
    bar = charts.bar_chart(
        [u.unit.name for u in sheet.units], [float(u.total) for u in sheet.units], title="各单位总分"
    )
    # The radar: the best, the last and the average, each item's points as a share of its weight.
    series = []
    if sheet.units and scored:

        def shares(unit_score: scoring.UnitScore) -> list[float]:
            return [
                float(unit_score.items[i.pk].points / i.weight)
                if i.pk in unit_score.items and i.weight
                else 0.0
                for i in scored
            ]

        series.append((f"第一名 {sheet.units[0].unit.name}", shares(sheet.units[0])))
        if len(sheet.units) > 1:
            series.append((f"末位 {sheet.units[-1].unit.name}", shares(sheet.units[-1])))
        all_shares = [shares(u) for u in sheet.units]
        series.append(("平均", [sum(column) / len(all_shares) for column in zip(*all_shares, strict=False)]))
    radar = charts.radar_chart([i.name for i in scored], series, title="各项得分率")
    return Bulletin(scheme, sheet, mark_safe(bar), mark_safe(radar), scored)


def pdf_bytes(bulletin: Bulletin) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "assessment/bulletin_pdf.html", {"bulletin": bulletin, "printed_on": timezone.localdate()}
    )
    return HTML(string=html).write_pdf()


def xlsx_bytes(bulletin: Bulletin) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "排名"
    scheme = bulletin.scheme
    sheet.append([f"{scheme.name} 考核结果通报（数据截至 {bulletin.sheet.day:%Y-%m-%d}）"])
    sheet["A1"].font = Font(bold=True, size=14)
    header = [
        "名次",
        "单位",
        *[f"{i.name}（{i.weight}）" for i in bulletin.scored_items],
        "小计",
        "否决上限",
        "总分",
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for unit_score in bulletin.sheet.units:
        sheet.append(
            [
                unit_score.rank,
                unit_score.unit.name,
                *[
                    float(unit_score.items[i.pk].points) if i.pk in unit_score.items else None
                    for i in bulletin.scored_items
                ],
                float(unit_score.subtotal),
                float(unit_score.cap) if unit_score.cap is not None else None,
                float(unit_score.total),
            ]
        )
    sheet.column_dimensions["B"].width = 18
    details = book.create_sheet("计分说明")
    details.append(["单位", "考核项目", "得分", "说明"])
    for unit_score in bulletin.sheet.units:
        for item in bulletin.sheet.items:
            score = unit_score.items.get(item.pk)
            if score is not None:
                details.append([unit_score.unit.name, item.name, float(score.points), score.explanation])
    texts = book.create_sheet("表扬与批评")
    texts.append(["表扬", scheme.commendation])
    texts.append(["批评", scheme.criticism])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def share(points: Decimal, weight: Decimal) -> float:
    return float(points / weight) if weight else 0.0
