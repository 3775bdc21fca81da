"""Forms of the member registry pages: they parse what people type; the services decide the rest."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safetynet.members.models import MembershipEndReason
from safetynet.orgs.forms import ChineseDateField, ChineseForm
from safetynet.orgs.models import GrassrootsUnion


def _today() -> datetime.date:
    return timezone.localdate()


class JoinForm(ChineseForm):
    """入会: a worker of an enterprise the union covers, found by ID number (never by a list of persons)."""

    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, help_text=_("完整的身份证号或其他证件号码。")
    )
    valid_from = ChineseDateField(label=_("入会日期"), initial=_today)
    member_number = forms.CharField(label=_("会员编号"), max_length=30, required=False)


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
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, required=False, help_text=_("完整的身份证号或其他证件号码。")
    )
    issued_on = ChineseDateField(label=_("发卡日期"), initial=_today)
    card_number = forms.CharField(
        label=_("卡号"), max_length=24, required=False, help_text=_("留空则自动生成 16 位卡号。")
    )


class CardChangeForm(ChineseForm):
    on = ChineseDateField(label=_("日期"), initial=_today)
