"""What people write is stored exactly as they wrote it.

A worker's statement "新手测试：工资（三月）未发，未留电话。" was once stored as "新手测试:工资(三月)未发,未留电话。":
the full-width folding (NFKC) meant for codes and numbers ran over free text. Each free-text field below takes
the statement with full-width digits through its form and/or its service and must read back the same string;
only the whitespace around it goes, and CR LF line endings become LF.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from safetynet.cases import forms as case_forms
from safetynet.cases import services as case_services
from safetynet.cases.models import CaseStep, FollowUp, Outcome, OutcomeKind, StepAction
from safetynet.core.importing import run_import
from safetynet.core.normalize import clean_code, clean_free_text, clean_name, clean_text
from safetynet.members import forms as member_forms
from safetynet.members import services as member_services
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs import forms as org_forms
from safetynet.orgs.models import Enterprise
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.programmes import forms as programme_forms
from safetynet.programmes import services as programme_services

STATEMENT = "新手测试：工资（三月）未发，未留电话。１２３"
NOW = timezone.make_aware(datetime.datetime(2012, 9, 3, 10, 0))


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"


@pytest.fixture
def world(city, make_staff) -> dict[str, Any]:
    return {
        "city": city,
        "enterprise": EnterpriseFactory(
            org_unit=city.community_a, credit_code=make_credit_code(301), name="友好服装有限公司"
        ),
        "community": make_staff("ft_community", city.community_a, "operator"),
        "hotline": make_staff("ft_hotline", city.city, "operator"),
        "district": make_staff("ft_district", city.zhongshan, "unit_admin"),
    }


def test_the_cleaners_keep_what_was_typed_and_fold_only_codes():
    assert clean_free_text(f"  {STATEMENT}\r\n第二行\r第三行 \n") == f"{STATEMENT}\n第二行\n第三行"
    assert clean_name("  阿依古丽·买买提 ") == "阿依古丽·买买提"
    assert clean_name("王（小）明１") == "王（小）明１"
    # Codes, numbers and search terms are still folded: that is what they need.
    assert clean_code(" ２１０２０２ ００１ ") == "210202001"
    assert clean_text("１２３") == "123"


# --- forms: each free-text field cleans to exactly what was typed ------------------------------------


def _intake_form(world: dict[str, Any], data: dict[str, str]) -> Any:
    return case_forms.IntakeForm(data, user=world["hotline"])


def _plain(form_class: type) -> Callable[[dict[str, Any], dict[str, str]], Any]:
    return lambda world, data: form_class(data)


FORM_FIELDS = [
    (_intake_form, "description"),
    (_intake_form, "caller_name"),
    (_intake_form, "enterprise_name"),
    (_intake_form, "enterprise_address"),
    (_plain(case_forms.NoteForm), "note"),
    (_plain(case_forms.ResolveForm), "agreement"),
    (_plain(case_forms.ResolveForm), "note"),
    (_plain(case_forms.ReferForm), "referred_to"),
    (_plain(case_forms.ReferForm), "note"),
    (_plain(case_forms.ReasonForm), "reason"),
    (_plain(case_forms.HandUpForm), "reason"),
    (_plain(case_forms.PullUpForm), "reason"),
    (_plain(case_forms.SendDownForm), "instructions"),
    (_plain(case_forms.FollowUpForm), "note"),
    (_plain(case_forms.LegalAidForm), "lawyer"),
    (_plain(case_forms.LegalAidForm), "note"),
    (_plain(case_forms.RectificationForm), "owner"),
    (_plain(case_forms.RectificationForm), "note"),
    (_plain(case_forms.VerifyForm), "note"),
    (lambda world, data: programme_forms.ContractOfferForm(data, user=world["district"]), "title"),
    (lambda world, data: org_forms.UnionForm(data, user=world["district"]), "chair_name"),
    (lambda world, data: member_forms.WorkerForm(data, user=world["district"]), "name"),
]


@pytest.mark.parametrize(
    ("make_form", "field"),
    FORM_FIELDS,
    ids=[f"{i}-{field}" for i, (_make, field) in enumerate(FORM_FIELDS)],
)
def test_a_form_keeps_the_statement_as_typed(world, make_form, field):
    # Other required fields may be missing: a field that validates is in cleaned_data all the same.
    form = make_form(world, {field: f"  {STATEMENT}  "})
    form.is_valid()
    assert field not in form.errors, form.errors[field]
    assert form.cleaned_data[field] == STATEMENT


# --- services: stored and read back -------------------------------------------------------------------


def _intake(world: dict[str, Any], **extra: Any) -> Any:
    values = {
        "actor": world["hotline"],
        "channel": "hotline",
        "category": "wage_arrears",
        "description": "三个月工资未发",
        "enterprise": world["enterprise"],
        "caller_phone": "13912345678",
        "now": NOW,
    }
    values.update(extra)
    return case_services.case_intake(**values)


def _accepted(world: dict[str, Any]) -> Any:
    case = _intake(world)
    return case_services.case_accept(actor=world["community"], case=case, version=case.version, now=NOW)


def store_description(world: dict[str, Any], text: str) -> str:
    case = _intake(world, description=text)
    case.refresh_from_db()
    return case.description


def store_caller_name(world: dict[str, Any], text: str) -> str:
    case = _intake(world, caller_name=text)
    case.refresh_from_db()
    return case.caller_name


def store_enterprise_outside_registry(world: dict[str, Any], text: str) -> str:
    case = _intake(
        world, enterprise=None, enterprise_name=text, enterprise_address=text, unit=world["city"].street_a
    )
    case.refresh_from_db()
    assert case.enterprise_address == text
    return case.enterprise_name


def store_mediation_note(world: dict[str, Any], text: str) -> str:
    case = _accepted(world)
    case_services.case_record_mediation_attempt(
        actor=world["community"], case=case, version=case.version, note=text, now=NOW
    )
    return CaseStep.objects.get(case=case, action=StepAction.MEDIATION_ATTEMPT).note


def store_hand_up_reason(world: dict[str, Any], text: str) -> str:
    case = _accepted(world)
    case_services.case_hand_up(
        actor=world["community"], case=case, version=case.version, reason=text, now=NOW
    )
    return CaseStep.objects.filter(case=case).order_by("-pk").values_list("note", flat=True)[0]


def store_agreement_and_follow_up(world: dict[str, Any], text: str) -> str:
    case = _accepted(world)
    case_services.case_resolve(
        actor=world["community"],
        case=case,
        version=case.version,
        kind=OutcomeKind.MEDIATED,
        agreement=text,
        amount_recovered="1000",
        note=text,
        now=NOW,
    )
    outcome = Outcome.objects.get(case=case)
    assert outcome.note == text
    case.refresh_from_db()
    case_services.case_record_follow_up(
        actor=world["hotline"], case=case, satisfaction=4, note=text, now=NOW + datetime.timedelta(days=1)
    )
    assert FollowUp.objects.get(case=case).note == text
    return outcome.agreement


def store_person_name(world: dict[str, Any], text: str) -> str:
    person = member_services.person_create(actor=None, name=text, id_number=make_id_number(301))
    person.refresh_from_db()
    return person.name


def store_contract_title_and_comment(world: dict[str, Any], text: str) -> str:
    contract = programme_services.contract_offer(
        actor=world["district"],
        kind="wage",
        enterprises=[world["enterprise"]],
        offered_on=datetime.date(2012, 9, 3),
        title=text,
        comment=text,
    )
    contract.refresh_from_db()
    assert contract.steps.get().comment == text
    return contract.title


SERVICES = [
    store_description,
    store_caller_name,
    store_enterprise_outside_registry,
    store_mediation_note,
    store_hand_up_reason,
    store_agreement_and_follow_up,
    store_person_name,
    store_contract_title_and_comment,
]


@pytest.mark.parametrize("store", SERVICES, ids=[s.__name__ for s in SERVICES])
def test_a_service_stores_the_statement_as_typed(world, store):
    assert store(world, STATEMENT) == STATEMENT


def test_the_intake_page_stores_the_statement_as_typed(world, client):
    client.force_login(world["hotline"])
    response = client.post(
        "/cases/intake/",
        {
            "kind": "dispute",
            "channel": "hotline",
            "category": "wage_arrears",
            "workers_involved": "1",
            "claim_amount": "0",
            "enterprise": world["enterprise"].pk,
            "description": f"{STATEMENT}\r\n第二行",
            "caller_phone": "１３９１２３４５６７８",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    case = case_services.Case.objects.get()
    assert case.description == f"{STATEMENT}\n第二行"
    # The phone is a number: its full-width digits are folded.
    assert case.caller_phone_masked == "139****5678"


def test_the_enterprise_import_keeps_an_address_as_typed(city, tmp_path):
    """Addresses are what people wrote; the credit code and the numbers of the same row are still folded."""
    code = make_credit_code(302)
    wide_code = "".join(chr(ord(c) + 0xFEE0) for c in code)
    path = tmp_path / "enterprises.csv"
    header = "统一社会信用代码,企业名称,所属区划代码,经济类型,职工人数,成立日期,地址"
    row = f"{wide_code},友好新材料有限公司,210202001001,私营,１２０,2005-01-02,友好路１２３号（东门）"
    path.write_text("\ufeff" + header + "\n" + row + "\n", encoding="utf-8")
    result = run_import("enterprises", path)
    assert result.exit_code == 0, result.errors
    enterprise = Enterprise.objects.get(credit_code=code)
    assert (enterprise.address, enterprise.headcount) == ("友好路１２３号（东门）", 120)
