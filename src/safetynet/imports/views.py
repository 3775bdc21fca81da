"""Import pages: the jobs of my unit, a new upload, a job's progress and result, its error file, templates."""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote, urlencode

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from safetynet.core.errors import ServiceError
from safetynet.core.importing import autodiscover, known_kinds
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.imports.forms import ImportJobForm
from safetynet.imports.guide import build_template, template_filename
from safetynet.imports.models import ImportJob
from safetynet.imports.services import MAX_UPLOAD_MB, import_job_create, importable_kinds

PAGE_SIZE = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(filename: str) -> str:
    # Chinese file names: RFC 5987 for browsers, an ASCII fallback for the rest.
    return f"attachment; filename=\"{quote(filename.encode('ascii', 'ignore').decode() or 'file.xlsx')}\"; filename*=UTF-8''{quote(filename)}"


class JobListView(StaffView, ScopedMixin):
    model = ImportJob

    def get(self, request: HttpRequest) -> HttpResponse:
        jobs = self.scoped_queryset().select_related("actor", "org_unit")
        page_obj = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "imports/job_list.html",
            {"page_obj": page_obj, "jobs": page_obj.object_list, "can_import": request.user.can("import")},
        )


class JobCreateView(StaffView):
    capability = "import"

    def get(self, request: HttpRequest) -> HttpResponse:
        kinds = importable_kinds(request.user)
        initial = {
            "kind": request.GET.get("kind", ""),
            "dry_run": request.GET.get("dry_run") == "1",
            "keep_valid": request.GET.get("keep_valid") == "1",
        }
        return self._render(request, ImportJobForm(initial=initial, kinds=kinds), kinds)

    def post(self, request: HttpRequest) -> HttpResponse:
        kinds = importable_kinds(request.user)
        form = ImportJobForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            try:
                job = import_job_create(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    upload=form.cleaned_data["upload"],
                    dry_run=form.cleaned_data["dry_run"],
                    keep_valid=form.cleaned_data["keep_valid"],
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("imports:job_detail", pk=job.pk)
        return self._render(request, form, kinds)

    def _render(
        self, request: HttpRequest, form: ImportJobForm, kinds: dict[str, str], status: int = 200
    ) -> HttpResponse:
        templates = [(kind, label, reverse("imports:template", args=[kind])) for kind, label in kinds.items()]
        return render(
            request,
            "imports/job_create.html",
            {"form": form, "templates": templates, "max_mb": MAX_UPLOAD_MB},
            status=status,
        )


class JobDetailView(StaffView, ScopedMixin):
    model = ImportJob

    def get_base_queryset(self):  # type: ignore[override]
        return ImportJob.objects.select_related("actor", "org_unit")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_scoped_object()
        context = {"job": job, "retry_url": _retry_url(job), "can_import": request.user.can("import")}
        return render(request, "imports/job_detail.html", context)


class JobStatusView(JobDetailView):
    """The part of the job page that htmx polls every second while the job is queued or running."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_scoped_object()
        context = {"job": job, "retry_url": _retry_url(job), "can_import": request.user.can("import")}
        return render(request, "imports/_job_status.html", context)


class JobErrorsView(StaffView, ScopedMixin):
    model = ImportJob

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_scoped_object()
        if not job.error_file:
            raise Http404("该导入没有错误行文件。")
        try:
            handle = job.error_file.open("rb")
        except FileNotFoundError:
            raise Http404("错误行文件已不存在。") from None
        stem = PurePath(job.original_name).stem or "导入"
        response = FileResponse(handle, content_type=XLSX)
        response["Content-Disposition"] = _attachment(f"{stem}-错误行.xlsx")
        return response


class TemplateDownloadView(StaffView):
    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        autodiscover()
        if kind not in known_kinds():
            raise Http404("没有这种导入类型。")
        response = HttpResponse(build_template(kind), content_type=XLSX)
        response["Content-Disposition"] = _attachment(template_filename(kind))
        return response


def _retry_url(job: ImportJob) -> str:
    """A new upload of the same kind with the same options (after fixing the rows)."""
    query = {"kind": job.kind}
    if job.dry_run:
        query["dry_run"] = "1"
    if job.keep_valid:
        query["keep_valid"] = "1"
    return f"{reverse('imports:job_create')}?{urlencode(query)}"
