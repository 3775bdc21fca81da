"""Forms of the registry pages: they parse and check what people type; the services decide the rest.

Every error names its field in Chinese, so a message read on its own still says what to fix.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from safetynet.core.normalize import clean_code, clean_name, clean_text, parse_date
from safetynet.orgs.models import (
    Enterprise,
    GrassrootsUnion,
    Industry,
    OrgLevel,
    OrgUnit,
    Ownership,
    UnionCoverage,
    UnionType,
)
from safetynet.orgs.services import ENTERPRISE_AUDIT_FIELDS, UNION_AUDIT_FIELDS, record_version
from safetynet.orgs.validation import normalize_credit_code

CREDIT_CODE_SEPARATORS = re.compile(r"[\s,，;；、]+")


def chinese(text: Any) -> str:
    """A label in Chinese whatever the page's language: error messages stay Chinese (see the module doc)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text or "")


class ChineseDateField(forms.DateField):
    """Accepts 2012-03-15, 2012/03/15 and 2012年03月15日, like the import files do."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def to_python(self, value: Any) -> datetime.date | None:
        if value in self.empty_values:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            raise ValidationError(f"“{chinese(self.label)}”{exc}。", code="invalid") from None


class UnitChoiceField(forms.ModelChoiceField):
    """A unit picker that shows the hierarchy by indentation and the division code."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        return f"{'　' * (obj.level - 1)}{obj.name}（{obj.code}）"


def chinese_field_errors(form: forms.BaseForm) -> None:
    """Replace Django's generic messages by ones that name the field, so they read well anywhere."""
    for field in form.fields.values():
        label = chinese(field.label)
        if isinstance(field, forms.ChoiceField | forms.ModelChoiceField | forms.ModelMultipleChoiceField):
            field.error_messages["required"] = f"请选择“{label}”。"
            field.error_messages["invalid_choice"] = f"“{label}”的选项无效，请从列表中重新选择。"
        else:
            field.error_messages["required"] = f"请填写“{label}”。"
        if isinstance(field, forms.IntegerField):
            field.error_messages["invalid"] = f"“{label}”应为整数。"
            field.error_messages["min_value"] = f"“{label}”不能小于 %(limit_value)s。"
            field.error_messages["max_value"] = f"“{label}”不能大于 %(limit_value)s。"
        if isinstance(field, forms.CharField):
            field.error_messages["max_length"] = (
                f"“{label}”最多 %(limit_value)d 个字，现有 %(show_value)d 个。"
            )


class ChineseForm(forms.Form):
    required_css_class = "required"
    error_css_class = "has-error"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chinese_field_errors(self)

    def add_service_error(self, field: str | None, message: str) -> None:
        """A service refusal goes next to its field when the form shows one, otherwise above the form (a
        hidden field such as ``version`` has nowhere to show it)."""
        shown = field in self.fields and not self.fields[field].widget.is_hidden
        self.add_error(field if shown else None, message)


class VersionField(forms.IntegerField):
    """The version of the record the form showed (optimistic locking, see ``orgs.services.record_version``)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("版本"))
        super().__init__(required=False, min_value=0, **kwargs)


def visible_units(user: Any) -> Any:
    return OrgUnit.objects.visible_to(user).order_by("path")


# --- org units -------------------------------------------------------------------------------


class OrgUnitRenameForm(ChineseForm):
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(label=_("区划代码"), max_length=12)
    effective_on = ChineseDateField(label=_("生效日期"), required=False, help_text=_("留空表示今天起生效。"))
    version = VersionField()

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_code(self) -> str:
        return clean_code(self.cleaned_data["code"])


class OrgUnitMoveForm(ChineseForm):
    parent = UnitChoiceField(label=_("新的上级单位"), queryset=OrgUnit.objects.none())
    effective_on = ChineseDateField(label=_("生效日期"), required=False, help_text=_("留空表示今天起生效。"))

    def __init__(self, *args: Any, user: Any, unit: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only units one level up make sense; the service checks the rest (scope, itself, closed parents).
        self.fields["parent"].queryset = (
            visible_units(user).filter(level=unit.level - 1).exclude(path__startswith=unit.path)
        )


class OrgUnitCloseForm(ChineseForm):
    closed_on = ChineseDateField(label=_("停用日期"))


class OrgUnitCreateForm(ChineseForm):
    code = forms.CharField(label=_("区划代码"), max_length=12)
    name = forms.CharField(label=_("名称"), max_length=100)
    valid_from = ChineseDateField(label=_("启用日期"), required=False)

    def __init__(self, *args: Any, parent: OrgUnit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level = parent.level + 1
        lengths = {OrgLevel.DISTRICT: "6", OrgLevel.STREET: "9", OrgLevel.COMMUNITY: "12"}.get(self.level, "")
        if lengths:
            self.fields["code"].help_text = gettext("%(level)s的区划代码为 %(digits)s 位数字。") % {
                "level": OrgLevel(self.level).label,
                "digits": lengths,
            }

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_code(self) -> str:
        return clean_code(self.cleaned_data["code"])


# --- enterprises -----------------------------------------------------------------------------

ENTERPRISE_FIELDS = (
    "credit_code",
    "name",
    "org_unit",
    "ownership",
    "industry",
    "above_designated_size",
    "headcount",
    "migrant_headcount",
    "dispatched_headcount",
    "founded_on",
    "deregistered_on",
    "address",
    "contact_phone",
)


class EnterpriseForm(ChineseForm):
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    name = forms.CharField(label=_("企业名称"), max_length=200)
    org_unit = UnitChoiceField(
        label=_("所属区划"), queryset=OrgUnit.objects.none(), empty_label=_("——请选择——")
    )
    ownership = forms.ChoiceField(label=_("经济类型"), choices=[("", _("——请选择——")), *Ownership.choices])
    industry = forms.ModelChoiceField(
        label=_("行业门类"), queryset=Industry.objects.all(), required=False, empty_label=_("——未填——")
    )
    above_designated_size = forms.BooleanField(label=_("规模以上"), required=False)
    headcount = forms.IntegerField(label=_("职工人数"), min_value=0)
    migrant_headcount = forms.IntegerField(
        label=_("农民工人数"), min_value=0, initial=0, required=False, help_text=_("不填按 0 计。")
    )
    dispatched_headcount = forms.IntegerField(
        label=_("劳务派遣人数"), min_value=0, initial=0, required=False, help_text=_("不填按 0 计。")
    )
    founded_on = ChineseDateField(label=_("成立日期"))
    deregistered_on = ChineseDateField(label=_("注销日期"), required=False)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    effective_on = ChineseDateField(
        label=_("变更生效日期"),
        required=False,
        help_text=_("所属区划或职工人数变化时，从哪天起按新值统计；留空表示今天。"),
    )
    version = VersionField()

    def __init__(self, *args: Any, user: Any, instance: Enterprise | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in ENTERPRISE_FIELDS}
            kwargs["initial"]["org_unit"] = instance.org_unit_id
            kwargs["initial"]["industry"] = instance.industry_id
            kwargs["initial"]["version"] = record_version(instance, ENTERPRISE_AUDIT_FIELDS)
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["org_unit"].queryset = visible_units(user)
        if instance is None:
            # The effective date and the version only matter when an existing record changes.
            del self.fields["effective_on"]
            del self.fields["version"]

    def clean_credit_code(self) -> str:
        try:
            return normalize_credit_code(self.cleaned_data["credit_code"])
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="credit_code") from None

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_migrant_headcount(self) -> int:
        return self.cleaned_data.get("migrant_headcount") or 0

    def clean_dispatched_headcount(self) -> int:
        return self.cleaned_data.get("dispatched_headcount") or 0

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        headcount = data.get("headcount")
        if headcount is not None:
            for part, label in (
                ("migrant_headcount", "农民工人数"),
                ("dispatched_headcount", "劳务派遣人数"),
            ):
                if (data.get(part) or 0) > headcount:
                    self.add_error(part, f"“{label}”（{data[part]}）不能多于职工人数（{headcount}）。")
        return data

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ENTERPRISE_FIELDS}


BOOLEAN_CHOICES = [("", _("全部")), ("1", _("是")), ("0", _("否"))]


class EnterpriseFilterForm(ChineseForm):
    """The search bar of the enterprise list. Values live in the URL, so lists can be bookmarked."""

    q = forms.CharField(label=_("名称或信用代码"), required=False)
    unit = UnitChoiceField(
        label=_("区划"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部区划")
    )
    ownership = forms.ChoiceField(
        label=_("经济类型"), choices=[("", _("全部类型")), *Ownership.choices], required=False
    )
    sector = forms.ChoiceField(
        label=_("公有/非公"),
        choices=[("", _("公有和非公")), ("public", _("公有制")), ("nonpublic", _("非公有制"))],
        required=False,
    )
    industry = forms.ModelChoiceField(
        label=_("行业"), queryset=Industry.objects.all(), required=False, empty_label=_("全部行业")
    )
    size = forms.ChoiceField(
        label=_("规模以上"),
        choices=[("", _("规模不限")), ("1", _("规模以上")), ("0", _("规模以下"))],
        required=False,
    )
    has_union = forms.ChoiceField(
        label=_("建会"), choices=[("", _("建会不限")), ("1", _("已建会")), ("0", _("未建会"))], required=False
    )
    eligible = forms.BooleanField(label=_("仅应建会企业"), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[("", _("全部状态")), ("operating", _("在营")), ("deregistered", _("已注销"))],
        required=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = visible_units(user)
        self.fields["unit"].queryset = units
        # Thousands of communities would make the picker useless: offer streets and above (a community can
        # still be chosen from the tree, which links here with ?unit=).
        field = self.fields["unit"]
        selected = self.data.get("unit") if self.is_bound else None
        shown = units.filter(level__lte=OrgLevel.STREET)
        if selected and str(selected).isdigit():
            shown = units.filter(level__lte=OrgLevel.STREET) | units.filter(pk=int(selected))
        field.widget.choices = [
            ("", field.empty_label),
            *((u.pk, field.label_from_instance(u)) for u in shown),
        ]

    def selector_kwargs(self) -> dict[str, Any]:
        """The arguments of ``orgs.selectors.enterprise_list``; an unusable value is ignored, not an error."""
        self.is_valid()  # cleaned_data then holds exactly the fields that parsed
        data = self.cleaned_data
        yes_no = {"1": True, "0": False}
        return {
            "unit": data.get("unit"),
            "q": clean_text(data.get("q", "")),
            "ownership": data.get("ownership", ""),
            "sector": data.get("sector", ""),
            "industry": data["industry"].pk if data.get("industry") else "",
            "above_designated_size": yes_no.get(data.get("size", "")),
            "has_union": yes_no.get(data.get("has_union", "")),
            "eligible_only": bool(data.get("eligible")),
            "status": data.get("status", ""),
        }


# --- grassroots unions -----------------------------------------------------------------------

UNION_FIELDS = (
    "name",
    "union_type",
    "org_unit",
    "founded_on",
    "dissolved_on",
    "chair_name",
    "chair_directly_elected",
)


def parse_credit_codes(text: str) -> list[str]:
    return [clean_code(part) for part in CREDIT_CODE_SEPARATORS.split(text or "") if clean_code(part)]


class UnionForm(ChineseForm):
    name = forms.CharField(label=_("工会名称"), max_length=200)
    union_type = forms.ChoiceField(label=_("工会类型"), choices=[("", _("——请选择——")), *UnionType.choices])
    org_unit = UnitChoiceField(
        label=_("所属区划"), queryset=OrgUnit.objects.none(), empty_label=_("——请选择——")
    )
    founded_on = ChineseDateField(label=_("成立日期"))
    dissolved_on = ChineseDateField(label=_("撤销日期"), required=False)
    chair_name = forms.CharField(label=_("主席姓名"), max_length=50, required=False)
    chair_directly_elected = forms.BooleanField(label=_("主席直选"), required=False)
    enterprise_codes = forms.CharField(
        label=_("覆盖企业"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("填写企业的统一社会信用代码，每行一个（也可用逗号、分号或顿号分隔）。"),
    )
    version = VersionField()

    def __init__(self, *args: Any, user: Any, instance: GrassrootsUnion | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(instance, name) for name in UNION_FIELDS}
            kwargs["initial"]["org_unit"] = instance.org_unit_id
            kwargs["initial"]["version"] = record_version(instance, UNION_AUDIT_FIELDS)
        super().__init__(*args, **kwargs)
        self.user = user
        self.instance = instance
        self.fields["org_unit"].queryset = visible_units(user)
        self.enterprises: list[Enterprise] = []
        if instance is not None:
            # Coverage of an existing union changes on its own page, with dates.
            del self.fields["enterprise_codes"]
        else:
            del self.fields["version"]

    def clean_name(self) -> str:
        return clean_text(self.cleaned_data["name"])

    def clean_chair_name(self) -> str:
        return clean_name(self.cleaned_data["chair_name"])

    def clean_enterprise_codes(self) -> str:
        text = self.cleaned_data.get("enterprise_codes", "")
        codes = parse_credit_codes(text)
        found = {
            e.credit_code: e for e in Enterprise.objects.visible_to(self.user).filter(credit_code__in=codes)
        }
        missing = [c for c in codes if c not in found]
        if missing:
            raise ValidationError(
                f"“覆盖企业”中有 {len(missing)} 个信用代码在您的管辖范围内找不到：{'、'.join(missing[:10])}"
                f"{' 等' if len(missing) > 10 else ''}。请核对代码，或先登记这些企业。"
            )
        self.enterprises = list(dict.fromkeys(found[c] for c in codes))
        return text

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in UNION_FIELDS}


class CoverageAddForm(ChineseForm):
    credit_code = forms.CharField(label=_("企业统一社会信用代码"), max_length=30)
    valid_from = ChineseDateField(label=_("覆盖起始日期"))
    valid_to = ChineseDateField(label=_("覆盖终止日期"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.enterprise: Enterprise | None = None

    def clean_credit_code(self) -> str:
        code = clean_code(self.cleaned_data["credit_code"])
        self.enterprise = Enterprise.objects.visible_to(self.user).filter(credit_code=code).first()
        if self.enterprise is None:
            raise ValidationError(f"在您的管辖范围内找不到统一社会信用代码为“{code}”的企业，请核对代码。")
        return code


class CoverageEndForm(ChineseForm):
    coverage = forms.ModelChoiceField(
        label=_("覆盖记录"), queryset=UnionCoverage.objects.none(), widget=forms.HiddenInput
    )
    valid_to = ChineseDateField(label=_("覆盖终止日期"))

    def __init__(self, *args: Any, union: GrassrootsUnion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coverage"].queryset = union.coverages.select_related("enterprise")
