"""和谐劳动关系评价: forms."""

from __future__ import annotations

from django import forms

from safetynet.harmony.models import SOURCE_HELP, Source


class ModelForm(forms.Form):
    name = forms.CharField(label="模型名称", max_length=100, initial="和谐劳动关系指数")
    city_level_min = forms.DecimalField(label="市级和谐企业最低分", min_value=0, max_value=100, initial=90)
    district_level_min = forms.DecimalField(
        label="区级和谐企业最低分", min_value=0, max_value=100, initial=80
    )
    city_valid_years = forms.IntegerField(label="市级命名有效年数", min_value=1, max_value=10, initial=3)
    district_valid_years = forms.IntegerField(label="区级命名有效年数", min_value=1, max_value=10, initial=2)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for source, label in Source.choices:
            self.fields[f"label_{source}"] = forms.CharField(
                label="维度名称", max_length=50, required=False, initial=label
            )
            self.fields[f"weight_{source}"] = forms.DecimalField(
                label=f"{label}（%）",
                min_value=0,
                max_value=100,
                required=False,
                help_text=SOURCE_HELP[source],
            )

    def dimension_rows(self) -> list[tuple[str, str, str, forms.BoundField, forms.BoundField]]:
        return [
            (source, label, SOURCE_HELP[source], self[f"label_{source}"], self[f"weight_{source}"])
            for source, label in Source.choices
        ]


class SurveyForm(forms.Form):
    score = forms.DecimalField(label="调查得分（0–100）", min_value=0, max_value=100, decimal_places=2)
    note = forms.CharField(label="调查说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", "批准"), ("reject", "不予批准")])
    reason = forms.CharField(required=False, max_length=2000)
    version = forms.IntegerField(required=False)
