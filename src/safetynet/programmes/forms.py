"""Forms of the programme pages: they parse what people type; the services decide the rest.

One small form per workflow step, each matching the keyword arguments of its service, so a view only
hands ``cleaned_data`` over.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.orgs.forms import (
    ChineseDateField,
    ChineseForm,
    UnitChoiceField,
    chinese_field_errors,
    parse_credit_codes,
)
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.programmes.models import (
    ContractAction,
    ContractClause,
    ContractKind,
    ContractStatus,
    ProgrammeScope,
    StationFunction,
    StationType,
    SystemKind,
)

# An uploaded document may be a scan of the signed text: keep the limit generous but finite.
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def _blank(choices: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


def filter_units(user: Any) -> Any:
    """Units down to street level (the ones a list is usually narrowed to), and the user's own unit."""
    return (
        OrgUnit.objects.visible_to(user)
        .filter(Q(level__lte=3) | Q(pk=getattr(user, "org_unit_id", None)))
        .order_by("path")
    )


class AttachmentField(forms.FileField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "附件")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "合同文本、会议记录或回执的扫描件（PDF、Word、图片，不超过 20 MB）。")
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        value = super().clean(data, initial)
        if value and getattr(value, "size", 0) > MAX_ATTACHMENT_BYTES:
            raise ValidationError(f"“{self.label}”超过 20 MB，请压缩后再上传。")
        return value


# --- lists -----------------------------------------------------------------------------------


class ContractFilterForm(ChineseForm):
    q = forms.CharField(label="合同名称", required=False)
    kind = forms.ChoiceField(
        label="合同类型", required=False, choices=_blank(ContractKind.choices, "全部类型")
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=_blank(ContractStatus.choices, "全部状态")
    )
    unit = UnitChoiceField(
        label="承办单位", required=False, queryset=OrgUnit.objects.none(), empty_label="全部区划"
    )
    expiring = forms.BooleanField(label="60 天内到期", required=False)
    overdue = forms.BooleanField(label="逾期未备案", required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = filter_units(user)
        for name in ("kind", "status", "unit"):
            self.fields[name].widget.attrs["aria-label"] = self.fields[name].label


# --- the offer to bargain --------------------------------------------------------------------


class ContractOfferForm(ChineseForm):
    kind = forms.ChoiceField(label="合同类型", choices=_blank(ContractKind.choices, "——请选择——"))
    scope = forms.ChoiceField(
        label="合同范围",
        choices=ProgrammeScope.choices,
        initial=ProgrammeScope.ENTERPRISE,
        help_text="企业合同只覆盖一家企业；区域性、行业性合同覆盖多家企业。",
    )
    enterprise_codes = forms.CharField(
        label="覆盖企业",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="填写企业的统一社会信用代码，每行一个（也可用逗号、分号或顿号分隔）。",
    )
    org_unit = UnitChoiceField(
        label="承办单位",
        required=False,
        queryset=OrgUnit.objects.none(),
        empty_label="（按覆盖企业自动确定）",
        help_text="留空时为覆盖企业共同的最低一级单位。",
    )
    offered_on = ChineseDateField(label="要约日期", help_text="工会向企业方发出协商要约书的日期。")
    title = forms.CharField(label="合同名称", max_length=200, required=False, help_text="留空自动命名。")
    covered_employees = forms.IntegerField(label="覆盖职工人数", required=False, min_value=0)
    comment = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    attachment = AttachmentField(label="要约书")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["org_unit"].queryset = OrgUnit.objects.visible_to(user).order_by("path")
        self.enterprises: list[Enterprise] = []

    def clean_title(self) -> str:
        return clean_free_text(self.cleaned_data["title"])

    def clean_enterprise_codes(self) -> str:
        text = self.cleaned_data.get("enterprise_codes", "")
        codes = parse_credit_codes(text)
        if not codes:
            raise ValidationError("请填写至少一家覆盖企业的统一社会信用代码。")
        found = {
            e.credit_code: e
            for e in Enterprise.objects.visible_to(self.user)
            .select_related("org_unit")
            .filter(credit_code__in=codes)
        }
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(
                f"“覆盖企业”中有 {len(missing)} 个信用代码在您的管辖范围内找不到：{'、'.join(missing[:10])}"
                f"{' 等' if len(missing) > 10 else ''}。请核对代码。"
            )
        self.enterprises = list(dict.fromkeys(found[c] for c in codes))
        return text

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "scope": data["scope"],
            "enterprises": self.enterprises,
            "org_unit": data["org_unit"],
            "offered_on": data["offered_on"],
            "title": data["title"],
            "covered_employees": data["covered_employees"],
            "comment": clean_free_text(data["comment"]),
            "attachment": data["attachment"],
        }


# --- one form per workflow step --------------------------------------------------------------


class StepForm(ChineseForm):
    """A step: its date, a comment, a document. ``service_data`` gives the service its keywords."""

    # The keyword under which the service takes the step's date.
    date_keyword = "on"
    date_label = "日期"
    comment_keyword = "comment"
    comment_label = "说明"
    comment_required = False
    has_attachment = True
    attachment_label = "附件"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, forms.Field] = {}
        if self.date_keyword:
            fields[self.date_keyword] = ChineseDateField(label=self.date_label, initial=timezone.localdate)
        fields.update(self.fields)
        if self.comment_keyword:
            fields[self.comment_keyword] = forms.CharField(
                label=self.comment_label,
                required=self.comment_required,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        if self.has_attachment:
            fields["attachment"] = AttachmentField(label=self.attachment_label)
        self.fields = fields
        # The generated fields need the Chinese messages too.
        chinese_field_errors(self)

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.comment_keyword:
            data[self.comment_keyword] = (data.get(self.comment_keyword) or "").strip()
        if self.has_attachment and not data.get("attachment"):
            data["attachment"] = None
        return data


class BargainForm(StepForm):
    date_label = "协商开始日期"
    attachment_label = "企业方应约书"


class SubmitDraftForm(StepForm):
    date_label = "提交日期"
    attachment_label = "合同草案"
    clauses = forms.MultipleChoiceField(
        label="主要条款", required=False, choices=ContractClause.choices, widget=forms.CheckboxSelectMultiple
    )
    wage_rise_percent = forms.DecimalField(
        label="工资增幅（%）", required=False, max_digits=5, decimal_places=2, help_text="如 8.5"
    )
    covered_employees = forms.IntegerField(label="覆盖职工人数", required=False, min_value=0)


class PreReviewForm(StepForm):
    date_label = "预审日期"
    comment_keyword = "comments"
    comment_label = "预审意见"
    attachment_label = "预审意见书"
    decision = forms.ChoiceField(
        label="预审结论",
        choices=[("pass", "通过"), ("return", "退回修改")],
        widget=forms.RadioSelect,
        initial="pass",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("comments") or "").strip():
            self.add_error("comments", "退回合同草案时请写明修改意见。")
        return data

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["passed"] = data.pop("decision") == "pass"
        return data


class VoteForm(StepForm):
    date_keyword = "held_on"
    date_label = "职代会召开日期"
    attachment_label = "会议决议"
    representatives_total = forms.IntegerField(label="职工代表总数", min_value=1)
    attended = forms.IntegerField(label="出席代表数", min_value=0)
    votes_for = forms.IntegerField(label="赞成票", min_value=0)
    votes_against = forms.IntegerField(label="反对票", min_value=0)
    abstentions = forms.IntegerField(label="弃权票", min_value=0, required=False, initial=0)

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["abstentions"] = data.get("abstentions") or 0
        return data


class SignForm(StepForm):
    date_keyword = "signed_on"
    date_label = "签订日期"
    attachment_label = "签订文本"
    effective_on = ChineseDateField(label="生效日期（期限起）")
    expires_on = ChineseDateField(label="到期日期（期限止）", help_text="到期日当天仍在有效期内。")
    wage_rise_percent = forms.DecimalField(
        label="工资增幅（%）", required=False, max_digits=5, decimal_places=2
    )
    covered_employees = forms.IntegerField(label="覆盖职工人数", required=False, min_value=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("effective_on"), data.get("expires_on")
        if start and end and end < start:
            self.add_error("expires_on", "到期日期不能早于生效日期。")
        return data


class FileForm(StepForm):
    date_keyword = "filed_on"
    date_label = "人社部门收到日期"
    attachment_label = "备案回执"


class ObjectionForm(StepForm):
    date_label = "异议日期"
    comment_label = "异议内容"
    comment_required = True
    attachment_label = "审查意见书"


class TakeEffectForm(StepForm):
    date_label = "生效日期"


class ExpireForm(StepForm):
    date_label = "到期登记日期"
    comment_keyword = ""
    has_attachment = False


class RenewForm(StepForm):
    date_keyword = "offered_on"
    date_label = "新一期要约日期"
    attachment_label = "要约书"


class WithdrawForm(StepForm):
    date_label = "终止日期"
    comment_label = "终止原因"
    comment_required = True
    has_attachment = False


# The step forms by workflow action, with the URL slug, the button and whether it is the main one.
STEP_FORMS: dict[str, type[StepForm]] = {
    ContractAction.START_BARGAINING: BargainForm,
    ContractAction.SUBMIT_DRAFT: SubmitDraftForm,
    ContractAction.PASS_REVIEW: PreReviewForm,
    ContractAction.RECORD_VOTE: VoteForm,
    ContractAction.SIGN: SignForm,
    ContractAction.FILE: FileForm,
    ContractAction.BUREAU_OBJECTION: ObjectionForm,
    ContractAction.TAKE_EFFECT: TakeEffectForm,
    ContractAction.EXPIRE: ExpireForm,
    ContractAction.RENEW: RenewForm,
    ContractAction.WITHDRAW: WithdrawForm,
}


# --- stations --------------------------------------------------------------------------------


class StationForm(ChineseForm):
    name = forms.CharField(label="名称", max_length=200)
    station_type = forms.ChoiceField(label="类型", choices=_blank(StationType.choices, "——请选择——"))
    org_unit = UnitChoiceField(label="所在区划", queryset=OrgUnit.objects.none())
    enterprise_code = forms.CharField(
        label="所在企业（统一社会信用代码）",
        max_length=30,
        required=False,
        help_text="设在企业的服务站填写；设在社区的留空。",
    )
    functions = forms.MultipleChoiceField(
        label="服务功能", required=False, choices=StationFunction.choices, widget=forms.CheckboxSelectMultiple
    )
    opened_on = ChineseDateField(label="启用日期")
    closed_on = ChineseDateField(label="撤销日期", required=False)
    staff_count = forms.IntegerField(label="工作人员数", min_value=0, initial=0)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["org_unit"].queryset = OrgUnit.objects.visible_to(user).order_by("path")
        self.enterprise: Enterprise | None = None

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_enterprise_code(self) -> str:
        codes = parse_credit_codes(self.cleaned_data.get("enterprise_code", ""))
        if not codes:
            return ""
        self.enterprise = (
            Enterprise.objects.visible_to(self.user)
            .select_related("org_unit")
            .filter(credit_code=codes[0])
            .first()
        )
        if self.enterprise is None:
            raise ValidationError(f"信用代码“{codes[0]}”的企业在您的管辖范围内找不到，请核对。")
        return codes[0]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "station_type": data["station_type"],
            "org_unit": data["org_unit"],
            "enterprise": self.enterprise,
            "functions": list(data["functions"]),
            "opened_on": data["opened_on"],
            "closed_on": data["closed_on"],
            "staff_count": data["staff_count"] or 0,
        }


class SystemFilterForm(ChineseForm):
    system = forms.ChoiceField(label="制度", required=False, choices=_blank(SystemKind.choices, "全部制度"))
    unit = UnitChoiceField(
        label="所属区划", required=False, queryset=OrgUnit.objects.none(), empty_label="全部区划"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = filter_units(user)


def year_choices(today: datetime.date | None = None) -> list[tuple[int, int]]:
    year = (today or timezone.localdate()).year
    return [(y, y) for y in range(year, 2004, -1)]
