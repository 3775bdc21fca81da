"""Bad input refused in Chinese, the workflow, letters, evidence, freeze, appeals, bulletin."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from safetynet.assessment import services
from safetynet.assessment.models import (
    Appeal,
    FinalScore,
    Item,
    Letter,
    LetterStatus,
    SchemeStatus,
)
from safetynet.assessment.scoring import compute_sheet
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.indicators.services import target_set

from .conftest import DAY, publish_and_review

pytestmark = pytest.mark.urls("safetynet.assessment.tests.urls")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_weights_must_sum_to_100(dataset):
    Item.objects.filter(scheme=dataset.scheme, name="特色工作").update(weight=Decimal("15"))
    with pytest.raises(ServiceError) as error:
        services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
    assert "各项分值合计应为 100 分，现为 95.00 分" in error.value.message


def test_overlapping_steps_are_refused(dataset):
    scheme = services.scheme_create(actor=None, org_unit=dataset.city.city, year=2013)
    with pytest.raises(ServiceError) as error:
        services.item_add(
            actor=None,
            scheme=scheme,
            name="建会率分档",
            kind="indicator",
            weight="10",
            rule={
                "metric": "union_rate",
                "mode": "stepped",
                "steps": [{"from": 90, "to": None, "points": 10}, {"from": 80, "to": 95, "points": 6}],
            },
        )
    assert error.value.code == "rule_steps_overlap"
    assert "分档重叠" in error.value.message and "第 2 档" in error.value.message


def test_unknown_metric_and_bad_floor_are_refused(dataset):
    scheme = services.scheme_create(actor=None, org_unit=dataset.city.city, year=2013)
    with pytest.raises(ServiceError, match="未知指标“nope”"):
        services.item_add(
            actor=None, scheme=scheme, name="x", kind="indicator", weight="10", rule={"metric": "nope"}
        )
    with pytest.raises(ServiceError, match="起评线"):
        services.item_add(
            actor=None,
            scheme=scheme,
            name="x",
            kind="indicator",
            weight="10",
            rule={"metric": "union_rate", "floor": "1.5"},
        )


def test_a_missing_target_names_the_unit_and_the_indicator(dataset):
    from safetynet.indicators.models import Target

    Target.objects.filter(org_unit=dataset.city.xigang).delete()
    with pytest.raises(ServiceError) as error:
        services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
    assert "西岗区缺少 2012 年“建会率”目标" in error.value.message
    dataset.scheme.refresh_from_db()
    assert dataset.scheme.status == SchemeStatus.DRAFT


def test_publish_creates_letters_and_the_district_signs_its_own(dataset):
    publish_and_review(dataset)
    letters = {letter.org_unit.name: letter for letter in Letter.objects.filter(scheme=dataset.scheme)}
    assert set(letters) == {"中山区", "西岗区"}
    zs = letters["中山区"]
    with pytest.raises(NotAllowed):
        services.letter_sign(actor=dataset.city_admin, letter=zs)  # the city does not sign for the district
    with pytest.raises(OutOfScope):
        services.letter_sign(actor=dataset.xigang_officer, letter=zs)
    signed = services.letter_sign(actor=dataset.zhongshan_officer, letter=zs, on=datetime.date(2012, 1, 20))
    assert signed.status == LetterStatus.SIGNED and signed.signed_on == datetime.date(2012, 1, 20)
    assert (
        signed.signed_targets[0]["indicator"] == "union_rate"
        and signed.signed_targets[0]["value"] == "0.9000"
    )
    with pytest.raises(ServiceError, match="不能重复签订"):
        services.letter_sign(actor=dataset.zhongshan_officer, letter=zs)
    assert AuditEntry.objects.filter(entity="assessment.letter", object_id=str(zs.pk)).exists()


def test_only_the_running_level_may_publish(dataset):
    with pytest.raises(OutOfScope):
        services.scheme_publish(actor=dataset.zhongshan_admin, scheme=dataset.scheme)
    with pytest.raises(ServiceError, match="已发布"):
        services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
        services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)


def test_evidence_type_by_content_and_size(dataset, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    publish_and_review(dataset)
    manual = dataset.items["特色工作"]
    unit = dataset.city.zhongshan
    # A text file named .pdf: refused by its content.
    fake = SimpleUploadedFile("总结.pdf", b"just text, not a pdf", content_type="application/pdf")
    with pytest.raises(ServiceError) as error:
        services.evidence_upload(actor=dataset.zhongshan_officer, item=manual, org_unit=unit, file=fake)
    assert error.value.code == "evidence_type" and "不是 PDF、PNG 或 JPEG" in error.value.message
    settings.ASSESSMENT_EVIDENCE_MAX_BYTES = 100
    big = SimpleUploadedFile("大.pdf", PDF + b"x" * 200)
    with pytest.raises(ServiceError, match="超过上限"):
        services.evidence_upload(actor=dataset.zhongshan_officer, item=manual, org_unit=unit, file=big)
    settings.ASSESSMENT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    evidence = services.evidence_upload(
        actor=dataset.zhongshan_officer, item=manual, org_unit=unit, file=SimpleUploadedFile("图.png", PNG)
    )
    assert evidence.content_type == "image/png" and evidence.size == len(PNG)
    # Not for an automatically scored item, not by another district.
    with pytest.raises(ServiceError, match="自动计分"):
        services.evidence_upload(
            actor=dataset.zhongshan_officer,
            item=dataset.items["建会率"],
            org_unit=unit,
            file=SimpleUploadedFile("a.pdf", PDF),
        )
    with pytest.raises(OutOfScope):
        services.evidence_upload(
            actor=dataset.xigang_officer, item=manual, org_unit=unit, file=SimpleUploadedFile("a.pdf", PDF)
        )


def test_review_needs_a_reason_and_points_within_the_weight(dataset):
    publish_and_review(dataset)
    manual = dataset.items["特色工作"]
    with pytest.raises(ServiceError, match="评分理由"):
        services.review_record(
            actor=dataset.city_admin, item=manual, org_unit=dataset.city.zhongshan, points=5, reason=""
        )
    with pytest.raises(ServiceError, match="0 到本项分值 20.00"):
        services.review_record(
            actor=dataset.city_admin, item=manual, org_unit=dataset.city.zhongshan, points=21, reason="好"
        )
    with pytest.raises(NotAllowed):  # a city operator may not assess
        services.review_record(
            actor=_city_operator(dataset), item=manual, org_unit=dataset.city.zhongshan, points=5, reason="x"
        )


def _city_operator(dataset):
    from safetynet.accounts.models import User

    return User.objects.create_user(
        username="city_operator", password="x-Strong-1", org_unit=dataset.city.city, role="operator"
    )


def freeze(dataset, *, appeal_until=None):
    return services.scheme_freeze(
        actor=dataset.city_admin,
        scheme=dataset.scheme,
        day=DAY,
        appeal_until=appeal_until or timezone.localdate() + datetime.timedelta(days=7),
    )


def test_freeze_stores_final_figures_and_a_later_correction_shows_as_live_difference(dataset):
    from safetynet.assessment import selectors

    publish_and_review(dataset)
    scheme = freeze(dataset)
    assert scheme.status == SchemeStatus.FROZEN and scheme.frozen_on == DAY
    zs = dataset.city.zhongshan
    total = FinalScore.objects.get(scheme=scheme, org_unit=zs, item=None)
    assert total.points == Decimal("61.00")
    xg_total = FinalScore.objects.get(scheme=scheme, org_unit=dataset.city.xigang, item=None)
    assert (xg_total.points, xg_total.cap) == (Decimal("60.00"), Decimal("60.00"))
    # A corrected record after the freeze: the fourth 中山区 enterprise gets its union (backdated).
    from safetynet.orgs.models import Enterprise
    from safetynet.orgs.tests.factories import UnionFactory

    UnionFactory(
        org_unit=dataset.city.community_a,
        name="补建工会",
        enterprises=[Enterprise.objects.get(name="中山企业3")],
    )
    board = selectors.score_board(dataset.city_admin, scheme, DAY)
    item = dataset.items["建会率"]
    assert FinalScore.objects.get(scheme=scheme, org_unit=zs, item=item).points == Decimal("25.00")
    assert board.differs[(zs.pk, item.pk)] == Decimal("40.00")  # 4/4 now: full points live
    assert (zs.pk, None) in board.differs


def test_appeals_within_the_window_and_decisions(dataset):
    publish_and_review(dataset)
    scheme = freeze(dataset, appeal_until=timezone.localdate())
    item = dataset.items["诉求按期办结"]
    zs = dataset.city.zhongshan
    late = timezone.now() + datetime.timedelta(days=2)
    with pytest.raises(ServiceError) as error:
        services.appeal_submit(
            actor=dataset.zhongshan_officer, item=item, org_unit=zs, reason="有一件超期非我方原因", now=late
        )
    assert error.value.code == "appeal_window_closed" and "申诉期已于" in error.value.message
    appeal = services.appeal_submit(
        actor=dataset.zhongshan_officer, item=item, org_unit=zs, reason="超期系仲裁延期所致"
    )
    with pytest.raises(ServiceError, match="未裁决"):
        services.scheme_publish_bulletin(actor=dataset.city_admin, scheme=scheme)
    decided = services.appeal_decide(
        actor=dataset.city_admin, appeal=appeal, upheld=True, new_points="8", decision="经核实，延期不可归责"
    )
    assert decided.status == "decided" and decided.upheld
    final = FinalScore.objects.get(scheme=scheme, org_unit=zs, item=item)
    assert (final.points, final.frozen_points) == (Decimal("8.00"), Decimal("5.00"))
    assert FinalScore.objects.get(scheme=scheme, org_unit=zs, item=None).points == Decimal("64.00")
    with pytest.raises(ServiceError, match="不能重复裁决"):
        services.appeal_decide(actor=dataset.city_admin, appeal=appeal, upheld=False, decision="再议")
    scheme = services.bulletin_update(
        actor=dataset.city_admin, scheme=scheme, commendation="中山区成绩突出。", criticism="西岗区发生事故。"
    )
    scheme = services.scheme_publish_bulletin(actor=dataset.city_admin, scheme=scheme)
    assert scheme.status == SchemeStatus.BULLETIN
    assert Appeal.objects.count() == 1


def test_copy_last_years_scheme(dataset):
    copy = services.scheme_copy(actor=dataset.city_admin, source=dataset.scheme)
    assert copy.year == 2013 and copy.status == SchemeStatus.DRAFT and "2013" in copy.name
    assert [(i.name, i.kind, i.weight, i.rule) for i in copy.items.all()] == [
        (i.name, i.kind, i.weight, i.rule) for i in dataset.scheme.items.all()
    ]
    with pytest.raises(ServiceError, match="已存在"):
        services.scheme_copy(actor=dataset.city_admin, source=dataset.scheme)


def test_a_district_runs_its_own_scheme_for_its_streets(dataset):
    scheme = services.scheme_create(actor=dataset.zhongshan_admin, org_unit=dataset.city.zhongshan, year=2012)
    services.item_add(
        actor=dataset.zhongshan_admin,
        scheme=scheme,
        name="建会率",
        kind="indicator",
        weight="100",
        rule={"metric": "union_rate", "floor": "0.5"},
    )
    with pytest.raises(ServiceError, match="青泥洼桥街道缺少 2012 年“建会率”目标"):
        services.scheme_publish(actor=dataset.zhongshan_admin, scheme=scheme)
    target_set(actor=None, indicator="union_rate", org_unit=dataset.city.street_a, year=2012, value="0.75")
    services.scheme_publish(actor=dataset.zhongshan_admin, scheme=scheme)
    sheet = compute_sheet(scheme, DAY)
    # 青泥洼桥街道: 3 of 4 = 75 % ≥ its target 75 % → 100.
    assert [(u.unit.name, u.total) for u in sheet.units] == [("青泥洼桥街道", Decimal("100.00"))]
    with pytest.raises(OutOfScope):
        services.scheme_create(actor=dataset.xigang_officer, org_unit=dataset.city.zhongshan, year=2013)
