"""Forms of the member registry pages: they parse what people type; the services decide the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safetynet.core.normalize import clean_code, clean_text
from safetynet.members import selectors
from safetynet.members.models import EmploymentType, Household, MembershipEndReason
from safetynet.members.selectors import PersonSearchCriteria
from safetynet.members.validation import (
    IdentityInfo,
    IdNumberError,
    IdType,
    clean_person_name,
    normalize_phone,
    validate_identity,
)
from safetynet.orgs.forms import ChineseDateField, ChineseForm, UnitChoiceField, visible_units
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgLevel, OrgUnit
from safetynet.orgs.validation import normalize_credit_code


def _today() -> datetime.date:
    return timezone.localdate()


def enterprise_by_code(user: Any, value: str) -> Enterprise:
    """The enterprise in the user's scope with this credit code; the code's own mistakes are named first."""
    try:
        code = normalize_credit_code(value)
    except ValidationError as exc:
        raise ValidationError(exc.messages[0], code="credit_code") from None
    enterprise = (
        Enterprise.objects.visible_to(user).select_related("org_unit").filter(credit_code=code).first()
    )
    if enterprise is None:
        raise ValidationError(
            f"在您的管辖范围内找不到统一社会信用代码为“{code}”的企业，请核对代码，或先登记该企业。",
            code="unknown_enterprise",
        )
    return enterprise


class IdentityForm(ChineseForm):
    """A document type and number, checked as the services and the roster import check them, so a wrong
    number says what is wrong ("证件号码应为 18 位，现为 5 位") instead of "not found"."""

    # Not required: a form posted without it (an older page, a script) means the resident ID card.
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID, required=False
    )
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, help_text=_("完整的 18 位身份证号；其他证件请先选证件类型。")
    )
    identity: IdentityInfo | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        number = data.get("id_number")
        if number and "id_type" not in self.errors:
            data["id_type"] = data.get("id_type") or IdType.RESIDENT_ID
            try:
                self.identity = validate_identity(data["id_type"], number)
            except IdNumberError as exc:
                self.add_error("id_number", exc.messages[0])
            else:
                data["id_number"] = self.identity.number
        return data


class JoinForm(IdentityForm):
    """入会: a worker of an enterprise the union covers, found by ID number (never by a list of persons)."""

    valid_from = ChineseDateField(label=_("入会日期"), initial=_today)
    member_number = forms.CharField(label=_("会员编号"), max_length=30, required=False)


class PersonJoinForm(ChineseForm):
    """入会 from the person's page: the person is known; the union is one covering where they work."""

    union = forms.ModelChoiceField(label=_("加入工会"), queryset=GrassrootsUnion.objects.none())
    valid_from = ChineseDateField(label=_("入会日期"), initial=_today)
    member_number = forms.CharField(label=_("会员编号"), max_length=30, required=False)

    def __init__(self, *args: Any, unions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = unions.select_related("org_unit")
        self.fields["union"].label_from_instance = lambda obj: f"{obj.name}（{obj.org_unit.name}）"
        self.fields["union"].empty_label = None if len(self.fields["union"].queryset) == 1 else "请选择"


class WorkerForm(IdentityForm):
    """登记职工: the employment at an enterprise, and the person — found by document number when already
    registered (the name must then agree), created from the same form when not."""

    enterprise_code = forms.CharField(
        label=_("企业统一社会信用代码"), max_length=30, help_text=_("18 位，见营业执照。")
    )
    name = forms.CharField(label=_("姓名"), max_length=60)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=30,
        required=False,
        help_text=_("手机号或带区号的固定电话；已登记的职工不会因此改动。"),
    )
    household = forms.ChoiceField(
        label=_("户籍类型"),
        choices=[("", "未填写"), *Household.choices],
        required=False,
        help_text=_("农村户籍计为农民工。"),
    )
    employed_from = ChineseDateField(label=_("入职日期"), initial=_today)
    employment_type = forms.ChoiceField(
        label=_("用工形式"), choices=[("", "未填写"), *EmploymentType.choices], required=False
    )

    def __init__(self, *args: Any, user: Any, enterprise: Enterprise | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.enterprise = enterprise
        if enterprise is not None:
            # The enterprise's own tab: it is given, not typed.
            del self.fields["enterprise_code"]
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        order = ["enterprise_code", "id_type", "id_number", "name", "phone", "household"]
        self.order_fields(order + ["employed_from", "employment_type"])

    def clean_enterprise_code(self) -> str:
        self.enterprise = enterprise_by_code(self.user, self.cleaned_data["enterprise_code"])
        return self.enterprise.credit_code

    def clean_name(self) -> str:
        try:
            return clean_person_name(self.cleaned_data["name"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="name") from None

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="phone") from None


class EmploymentAddForm(ChineseForm):
    """A new employment of a person already on the registry (from their page: no ID number typed again)."""

    enterprise_code = forms.CharField(
        label=_("企业统一社会信用代码"), max_length=30, help_text=_("18 位，见营业执照。")
    )
    employed_from = ChineseDateField(label=_("入职日期"), initial=_today)
    employment_type = forms.ChoiceField(
        label=_("用工形式"), choices=[("", "未填写"), *EmploymentType.choices], required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.enterprise: Enterprise | None = None

    def clean_enterprise_code(self) -> str:
        self.enterprise = enterprise_by_code(self.user, self.cleaned_data["enterprise_code"])
        return self.enterprise.credit_code


class EmploymentEndForm(ChineseForm):
    valid_to = ChineseDateField(
        label=_("离职日期"), initial=_today, help_text=_("自离职日期当天起不再计入在职职工。")
    )


class LeaveForm(ChineseForm):
    valid_to = ChineseDateField(label=_("离会日期"), initial=_today)
    end_reason = forms.ChoiceField(
        label=_("离会原因"),
        choices=[c for c in MembershipEndReason.choices if c[0] != MembershipEndReason.TRANSFERRED],
        initial=MembershipEndReason.LEFT_JOB,
    )


class UnionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: GrassrootsUnion) -> str:
        return f"{obj.name}（{obj.org_unit.name}）"


class TransferForm(ChineseForm):
    """会员关系接转: the receiving union and the day; the member number travels unless a new one is given."""

    to_union = UnionChoiceField(label=_("转入工会"), queryset=GrassrootsUnion.objects.none())
    on = ChineseDateField(label=_("接转日期"), initial=_today)
    member_number = forms.CharField(
        label=_("新会员编号"), max_length=30, required=False, help_text=_("留空则沿用原会员编号。")
    )

    def __init__(self, *args: Any, unions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_union"].queryset = unions.select_related("org_unit")


class CardIssueForm(ChineseForm):
    # Not required: a form posted without it (an older page, a script) means the resident ID card.
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID, required=False
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        required=False,
        help_text=_("完整的 18 位身份证号或其他证件号码。"),
    )
    issued_on = ChineseDateField(label=_("发卡日期"), initial=_today)
    card_number = forms.CharField(
        label=_("卡号"), max_length=24, required=False, help_text=_("留空则自动生成 16 位卡号。")
    )

    def __init__(self, *args: Any, person: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if person is not None:
            # Issued from the person's page: the number is not asked again.
            del self.fields["id_type"], self.fields["id_number"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        number = data.get("id_number")
        if "id_number" in self.fields and not number and "id_number" not in self.errors:
            self.add_error("id_number", "请填写持卡职工的证件号码。")
        elif number and "id_type" not in self.errors:
            id_type = data.get("id_type") or IdType.RESIDENT_ID
            try:
                data["id_number"] = validate_identity(id_type, number).number
            except IdNumberError as exc:
                self.add_error("id_number", exc.messages[0])
        return data


class CardChangeForm(ChineseForm):
    on = ChineseDateField(label=_("日期"), initial=_today)


class PersonSearchForm(ChineseForm):
    """The person search bar: the text and the filters that narrow a common name. Values live in the URL."""

    q = forms.CharField(label=_("姓名、身份证号、会员编号或卡号"), required=False, max_length=60)
    unit = UnitChoiceField(
        label=_("单位"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部单位")
    )
    enterprise = forms.CharField(label=_("企业"), required=False, max_length=100)
    member = forms.ChoiceField(
        label=_("会籍"), choices=[("", _("会籍不限")), ("1", _("在会")), ("0", _("未入会"))], required=False
    )
    employed = forms.ChoiceField(
        label=_("在职"), choices=[("", _("在职不限")), ("1", _("在职")), ("0", _("不在职"))], required=False
    )
    household = forms.ChoiceField(
        label=_("户籍类型"), choices=[("", _("户籍不限")), *Household.choices], required=False
    )
    day = ChineseDateField(label=_("日期"), required=False)

    FILTERS = ("unit", "enterprise", "member", "employed", "household")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.enterprises: list[Enterprise] = []
        units = visible_units(user)
        field = self.fields["unit"]
        field.queryset = units
        # Streets and above in the picker (thousands of communities would bury it); a community chosen
        # elsewhere (a link with ?unit=) stays selectable.
        selected = self.data.get("unit") if self.is_bound else None
        shown = units.filter(level__lte=OrgLevel.STREET)
        if selected and str(selected).isdigit():
            shown = shown | units.filter(pk=int(selected))
        field.widget.choices = [
            ("", field.empty_label),
            *((u.pk, field.label_from_instance(u)) for u in shown),
        ]
        self.fields["enterprise"].widget.attrs.update(
            {"placeholder": _("企业名称或信用代码"), "aria-label": _("企业名称或统一社会信用代码")}
        )
        self.fields["day"].widget.attrs.update({"aria-label": _("在会、在职的日期")})

    def clean_q(self) -> str:
        return clean_text(self.cleaned_data.get("q", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        text = clean_text(data.get("enterprise", ""))
        if text and "unit" not in self.errors:
            unit = data.get("unit")
            where = f"“{unit.name}”及其下级单位" if unit else "您的管辖范围内"
            code = clean_code(text)
            is_code = len(code) == 18 and code.isascii() and code.isalnum()
            found = selectors.enterprise_candidates(self.user, text, unit=unit)
            if not found and is_code:
                try:
                    normalize_credit_code(code)
                except ValidationError as exc:
                    self.add_error("enterprise", exc.messages[0])
                else:
                    self.add_error(
                        "enterprise", f"在{where}找不到统一社会信用代码为“{code}”的企业，请核对后重新输入。"
                    )
            elif not found:
                self.add_error(
                    "enterprise",
                    f"在{where}找不到名称含“{text}”的企业，请核对名称，或改用统一社会信用代码。",
                )
            elif len(found) > selectors.ENTERPRISE_MATCH_LIMIT:
                self.add_error(
                    "enterprise",
                    f"名称含“{text}”的企业超过 {selectors.ENTERPRISE_MATCH_LIMIT} 家，"
                    "请输入更完整的企业名称或统一社会信用代码。",
                )
            else:
                self.enterprises = found
        return data

    @property
    def filtered(self) -> bool:
        """Any filter set (the day alone is not one: it only qualifies 会籍 and 在职)."""
        return self.is_bound and any(self.data.get(key) for key in self.FILTERS)

    def criteria(self) -> PersonSearchCriteria:
        """The selector's question (call after is_valid())."""
        data = self.cleaned_data
        yes_no = {"1": True, "0": False}
        return PersonSearchCriteria(
            q=data.get("q", ""),
            day=data.get("day") or _today(),
            unit=data.get("unit"),
            enterprises=tuple(e.pk for e in self.enterprises),
            member=yes_no.get(data.get("member", "")),
            employed=yes_no.get(data.get("employed", "")),
            household=data.get("household", ""),
        )
