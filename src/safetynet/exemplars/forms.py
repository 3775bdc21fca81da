"""劳模工匠和劳动竞赛: forms."""

from __future__ import annotations

from django import forms

from safetynet.exemplars.models import CompetitionKind, HonourKind, HonourLevel, OrganiserLevel


class HonourForm(forms.Form):
    id_number = forms.CharField(label="获得者身份证号", max_length=30, help_text="须已在会员管理中登记")
    kind = forms.ChoiceField(label="荣誉类别", choices=HonourKind.choices)
    level = forms.ChoiceField(label="级别", choices=HonourLevel.choices)
    year = forms.IntegerField(label="授予年度", min_value=1900, max_value=2999)
    enterprise = forms.CharField(label="所在企业统一社会信用代码", max_length=30)
    title = forms.CharField(label="称号全称", max_length=100, required=False)
    note = forms.CharField(label="事迹摘要", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TeamForm(forms.Form):
    name = forms.CharField(label="班组名称", max_length=100)
    enterprise = forms.CharField(label="所在企业统一社会信用代码", max_length=30)
    level = forms.ChoiceField(label="级别", choices=HonourLevel.choices)
    year = forms.IntegerField(label="授予年度", min_value=1900, max_value=2999)
    members_count = forms.IntegerField(label="班组人数", min_value=0, required=False)


class StudioForm(forms.Form):
    name = forms.CharField(label="工作室名称", max_length=100)
    leader_id_number = forms.CharField(
        label="领办人身份证号", max_length=30, help_text="须已在会员管理中登记"
    )
    enterprise = forms.CharField(label="所在企业统一社会信用代码", max_length=30)
    level = forms.ChoiceField(label="命名级别", choices=HonourLevel.choices, initial=HonourLevel.CITY)
    founded_on = forms.DateField(
        label="成立日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    members_count = forms.IntegerField(label="成员人数", min_value=0, required=False)
    patents = forms.IntegerField(label="专利数", min_value=0, required=False)
    savings = forms.DecimalField(label="创效（万元）", min_value=0, required=False, decimal_places=2)
    results = forms.CharField(label="主要成果", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StudioResultsForm(forms.Form):
    members_count = forms.IntegerField(label="成员人数", min_value=0, required=False)
    patents = forms.IntegerField(label="专利数", min_value=0, required=False)
    savings = forms.DecimalField(label="创效（万元）", min_value=0, required=False, decimal_places=2)
    results = forms.CharField(label="主要成果", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CompetitionForm(forms.Form):
    name = forms.CharField(label="竞赛名称", max_length=150)
    kind = forms.ChoiceField(label="类别", choices=CompetitionKind.choices)
    organiser_level = forms.ChoiceField(label="主办级别", choices=OrganiserLevel.choices)
    starts_on = forms.DateField(
        label="开始日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label="结束日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    description = forms.CharField(label="竞赛内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class EntryForm(forms.Form):
    enterprise = forms.CharField(label="参赛企业统一社会信用代码", max_length=30)
    workers = forms.IntegerField(label="参赛职工人数", min_value=0, required=False)
    result = forms.CharField(label="成绩", max_length=200, required=False)
    award = forms.CharField(label="获奖", max_length=200, required=False)
