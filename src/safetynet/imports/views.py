"""Import pages: the jobs of my unit, a new upload, a job's progress and result, its error file, templates."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from safetynet.core.errors import ServiceError
from safetynet.core.importing import autodiscover, known_kinds, max_file_bytes, size_problem
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.imports.forms import ImportJobForm
from safetynet.imports.guide import build_template, template_filename
from safetynet.imports.models import ImportJob
from safetynet.imports.services import (
    import_job_create,
    import_job_refresh,
    import_job_retry,
    importable_kinds,
    max_upload_mb,
)

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


class UploadLimit(FileUploadHandler):
    """Stops keeping an upload once it passes the size limit: the rest of the request is read and dropped
    (so the browser still gets the page with the reason), never held in memory or written to disk."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = max_file_bytes()
        self.request_length = 0
        self.received = 0
        self.refused_name = ""

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        self.request_length = content_length or 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused_name = self.file_name or ""
            raise StopUpload(connection_reset=False)
        return raw_data  # on to the usual handlers

    def file_complete(self, file_size: int) -> None:
        return None

    def problem(self) -> str | None:
        if not self.refused_name:
            return None
        # The request's length is the file's plus a few hundred bytes of form fields.
        return size_problem(self.refused_name, max(self.request_length, self.received))


# The size limit must be in place before anything reads the form, and the CSRF check reads it: so the
# check is made here, after the handler is added (Django's documented way for custom upload handlers).
@method_decorator(csrf_exempt, name="dispatch")
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
        limit = UploadLimit(request)
        request.upload_handlers.insert(0, limit)
        return csrf_protect(lambda request: self._create(request, limit))(request)

    def _create(self, request: HttpRequest, limit: UploadLimit) -> HttpResponse:
        kinds = importable_kinds(request.user)
        form = ImportJobForm(request.POST, request.FILES, kinds=kinds)
        too_big = limit.problem()
        if too_big:
            form.is_valid()
            form.errors.pop("upload", None)
            form.add_error("upload", too_big)
            return self._render(request, form, kinds, status=413)
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
            {"form": form, "templates": templates, "max_mb": max_upload_mb()},
            status=status,
        )


class JobDetailView(StaffView, ScopedMixin):
    model = ImportJob

    def get_base_queryset(self):  # type: ignore[override]
        return ImportJob.objects.select_related("actor", "org_unit")

    template_name = "imports/job_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        # A job whose worker died is marked interrupted here too, not only by the next sweep.
        job = import_job_refresh(job=self.get_scoped_object())
        context = {"job": job, "retry_url": _retry_url(job), "can_import": request.user.can("import")}
        return render(request, self.template_name, context)


class JobStatusView(JobDetailView):
    """The part of the job page that htmx polls every second while the job is queued or running."""

    template_name = "imports/_job_status.html"


class JobRetryView(StaffView, ScopedMixin):
    """Run the stored file of a finished (typically interrupted) job again, as a new job."""

    model = ImportJob
    capability = "import"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self.get_scoped_object()
        try:
            new_job = import_job_retry(actor=request.user, job=job)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("imports:job_detail", pk=job.pk)
        messages.success(request, f"已重新提交导入 #{job.pk} 的文件“{job.original_name}”。")
        return redirect("imports:job_detail", pk=new_job.pk)


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
