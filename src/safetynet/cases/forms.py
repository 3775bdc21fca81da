"""Forms of the case pages: they parse what people type; the services decide the rest.

The intake form is one screen a hotline operator fills in under a minute. Each handling step has a small
form whose fields match the keyword arguments of its service, plus the hidden ``version`` the page showed
(a stale one is refused by the service as a conflict).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from safetynet.cases.models import (
    LEVEL_CHOICES,
    REFERRAL_OUTCOMES,
    CaseKind,
    Category,
    Channel,
    DayKind,
    Difficulty,
    OutcomeKind,
)
from safetynet.core.normalize import clean_free_text, clean_name, clean_text
from safetynet.orgs.forms import ChineseDateField, ChineseForm, UnitChoiceField
from safetynet.orgs.models import Enterprise, OrgUnit

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several files at once (recordings, photos, scans), each at most 20 MB."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "附件")
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "录音、照片、工资条等，可多选，每个不超过 20 MB。")
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(f"一次最多上传 {MAX_ATTACHMENTS} 个附件，请分批上传。")
        cleaned = [super(AttachmentsField, self).clean(item, initial) for item in files]
        for item in cleaned:
            if item and getattr(item, "size", 0) > MAX_ATTACHMENT_BYTES:
                raise ValidationError(f"附件“{item.name}”超过 20 MB，请压缩后再上传。")
        return [item for item in cleaned if item]


def _blank(choices: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


class IntakeForm(ChineseForm):
    kind = forms.ChoiceField(
        label="类型", choices=CaseKind.choices, initial=CaseKind.DISPUTE, widget=forms.RadioSelect
    )
    # 网络工会 appeals are filed by the workers themselves on the platform, never registered by an officer.
    channel = forms.ChoiceField(
        label="来源渠道",
        choices=[(value, label) for value, label in Channel.choices if value != Channel.PLATFORM],
        initial=Channel.HOTLINE,
    )
    enterprise = forms.ModelChoiceField(
        label="涉及企业", queryset=Enterprise.objects.none(), required=False, widget=forms.HiddenInput
    )
    enterprise_query = forms.CharField(
        label="企业名称或统一社会信用代码",
        required=False,
        max_length=200,
        help_text="输入两个字以上，从建议中选择；名录中没有时填写下面的企业名称和地址。",
    )
    enterprise_name = forms.CharField(label="企业名称（名录中没有时）", required=False, max_length=200)
    enterprise_address = forms.CharField(label="企业地址（名录中没有时）", required=False, max_length=200)
    unit = UnitChoiceField(
        label="属地单位（名录中没有时）",
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label="本单位",
        help_text="企业所在的社区或街道；不选则落在本单位。",
    )
    category = forms.ChoiceField(label="诉求类别", choices=_blank(Category.choices, "请选择"))
    workers_involved = forms.IntegerField(
        label="涉及人数", min_value=1, initial=1, help_text="10 人及以上为集体争议，直接由区级办理。"
    )
    claim_amount = forms.DecimalField(
        label="涉及金额（元）", min_value=0, max_digits=14, decimal_places=2, required=False, initial=0
    )
    description = forms.CharField(
        label="诉求内容", widget=forms.Textarea(attrs={"rows": 4}), help_text="何时、何事、诉求人要求什么。"
    )
    caller_name = forms.CharField(label="诉求人姓名", required=False, max_length=50)
    anonymous = forms.BooleanField(label="匿名（不登记姓名）", required=False)
    caller_phone = forms.CharField(
        label="回访电话",
        required=False,
        max_length=30,
        help_text="手机号或带区号的固定电话。匿名来电也须留回访电话；只有署名来信和转办可以不留。",
    )
    link_duplicates = forms.BooleanField(label="与上面的疑似重复案件关联", required=False)
    attachments = AttachmentsField()

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = Enterprise.objects.visible_to(user)
        self.fields["unit"].queryset = OrgUnit.objects.visible_to(user).order_by("path")
        self.fields["channel"].widget.attrs["autofocus"] = True
        self.fields["enterprise_query"].widget.attrs.update(
            {"autocomplete": "off", "placeholder": "如：友好服装 或 91210202…"}
        )
        self.fields["caller_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean_caller_phone(self) -> str:
        """The format here, next to the field; whether a number is required is the service's rule."""
        from safetynet.members.validation import normalize_phone

        try:
            return normalize_phone(self.cleaned_data["caller_phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="caller_phone") from None

    def clean_description(self) -> str:
        return clean_free_text(self.cleaned_data["description"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("enterprise") and not clean_text(data.get("enterprise_name") or ""):
            query = clean_name(data.get("enterprise_query") or "")
            if query and "enterprise_name" not in self.errors:
                # Typed a name but did not pick a suggestion: treat it as an enterprise outside the registry.
                data["enterprise_name"] = query
            else:
                self.add_error(
                    "enterprise_query", "请从建议中选择涉及企业；名录中没有时请填写企业名称和地址。"
                )
        return data


# --- handling steps ---------------------------------------------------------------------------------


class StepForm(ChineseForm):
    """Every step form carries the version of the case the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class AcceptForm(StepForm):
    difficulty = forms.ChoiceField(
        label="难易程度",
        choices=Difficulty.choices,
        required=False,
        help_text="疑难、特别复杂的案件期限可能更长。",
    )


class NoteForm(StepForm):
    note = forms.CharField(
        label="调解情况",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="时间、地点、参加人、双方意见、结果。",
    )


RESOLVE_KINDS = [(OutcomeKind.MEDIATED.value, OutcomeKind.MEDIATED.label)] + [
    (kind.value, kind.label) for kind in (OutcomeKind.WITHDRAWN, OutcomeKind.OUT_OF_SCOPE)
]


class ResolveForm(StepForm):
    kind = forms.ChoiceField(label="办理结果", choices=RESOLVE_KINDS)
    agreement = forms.CharField(
        label="调解协议内容",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="调解成功时必填。",
    )
    amount_recovered = forms.DecimalField(
        label="挽回金额（元）", required=False, min_value=0, max_digits=14, decimal_places=2
    )
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_amount_recovered(self) -> Any:
        return self.cleaned_data.get("amount_recovered") or 0


class ReferForm(StepForm):
    kind = forms.ChoiceField(label="转往", choices=[(k.value, k.label) for k in REFERRAL_OUTCOMES])
    referred_to = forms.CharField(
        label="接收机构", required=False, max_length=200, help_text="如：中山区劳动人事争议仲裁委员会。"
    )
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(StepForm):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class HandUpForm(StepForm):
    reason = forms.CharField(
        label="上交原因",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="本级调解不成的情况，上级须知道的事实。",
    )


class PullUpForm(StepForm):
    reason = forms.CharField(label="提级原因", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SendDownForm(StepForm):
    instructions = forms.CharField(label="交办意见", widget=forms.Textarea(attrs={"rows": 2}))


class LeaderForm(StepForm):
    leader = forms.ModelChoiceField(label="包案领导", queryset=None, empty_label="请选择")

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = candidates
        self.fields["leader"].label_from_instance = lambda user: (
            f"{user.full_name or user.username}（{user.org_unit.name if user.org_unit_id else '—'}）"
        )


class MergeForm(StepForm):
    cases = forms.ModelMultipleChoiceField(
        label="并入的个案", queryset=None, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = candidates
        self.fields["cases"].label_from_instance = lambda case: (
            f"{case.number} · {case.received_at:%Y-%m-%d} · {case.workers_involved} 人 · {case.description[:30]}"
        )


SATISFACTION_CHOICES = [
    ("5", "5 非常满意"),
    ("4", "4 满意"),
    ("3", "3 基本满意"),
    ("2", "2 不满意"),
    ("1", "1 非常不满意"),
]


class FollowUpForm(StepForm):
    satisfaction = forms.TypedChoiceField(label="满意度", choices=SATISFACTION_CHOICES, coerce=int)
    note = forms.CharField(label="回访情况", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LegalAidForm(StepForm):
    lawyer = forms.CharField(label="律师", max_length=50)
    law_firm = forms.CharField(label="律师事务所", max_length=100, required=False)
    hours = forms.DecimalField(label="服务时长（小时）", min_value=0, max_digits=6, decimal_places=1)
    given_on = ChineseDateField(label="提供日期")
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RectificationForm(StepForm):
    owner = forms.CharField(label="整改责任人", max_length=100, help_text="企业负责整改的人及职务。")
    deadline = forms.DateTimeField(
        label="整改期限",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(label="整改要求", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class VerifyForm(StepForm):
    passed = forms.TypedChoiceField(
        label="核查结论",
        choices=[("1", "整改到位，核查通过"), ("0", "未整改到位，退回整改")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="核查情况", widget=forms.Textarea(attrs={"rows": 2}), help_text="现场检查结果、核查人。"
    )


class AttachForm(StepForm):
    files = AttachmentsField(label="附件", required=True)


class DeadlineRuleForm(ChineseForm):
    """One row of the rule table; blank category or difficulty means the rule covers all of them."""

    level = forms.TypedChoiceField(label="层级", choices=LEVEL_CHOICES, coerce=int)
    category = forms.ChoiceField(
        label="诉求类别",
        choices=_blank(Category.choices, "全部类别"),
        required=False,
        help_text="留空：本层级所有类别（更具体的规则优先）。",
    )
    difficulty = forms.ChoiceField(
        label="难易程度",
        choices=_blank(Difficulty.choices, "全部难易程度"),
        required=False,
        help_text="受理时可把案件定为疑难或特别复杂，期限随之改变。",
    )
    days = forms.IntegerField(
        label="期限天数",
        min_value=1,
        max_value=365,
        help_text="自案件到达本级时起算，如 15。",
    )
    day_kind = forms.ChoiceField(
        label="计算方式",
        choices=DayKind.choices,
        initial=DayKind.CALENDAR,
        widget=forms.RadioSelect,
        help_text="工作日按国家法定节假日和调休安排计算。",
    )


class DeadlineCheckForm(ChineseForm):
    """试算: which rule a case of this level, category and difficulty gets (read-only, on the list page)."""

    level = forms.TypedChoiceField(label="层级", choices=LEVEL_CHOICES, coerce=int)
    category = forms.ChoiceField(
        label="诉求类别", choices=_blank(Category.choices, "（任一类别）"), required=False
    )
    difficulty = forms.ChoiceField(
        label="难易程度", choices=Difficulty.choices, required=False, initial=Difficulty.GENERAL
    )
