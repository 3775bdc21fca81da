"""和谐劳动关系评价: staff pages (ranking, explanation, model, computing with a progress bar, 和谐企业)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.harmony import exports, scoring, selectors, services
from safetynet.harmony.forms import DecideForm, ModelForm, SurveyForm
from safetynet.harmony.models import Designation, DesignationStatus, IndexModel, Run, Score, Survey
from safetynet.orgs.models import Industry, OrgUnit
from safetynet.visits.views import picked_unit


def picked_year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", "") or request.POST.get("year", ""))
    except ValueError:
        year = 0
    if 2000 <= year <= 2100:
        return year
    latest = Score.objects.order_by("-year").values_list("year", flat=True).first()
    return latest or timezone.localdate().year


def _tabs(active: str) -> list[tuple[str, str, bool]]:
    return [
        (reverse("harmony:index_list"), "指数排名", active == "ranking"),
        (reverse("harmony:designation_list"), "和谐企业", active == "designations"),
        (reverse("harmony:model_edit"), "评价模型", active == "model"),
    ]


class IndexListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year = picked_year(request)
        unit = picked_unit(request)
        industry = request.GET.get("industry", "")
        q = request.GET.get("q", "")
        scores = selectors.ranking(request.user, year=year, unit=unit, industry=industry, q=q)
        top = unit or OrgUnit.objects.filter(pk=request.user.org_unit_id).first()
        children = list(OrgUnit.objects.filter(parent=top).order_by("code")) if top is not None else []
        summary = selectors.summary(request.user, year=year, unit=unit, units=children, industry=industry)
        paginator = Paginator(scores, 50)
        if not q:
            paginator.count = summary["count"]  # cached with the year's scores: no COUNT over them per page
        page = paginator.get_page(request.GET.get("page"))
        model = services.model_for(year)
        return render(
            request,
            "harmony/index_list.html",
            {
                "tabs": _tabs("ranking"),
                "year": year,
                "unit": unit,
                "industry": industry,
                "industries": Industry.objects.order_by("code"),
                "page_obj": page,
                "scores": page.object_list,
                "offset": page.start_index() - 1 if page.paginator.count else 0,
                "by_unit": summary["by_unit"],
                "by_industry": summary["by_industry"],
                "model": model,
                "can_run": services.can_configure(request.user),
                "last_run": Run.objects.visible_to(request.user).filter(year=year).first(),
                "live": year == timezone.localdate().year,
            },
        )


class IndexExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year = picked_year(request)
        scores = selectors.ranking(
            request.user,
            year=year,
            unit=picked_unit(request),
            industry=request.GET.get("industry", ""),
            q=request.GET.get("q", ""),
        )
        return exports.xlsx_response(
            f"和谐指数-{year}.xlsx",
            f"{year}年和谐指数",
            exports.RANKING_HEADERS,
            exports.ranking_rows(scores.iterator(5000)),
        )


class ScoreDetailView(ScopedMixin, StaffView):
    model = Score

    def get_base_queryset(self) -> Any:
        return Score.objects.select_related("enterprise__org_unit", "model", "org_unit")

    def render_page(
        self, request: HttpRequest, score: Score, form: SurveyForm, status: int = 200
    ) -> HttpResponse:
        dimensions = list(score.model.dimensions.all())
        survey = Survey.objects.filter(enterprise=score.enterprise, year=score.year).first()
        return render(
            request,
            "harmony/score_detail.html",
            {
                "score": score,
                "rows": scoring.explain(score, dimensions),
                "survey": survey,
                "form": form,
                "can_edit": services.can_edit(request.user),
                "as_of": scoring.as_of(score.year),
                "history": audit_history(score),
                "designation": Designation.objects.filter(
                    enterprise=score.enterprise, year=score.year
                ).first(),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        score = self.get_scoped_object()
        survey = Survey.objects.filter(enterprise=score.enterprise, year=score.year).first()
        form = SurveyForm(initial={"score": survey.score, "note": survey.note} if survey else None)
        return self.render_page(request, score, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        score = self.get_scoped_object()
        if not services.can_edit(request.user):
            raise PermissionDenied("您的角色不能录入调查项目。")
        form = SurveyForm(request.POST)
        if request.POST.get("action") == "recompute":
            form = SurveyForm()
        elif not form.is_valid():
            return self.render_page(request, score, form, status=400)
        try:
            if request.POST.get("action") != "recompute":
                services.survey_save(
                    actor=request.user, enterprise=score.enterprise, year=score.year, **form.cleaned_data
                )
            score = services.score_compute_enterprise(
                actor=request.user, enterprise=score.enterprise, year=score.year
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.render_page(request, score, form, status=400)
        messages.success(request, f"已重新计算：{score.total}。")
        return HttpResponseRedirect(reverse("harmony:score_detail", args=[score.pk]))


class ModelEditView(StaffView):
    def _form_for(self, model: IndexModel | None, data: Any = None) -> ModelForm:
        if data is not None:
            return ModelForm(data)
        initial: dict[str, Any] = {}
        source_model = model or IndexModel.objects.order_by("-year").prefetch_related("dimensions").first()
        if source_model is not None:
            for key in services.MODEL_FIELDS[1:]:
                initial[key] = getattr(source_model, key)
            for d in source_model.dimensions.all():
                initial[f"weight_{d.source}"] = d.weight
                initial[f"label_{d.source}"] = d.label
        else:
            for source, weight in services.DEFAULT_WEIGHTS.items():
                initial[f"weight_{source}"] = weight
        return ModelForm(initial=initial)

    def render_page(
        self, request: HttpRequest, year: int, form: ModelForm, status: int = 200
    ) -> HttpResponse:
        model = services.model_for(year)
        return render(
            request,
            "harmony/model_edit.html",
            {
                "tabs": _tabs("model"),
                "year": year,
                "model": model,
                "form": form,
                "models": IndexModel.objects.prefetch_related("dimensions"),
                "can_configure": services.can_configure(request.user),
                "history": audit_history(model) if model else [],
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        year = picked_year(request) if request.GET.get("year") else timezone.localdate().year
        return self.render_page(request, year, self._form_for(services.model_for(year)))

    def post(self, request: HttpRequest) -> HttpResponse:
        if not services.can_configure(request.user):
            raise PermissionDenied("和谐指数模型全市统一，只有市级管理员可以设置。")
        year = picked_year(request)
        form = self._form_for(None, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            from safetynet.harmony.models import Source

            try:
                services.indexmodel_save(
                    actor=request.user,
                    year=year,
                    name=data["name"],
                    weights={s: data.get(f"weight_{s}") for s in Source.values},
                    labels={s: data.get(f"label_{s}") or "" for s in Source.values},
                    city_level_min=data["city_level_min"],
                    district_level_min=data["district_level_min"],
                    city_valid_years=data["city_valid_years"],
                    district_valid_years=data["district_valid_years"],
                )
            except ServiceError as exc:
                key = f"weight_{exc.field}" if f"weight_{exc.field}" in form.fields else exc.field
                form.add_error(key if key in form.fields else None, exc.message)
            else:
                messages.success(request, f"{year} 年模型已保存。")
                return HttpResponseRedirect(reverse("harmony:model_edit") + f"?year={year}")
        return self.render_page(request, year, form, status=400)


class RunStartView(StaffView):
    def post(self, request: HttpRequest) -> HttpResponse:
        if not services.can_configure(request.user):
            raise PermissionDenied("全市和谐指数只能由市级管理员发起计算。")
        try:
            run = services.run_start(actor=request.user, year=request.POST.get("year", ""))
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("harmony:index_list"))
        return HttpResponseRedirect(reverse("harmony:run_detail", args=[run.pk]))


class RunDetailView(ScopedMixin, StaffView):
    model = Run
    template = "harmony/run_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self.get_scoped_object()
        return render(request, self.template, {"run": run, "tabs": _tabs("ranking")})


class RunStatusView(RunDetailView):
    template = "harmony/_run_progress.html"


class DesignationListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year = picked_year(request)
        unit = picked_unit(request)
        status = request.GET.get("status", "")
        rows = selectors.designations(request.user, year=year, status=status, unit=unit)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "harmony/designation_list.html",
            {
                "tabs": _tabs("designations"),
                "year": year,
                "unit": unit,
                "status": status,
                "statuses": DesignationStatus.choices,
                "page_obj": page,
                "rows": page.object_list,
                "can_propose": services.can_edit(request.user),
                "can_decide": services.can_decide(request.user),
                "model": services.model_for(year),
            },
        )


class DesignationProposeView(StaffView):
    def post(self, request: HttpRequest) -> HttpResponse:
        if not services.can_edit(request.user):
            raise PermissionDenied("您的角色不能提名和谐企业。")
        year = picked_year(request)
        try:
            count = services.designation_propose(actor=request.user, year=year, unit=picked_unit(request))
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已依据 {year} 年和谐指数提名 {count} 家企业，待区总工会审批。")
        return HttpResponseRedirect(reverse("harmony:designation_list") + f"?year={year}")


class DesignationDecideView(ScopedMixin, StaffView):
    model = Designation

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        designation = self.get_scoped_object()
        if not services.can_decide(request.user):
            raise PermissionDenied("和谐企业由区市县总工会的单位管理员审批。")
        form = DecideForm(request.POST)
        if not form.is_valid():
            messages.error(request, "操作不对，请刷新后重试。")
        else:
            try:
                services.designation_decide(
                    actor=request.user,
                    designation=designation,
                    action=form.cleaned_data["action"],
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data["version"],
                )
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    f"{designation.enterprise.name}：已{dict(form.fields['action'].choices)[form.cleaned_data['action']]}。",
                )
        return HttpResponseRedirect(reverse("harmony:designation_list") + f"?year={designation.year}")
