"""Forms of the reporting pages: they parse what people type; the services decide the rest."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from safetynet.core.normalize import clean_code, clean_free_text, clean_text
from safetynet.orgs.forms import ChineseDateField, ChineseForm, VersionField, chinese_field_errors
from safetynet.reporting.models import (
    LEVEL_CHOICES,
    MAX_DUE_DAY,
    FieldKind,
    FormVersion,
    PeriodKind,
    WarningCategory,
)

YES_NO = [("是", "是"), ("否", "否")]


class ReportFormAttributesForm(ChineseForm):
    """The attributes of a report form (the city designs it)."""

    code = forms.CharField(label="报表代码", max_length=20, help_text="字母和数字，如 YJ01；建立后不能修改。")
    name = forms.CharField(label="报表名称", max_length=100)
    period_kind = forms.ChoiceField(label="报送周期", choices=PeriodKind.choices)
    level = forms.TypedChoiceField(label="报送层级", choices=LEVEL_CHOICES, coerce=int)
    due_day = forms.IntegerField(
        label="截止日",
        min_value=1,
        max_value=MAX_DUE_DAY,
        help_text=f"报告期次月的第几日截止（1–{MAX_DUE_DAY}），如 5 表示次月 5 日（含当日）。",
    )
    is_warning = forms.BooleanField(
        label="预警报表",
        required=False,
        help_text="预警报表的零申报会与预警信息、诉求案件比对，发现瞒报嫌疑。",
    )
    enabled_from = ChineseDateField(label="启用日期", required=False, help_text="留空表示一直启用。")
    enabled_to = ChineseDateField(label="停用日期", required=False)
    instructions = forms.CharField(label="填报说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].required = False

    def clean_code(self) -> str:
        return clean_code(self.cleaned_data.get("code") or "")

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_instructions(self) -> str:
        return clean_free_text(self.cleaned_data.get("instructions", ""))


_ROW = re.compile(r"^field-(\d+)-label$")


def parse_field_rows(data: Any) -> list[dict[str, Any]]:
    """The designer's rows (``field-<n>-key/label/kind/required/choices/help/delete``) in row order; rows
    with no label and no key are blanks, rows marked for deletion are left out."""
    numbers = sorted(int(m.group(1)) for name in data for m in [_ROW.match(name)] if m)
    rows = []
    for number in numbers:
        prefix = f"field-{number}-"
        label = (data.get(prefix + "label") or "").strip()
        key = (data.get(prefix + "key") or "").strip()
        if data.get(prefix + "delete") or (not label and not key):
            continue
        rows.append(
            {
                "key": key,
                "label": label,
                "kind": data.get(prefix + "kind") or FieldKind.NUMBER,
                "required": bool(data.get(prefix + "required")),
                "choices": data.get(prefix + "choices") or "",
                "help": data.get(prefix + "help") or "",
            }
        )
    return rows


def report_values_form(
    version: FormVersion, data: Any = None, initial: dict[str, Any] | None = None
) -> ChineseForm:
    """A form with one input per field of the version (what a full report asks), plus 内容 and 更正说明."""
    form = ChineseForm(data=data, initial=initial or {})
    for field in version.fields:
        key, label, kind, required = field["key"], field["label"], field["kind"], bool(field.get("required"))
        help_text = field.get("help", "")
        if kind in (FieldKind.NUMBER, FieldKind.AMOUNT):
            widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
            # Text, not a number input: the service checks it and names the field in its message.
            form_field: forms.Field = forms.CharField(label=label, required=required, widget=widget)
            if kind == FieldKind.AMOUNT:
                help_text = help_text or "单位：元"
        elif kind == FieldKind.WORKERS:
            form_field = forms.CharField(
                label=label, required=required, widget=forms.TextInput(attrs={"inputmode": "numeric"})
            )
            help_text = help_text or "单位：人"
        elif kind == FieldKind.YES_NO:
            form_field = forms.ChoiceField(
                label=label, required=required, choices=YES_NO, widget=forms.RadioSelect
            )
        elif kind == FieldKind.CHOICE:
            form_field = forms.ChoiceField(
                label=label, required=required, choices=[("", "请选择…"), *[(c, c) for c in field["choices"]]]
            )
        else:
            form_field = forms.CharField(
                label=label, required=required, strip=False, widget=forms.Textarea(attrs={"rows": 3})
            )
        form_field.help_text = help_text
        form.fields[key] = form_field
    form.fields["content"] = forms.CharField(
        label="情况说明",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="本期情况的文字说明（照原样保存）。",
    )
    form.fields["note"] = forms.CharField(
        label="更正说明", required=False, max_length=200, help_text="更正已报的报表时，说明改了什么、为什么。"
    )
    # Required marks and Chinese messages for the fields added above.
    from safetynet.orgs.forms import chinese_field_errors

    chinese_field_errors(form)
    return form


class WarningForm(ChineseForm):
    credit_code = forms.CharField(
        label="企业统一社会信用代码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="输入 18 位代码，下方会显示企业名称。",
    )
    category = forms.ChoiceField(label="预警类别", choices=[("", "请选择…"), *WarningCategory.choices])
    discovered_on = ChineseDateField(label="发现日期")
    workers_involved = forms.CharField(
        label="涉及人数", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    amount = forms.CharField(
        label="涉及金额（元）", required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    months = forms.CharField(
        label="涉及月数",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="如拖欠几个月工资、几个月社保。",
    )
    description = forms.CharField(
        label="情况说明",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="照原样保存，不做任何改写。",
    )

    def clean_credit_code(self) -> str:
        return clean_code(self.cleaned_data["credit_code"])


class TransitionForm(ChineseForm):
    action = forms.CharField(widget=forms.HiddenInput)
    version = VersionField()
    reason = forms.CharField(
        label="排除理由", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    note = forms.CharField(
        label="处置情况", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- urgent incidents, the risk rule ----------------------------------------------------------------------


class ChineseDateTimeField(forms.DateTimeField):
    """A moment typed on a phone or a computer (datetime-local, or "2012-06-04 10:30"), in Beijing time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error_messages["invalid"] = f"“{self.label}”应为日期和时间，如 2012-06-04 10:30。"

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = clean_text(value)
        return super().to_python(value)


class IncidentForm(ChineseForm):
    category = forms.ChoiceField(label="事件类别", choices=[])
    title = forms.CharField(
        label="事件简述",
        max_length=100,
        help_text="一句话：哪里、多少人、发生了什么。如“某厂 60 余名职工因欠薪堵厂门”。",
    )
    known_at = ChineseDateTimeField(label="知悉时间", help_text="工会最早得知此事的时间（第一知情人）。")
    reported_at = ChineseDateTimeField(
        label="报告时间", required=False, help_text="留空即为提交的此刻；此前已电话报告的，填实际报告时间。"
    )
    occurred_at = ChineseDateTimeField(label="发生时间", required=False)
    unit = forms.TypedChoiceField(label="发生地区划", coerce=int, choices=[])
    credit_code = forms.CharField(
        label="涉及企业统一社会信用代码",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="涉及某家企业的，输入其 18 位代码（可不填）。",
    )
    workers_involved = forms.CharField(
        label="涉及人数", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    place = forms.CharField(label="发生地点", required=False, max_length=200)
    description = forms.CharField(
        label="事件经过",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="起因、现状、诉求、已采取的措施（照原样保存）。",
    )

    def __init__(self, *args: Any, units: list[Any] = (), **kwargs: Any) -> None:
        from safetynet.reporting.models import IncidentCategory

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "请选择…"), *IncidentCategory.choices]
        self.fields["unit"].choices = (
            [(u.pk, f"{'　' * max(u.level - units[0].level, 0)}{u.name}") for u in units] if units else []
        )
        chinese_field_errors(self)
        for name in ("known_at", "reported_at", "occurred_at"):
            field = self.fields[name]
            field.error_messages["invalid"] = f"“{field.label}”应为日期和时间，如 2012-06-04 10:30。"

    def clean_credit_code(self) -> str:
        return clean_code(self.cleaned_data.get("credit_code") or "")


class IncidentActionForm(ChineseForm):
    action = forms.CharField(widget=forms.HiddenInput)
    version = VersionField()
    outcome = forms.CharField(
        label="处置结果", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )


def risk_rule_form(data: Any = None, initial: dict[str, Any] | None = None) -> ChineseForm:
    """One whole-number input per weight and threshold of the rule; the service checks ranges and order."""
    from safetynet.reporting.models import RiskRule
    from safetynet.reporting.risk import RULE_FIELDS

    form = ChineseForm(data=data, initial=initial or {})
    for name in RULE_FIELDS:
        model_field = RiskRule._meta.get_field(name)
        form.fields[name] = forms.IntegerField(
            label=str(model_field.verbose_name),
            min_value=1 if name in ("recent_days", "threshold_yellow") else 0,
            max_value=3650 if name == "recent_days" else 10000,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )
    chinese_field_errors(form)
    return form
