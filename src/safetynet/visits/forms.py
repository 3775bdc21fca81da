"""走访企业职工: the visit form (one column on a phone)."""

from __future__ import annotations

from django import forms

from safetynet.cases.models import Category
from safetynet.reporting.models import WarningCategory
from safetynet.visits.models import EIGHT_VISIT, SIX_CLEAR


class VisitForm(forms.Form):
    enterprise = forms.CharField(
        label="走访企业",
        max_length=200,
        help_text="统一社会信用代码或企业全称",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    visited_on = forms.DateField(
        label="走访日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    worker_name = forms.CharField(
        label="走访职工", max_length=50, required=False, help_text="走访到的职工姓名（可不填）"
    )
    six_clear = forms.MultipleChoiceField(
        label="六必清", required=False, choices=list(SIX_CLEAR.items()), widget=forms.CheckboxSelectMultiple
    )
    eight_visit = forms.MultipleChoiceField(
        label="八必访", required=False, choices=list(EIGHT_VISIT.items()), widget=forms.CheckboxSelectMultiple
    )
    findings = forms.CharField(
        label="发现的问题",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写明问题、涉及人数和金额；需要预警或转办时必填",
    )
    warning_category = forms.ChoiceField(
        label="同时登记预警", required=False, choices=[("", "不登记预警")] + list(WarningCategory.choices)
    )
    case_category = forms.ChoiceField(
        label="同时转为诉求案件",
        required=False,
        choices=[("", "不转办")] + list(Category.choices),
        help_text="同时登记预警时，案件类别按预警类别确定",
    )
    caller_phone = forms.CharField(
        label="职工联系电话", max_length=30, required=False, help_text="转办案件时便于回访"
    )


class EscalateForm(forms.Form):
    warning_category = VisitForm.base_fields["warning_category"]
    case_category = VisitForm.base_fields["case_category"]
    caller_phone = VisitForm.base_fields["caller_phone"]
