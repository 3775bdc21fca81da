"""The scope walk's records for assistance (see tests/test_scope_walk.py): one 中山区 record of each model
the assistance pages name by pk."""

from __future__ import annotations

from typing import Any

from safetynet.assistance.tests import factories


def scope_walk_records(enterprise: Any) -> tuple[dict[Any, Any], list[str]]:
    from safetynet.assistance import services
    from safetynet.assistance.models import (
        Application,
        DiscountBase,
        HardshipFile,
        Loan,
        Objection,
        Payment,
        PaymentBatch,
        Round,
    )
    from safetynet.orgs.models import OrgUnit

    community = enterprise.org_unit
    district = OrgUnit.objects.get(code="210202")

    person = factories.make_person(777, name="困难甲某")
    hardship_file = factories.make_file(community, person=person)
    # A round organised by 中山区 itself, so a 西岗区 user may not see it.
    round_ = services.round_create(
        actor=None,
        kind="winter_relief",
        year=2012,
        title="中山区送温暖专项",
        org_unit=district,
        window_opens=factories.DAY,
        window_closes=factories.DAY,
        standard_amount="300.00",
        budget="10000.00",
        review_levels=(3,),
    )
    factories.make_threshold(district)
    paid = factories.make_paid_application(round_, hardship_file)
    other = factories.make_file(community, person=factories.make_person(778, name="困难乙某"))
    noticed = factories.approve_all_levels(factories.make_application(round_, other))
    noticed = services.application_notice_start(actor=None, application=noticed, on=factories.DAY)
    objection = services.objection_record(
        actor=None, application=noticed, raised_on=noticed.notice_from, content="收入情况不实"
    )
    third = factories.make_file(community, person=factories.make_person(779, name="困难丙某"))
    batch_app = factories.make_noticed_application(round_, third)
    batch = services.payment_batch_create(actor=None, round=round_, unit=community, on=batch_app.notice_until)
    loan = factories.make_loan(community, person=person)
    base = factories.make_base(community, name="中山区会员优惠药店")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from safetynet.assistance.models import Evidence

    evidence = services.evidence_attach(
        actor=None,
        upload=SimpleUploadedFile("收入证明.pdf", b"%PDF-1.4 demo", content_type="application/pdf"),
        kind="income",
        hardship_file=hardship_file,
    )
    records = {
        Evidence: evidence,
        HardshipFile: hardship_file,
        Round: round_,
        Application: paid.application,
        Payment: paid,
        PaymentBatch: batch,
        Objection: objection,
        Loan: loan,
        DiscountBase: base,
    }
    return records, ["困难甲某", "困难乙某", "困难丙某", "中山区送温暖专项", "中山区会员优惠药店"]
