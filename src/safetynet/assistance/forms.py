"""Forms of the 服务帮扶 pages: they parse what people type (dates, amounts to the fen, choices); the
services decide everything else (eligibility, budget, the review chain) and their refusals come back next to a field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from safetynet.assistance.models import (
    BaseKind,
    Cause,
    CloseReason,
    EvidenceKind,
    HardshipLevel,
    ProgrammeKind,
)
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.orgs.forms import ChineseDateField, ChineseForm, UnitChoiceField, chinese, visible_units
from safetynet.orgs.models import OrgLevel, OrgUnit

MAX_MONEY = Decimal("9999999999.99")

LEVEL_CHOICES = [
    (str(int(OrgLevel.STREET)), "街道（乡镇）"),
    (str(int(OrgLevel.DISTRICT)), "区市县"),
    (str(int(OrgLevel.CITY)), "市"),
]


class MoneyField(forms.Field):
    """An amount in 元 to the fen: "1,200", "1200.5" and "１２００" are read; more than two decimals, a
    negative or a text are refused in Chinese naming the field."""

    widget = forms.TextInput

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("maxlength", "20")

    def to_python(self, value: Any) -> Decimal | None:
        text = clean_text(value or "")[:40].replace(",", "").replace("，", "").replace("元", "")
        if not text:
            return None
        label = chinese(self.label)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationError(f"“{label}”应为金额（元），如 800 或 800.50。", code="invalid") from None
        if not amount.is_finite():
            raise ValidationError(f"“{label}”应为金额（元），如 800 或 800.50。", code="invalid")
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValidationError(f"“{label}”最多精确到分（两位小数）。", code="precision")
        if amount < 0:
            raise ValidationError(f"“{label}”不能为负数。", code="min_value")
        if amount == 0 and not self.allow_zero:
            raise ValidationError(f"“{label}”应大于 0。", code="min_value")
        if amount > MAX_MONEY:
            raise ValidationError(f"“{label}”过大。", code="max_value")
        return amount.quantize(Decimal("0.01"))


class ApplicationFileField(forms.FileField):
    """An attachment (PDF or picture); the service checks the type and size."""

    widget = forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"})


# --- hardship files --------------------------------------------------------------------------------


class PersonLookupForm(ChineseForm):
    """Find the worker in the registry by ID number (exact) or name."""

    q = forms.CharField(label="身份证号或姓名", max_length=50)

    def clean_q(self) -> str:
        return clean_text(self.cleaned_data["q"])


class HardshipFileForm(ChineseForm):
    person = forms.IntegerField(widget=forms.HiddenInput, label="职工")
    org_unit = UnitChoiceField(label="建档单位", queryset=OrgUnit.objects.none(), empty_label="——请选择——")
    household_size = forms.IntegerField(label="家庭人口", min_value=1, max_value=30)
    monthly_income = MoneyField(
        label="家庭月收入（元）", allow_zero=True, help_text="全部家庭成员的月收入合计。"
    )
    causes = forms.MultipleChoiceField(
        label="困难类型", choices=Cause.choices, widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(label="困难程度", choices=HardshipLevel.choices, initial=HardshipLevel.GENERAL)
    opened_on = ChineseDateField(label="建档日期")
    household_members = forms.CharField(
        label="家庭成员",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一人：姓名 关系 出生年份 情况，如“王小明 儿子 2005 在读高中”。",
    )
    note = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_household_members(self) -> list[dict[str, Any]]:
        rows = []
        for number, line in enumerate((self.cleaned_data.get("household_members") or "").splitlines(), 1):
            parts = clean_text(line).split(" ")
            if not parts or not parts[0]:
                continue
            if len(parts) < 2:
                raise ValidationError(f"“家庭成员”第 {number} 行应至少写明姓名和关系，如“王小明 儿子”。")
            birth_year = None
            rest = parts[2:]
            if rest and rest[0].isdigit():
                birth_year = int(rest[0])
                if not 1900 <= birth_year <= 2100:
                    raise ValidationError(f"“家庭成员”第 {number} 行的出生年份“{rest[0]}”不对。")
                rest = rest[1:]
            rows.append(
                {"name": parts[0], "relation": parts[1], "birth_year": birth_year, "note": " ".join(rest)}
            )
        return rows

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Files are kept by streets and communities.
        self.fields["org_unit"].queryset = visible_units(user).filter(
            level__in=[OrgLevel.STREET, OrgLevel.COMMUNITY]
        )
        if not self.is_bound and "org_unit" not in self.initial and getattr(user, "org_unit_id", None):
            self.initial["org_unit"] = user.org_unit_id

    def clean_note(self) -> str:
        return clean_free_text(self.cleaned_data.get("note", ""))


class HouseholdMemberForm(ChineseForm):
    name = forms.CharField(label="姓名", max_length=50)
    relation = forms.CharField(label="与职工关系", max_length=20, help_text="如 配偶、儿子、母亲。")
    birth_year = forms.IntegerField(label="出生年份", min_value=1900, max_value=2100, required=False)
    note = forms.CharField(label="情况", max_length=200, required=False, help_text="如 在读高中、患病。")

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])


class FileReviewForm(ChineseForm):
    reviewed_on = ChineseDateField(label="审核日期")
    household_size = forms.IntegerField(label="家庭人口", min_value=1, max_value=30)
    monthly_income = MoneyField(label="家庭月收入（元）", allow_zero=True)
    note = forms.CharField(label="审核意见", max_length=200, required=False)


class FileCloseForm(ChineseForm):
    closed_on = ChineseDateField(label="脱困日期")
    reason = forms.ChoiceField(label="脱困原因", choices=[("", "——请选择——"), *CloseReason.choices])
    note = forms.CharField(label="说明", max_length=200, required=False)


class EvidenceForm(ChineseForm):
    kind = forms.ChoiceField(label="材料类型", choices=EvidenceKind.choices)
    file = ApplicationFileField(label="文件", help_text="PDF 或图片。")


# --- rounds ----------------------------------------------------------------------------------------


class RoundForm(ChineseForm):
    kind = forms.ChoiceField(label="帮扶项目", choices=ProgrammeKind.choices)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    title = forms.CharField(label="名称", max_length=100, help_text="如“2013 年送温暖”。")
    window_opens = ChineseDateField(label="申请开始日期")
    window_closes = ChineseDateField(label="申请截止日期")
    standard_amount = MoneyField(
        label="标准金额（元）",
        required=False,
        help_text="每户的标准金额；按范围发放时留空并填写最低、最高金额。",
    )
    min_amount = MoneyField(label="最低金额（元）", required=False)
    max_amount = MoneyField(label="最高金额（元）", required=False)
    budget = MoneyField(
        label="总预算（元）", allow_zero=True, help_text="本单位的预算，之后可分解到下级单位。"
    )
    require_open_file = forms.BooleanField(label="须在困难档案内", required=False, initial=True)
    require_member = forms.BooleanField(label="须为工会会员", required=False)
    require_below_threshold = forms.BooleanField(label="人均收入须低于困难标准", required=False, initial=True)
    require_not_paid = forms.BooleanField(label="本轮未领取过", required=False, initial=True)
    review_levels = forms.MultipleChoiceField(
        label="审核层级",
        choices=LEVEL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        initial=[str(int(OrgLevel.STREET)), str(int(OrgLevel.DISTRICT))],
        help_text="自下而上依次审核。",
    )
    notice_days = forms.IntegerField(label="公示期（工作日）", min_value=0, max_value=30, initial=5)
    street_required = forms.IntegerField(label="街道：需同意人数", min_value=1, max_value=20, initial=1)
    street_panel = forms.IntegerField(label="街道：评审人数", min_value=1, max_value=20, required=False)
    district_required = forms.IntegerField(label="区：需同意人数", min_value=1, max_value=20, initial=1)
    district_panel = forms.IntegerField(label="区：评审人数", min_value=1, max_value=20, required=False)
    city_required = forms.IntegerField(label="市：需同意人数", min_value=1, max_value=20, initial=1)
    city_panel = forms.IntegerField(label="市：评审人数", min_value=1, max_value=20, required=False)

    def clean_title(self) -> str:
        return clean_text(self.cleaned_data["title"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for prefix, label in (("street", "街道"), ("district", "区"), ("city", "市")):
            required, panel = data.get(f"{prefix}_required"), data.get(f"{prefix}_panel")
            if required and panel and panel < required:
                self.add_error(
                    f"{prefix}_panel", f"{label}的评审人数（{panel}）不能少于需同意人数（{required}）。"
                )
        return data

    def level_rules(self) -> dict[int, tuple[int, int | None]]:
        """{level: (N, M)} for the chosen levels (M None: any reviewer of the level)."""
        keys = {
            int(OrgLevel.STREET): "street",
            int(OrgLevel.DISTRICT): "district",
            int(OrgLevel.CITY): "city",
        }
        rules = {}
        for value in self.cleaned_data["review_levels"]:
            level = int(value)
            prefix = keys[level]
            rules[level] = (
                self.cleaned_data.get(f"{prefix}_required") or 1,
                self.cleaned_data.get(f"{prefix}_panel"),
            )
        return rules

    def ordered_levels(self) -> list[int]:
        """Bottom-up: street (3), district (2), city (1)."""
        return sorted((int(v) for v in self.cleaned_data["review_levels"]), reverse=True)


class ApplicationForm(ChineseForm):
    hardship_file = forms.IntegerField(widget=forms.HiddenInput, label="困难档案")
    amount = MoneyField(label="申请金额（元）", required=False, help_text="留空按本批次的标准金额。")
    reason = forms.CharField(label="申请理由", max_length=300, required=False)
    student_name = forms.CharField(label="学生姓名", max_length=50, required=False)
    school = forms.CharField(label="录取学校", max_length=100, required=False)
    admission_letter = ApplicationFileField(
        label="录取通知书", required=False, help_text="金秋助学必须上传。"
    )

    def __init__(self, *args: Any, student_aid: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if student_aid:
            for name in ("student_name", "school", "admission_letter"):
                self.fields[name].required = True
            self.fields["admission_letter"].error_messages["required"] = (
                "金秋助学申请须上传录取通知书（PDF 或图片）。"
            )
        else:
            for name in ("student_name", "school", "admission_letter"):
                del self.fields[name]


class DecisionForm(ChineseForm):
    decision = forms.ChoiceField(label="意见", choices=[("approve", "同意"), ("reject", "不同意")])
    reason = forms.CharField(label="理由", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "reject" and not clean_text(data.get("reason", "")):
            self.add_error("reason", "不同意时请写明理由，申请单位将看到它。")
        return data


class ReasonForm(ChineseForm):
    reason = forms.CharField(label="原因", max_length=300)

    def clean_reason(self) -> str:
        text = clean_text(self.cleaned_data["reason"])
        if not text:
            raise ValidationError("请写明原因。")
        return text


class ObjectionForm(ChineseForm):
    raised_on = ChineseDateField(label="提出日期")
    raised_by = forms.CharField(label="提出人", max_length=100, required=False, help_text="可匿名。")
    content = forms.CharField(label="异议内容", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_content(self) -> str:
        return clean_free_text(self.cleaned_data["content"])


class ObjectionResolveForm(ChineseForm):
    upheld = forms.TypedChoiceField(
        label="处理结果",
        choices=[("0", "异议不成立（继续公示）"), ("1", "异议成立（取消该申请）")],
        coerce=lambda value: value == "1",
    )
    resolution = forms.CharField(label="处理意见", max_length=500)


class BudgetSplitForm(ChineseForm):
    """One amount per child unit: fields ``unit-<pk>`` built for the units given."""

    def __init__(
        self, *args: Any, units: list[Any], initial_amounts: dict[int, Decimal], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        for unit in units:
            field = MoneyField(label=unit.name, allow_zero=True, required=False)
            field.widget.attrs["class"] = "share-input"
            self.fields[f"unit-{unit.pk}"] = field
            if not self.is_bound and unit.pk in initial_amounts:
                self.initial[f"unit-{unit.pk}"] = initial_amounts[unit.pk]

    def shares(self) -> dict[Any, Decimal]:
        return {
            unit: self.cleaned_data.get(f"unit-{unit.pk}") or Decimal("0.00")
            for unit in self.units
            if self.cleaned_data.get(f"unit-{unit.pk}") is not None
        }


# --- loans -----------------------------------------------------------------------------------------


class LoanForm(ChineseForm):
    person = forms.IntegerField(widget=forms.HiddenInput, label="职工")
    principal = MoneyField(label="借款金额（元）")
    granted_on = ChineseDateField(label="放款日期")
    instalment_count = forms.IntegerField(
        label="分期数", min_value=1, max_value=60, help_text="按月等额还款。"
    )
    purpose = forms.CharField(label="用途", max_length=200, required=False)


class RepaymentForm(ChineseForm):
    paid_on = ChineseDateField(label="还款日期")
    amount = MoneyField(label="还款金额（元）")


# --- discount bases --------------------------------------------------------------------------------


BASE_FIELDS = ("name", "kind", "address", "phone", "discount", "valid_from", "valid_to", "org_unit")


class DiscountBaseForm(ChineseForm):
    name = forms.CharField(label="名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=BaseKind.choices)
    org_unit = UnitChoiceField(label="所属单位", queryset=OrgUnit.objects.none(), empty_label="——请选择——")
    address = forms.CharField(label="地址", max_length=200)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    discount = forms.CharField(
        label="优惠内容", max_length=300, help_text="如“凭会员卡挂号费全免，药品九五折”。"
    )
    valid_from = ChineseDateField(label="生效日期")
    valid_to = ChineseDateField(label="失效日期", required=False, help_text="留空表示长期有效。")

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = visible_units(user)
        if editing:
            self.fields["org_unit"].disabled = True

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_address(self) -> str:
        return clean_text(self.cleaned_data["address"])

    def clean_discount(self) -> str:
        return clean_text(self.cleaned_data["discount"])


class BaseEndForm(ChineseForm):
    valid_to = ChineseDateField(label="终止日期", help_text="当天起不再提供优惠。")
