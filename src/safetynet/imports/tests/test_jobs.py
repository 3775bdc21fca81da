"""Import jobs over the web: upload → background run → counts, errors, error file; scope and roles."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from safetynet.core.importing import (
    ERROR_REASON_HEADER,
    ERROR_ROW_HEADER,
    autodiscover,
    get_importer,
    known_kinds,
)
from safetynet.imports import services
from safetynet.imports.models import ImportJob, ImportJobStatus
from safetynet.imports.services import ProgressWriter, import_job_create
from safetynet.orgs.models import Enterprise
from safetynet.orgs.tests.factories import make_credit_code

HEADER = "统一社会信用代码,企业名称,所属区划代码,经济类型,职工人数,成立日期"


def enterprises_csv(*rows: str) -> bytes:
    return ("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def good_rows(count: int, start: int = 1) -> list[str]:
    return [
        f"{make_credit_code(1000 + n)},导入企业{n}有限公司,210202001,私营,{30 + n},2010-01-0{1 + n % 9}"
        for n in range(start, start + count)
    ]


def upload(client, content: bytes, *, kind: str = "enterprises", name: str = "企业.csv", **options):
    data = {"kind": kind, "upload": SimpleUploadedFile(name, content, content_type="text/csv")}
    data.update({key: "on" for key, value in options.items() if value})
    return client.post(reverse("imports:job_create"), data)


def test_upload_runs_the_job_and_shows_counts(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, enterprises_csv(*good_rows(3)))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("imports:job_detail", args=[job.pk])
    assert job.status == ImportJobStatus.DONE
    assert (job.rows, job.created, job.updated, job.rejected) == (3, 3, 0, 0)
    assert job.saved and job.percent == 100 and job.task_id
    assert job.org_unit == officer.org_unit and job.actor == officer
    assert job.original_name == "企业.csv"
    assert Enterprise.objects.filter(name__startswith="导入企业").count() == 3
    page = client.get(response.url).content.decode()
    assert "新增 3" in page and "hx-trigger" not in page
    # The list of my unit shows it.
    listing = client.get(reverse("imports:job_list")).content.decode()
    assert f"#{job.pk}" in listing and "已导入" in listing


def test_bad_rows_give_an_error_file_with_reasons(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    rows = good_rows(3)
    rows.insert(1, f"{make_credit_code(2001)},坏企业一,210202001,国营,50,2010-01-01")
    rows.append(f"{make_credit_code(2002)},坏企业二,210202001,私营,50,2012-13-40")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, enterprises_csv(*rows))
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.DONE
    assert job.rejected == 2 and not job.saved
    assert [e["row"] for e in job.errors] == [3, 6]
    assert job.errors[0]["column"] == "经济类型"
    assert "数据库未作任何修改" in job.summary and "保留有效行" in job.summary
    assert Enterprise.objects.filter(name__startswith="导入企业").count() == 0

    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert "国营" in page and reverse("imports:job_errors", args=[job.pk]) in page
    assert "kind=enterprises" in page  # 重新上传 keeps the kind

    response = client.get(reverse("imports:job_errors", args=[job.pk]))
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    values = list(sheet.values)
    assert values[0][-2:] == (ERROR_ROW_HEADER, ERROR_REASON_HEADER)
    assert [row[1] for row in values[1:]] == ["坏企业一", "坏企业二"]
    assert [row[-2] for row in values[1:]] == [3, 6]
    assert "经济类型" in values[1][-1] and "成立日期" in values[2][-1]


def test_keep_valid_imports_the_good_rows(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    rows = [*good_rows(2), f"{make_credit_code(2003)},坏企业,210202001,国营,50,2010-01-01"]
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, enterprises_csv(*rows), keep_valid=True)
    job = ImportJob.objects.get()
    assert job.keep_valid and job.saved
    assert (job.created, job.rejected) == (2, 1)
    assert Enterprise.objects.filter(name__startswith="导入企业").count() == 2
    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert "keep_valid=1" in page


def test_dry_run_writes_nothing(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, enterprises_csv(*good_rows(2)), dry_run=True)
    job = ImportJob.objects.get()
    assert job.dry_run and not job.saved and job.created == 2
    assert "试运行" in job.summary
    assert not Enterprise.objects.filter(name__startswith="导入企业").exists()


def test_an_unusable_file_fails_with_its_reason(client, officer, django_capture_on_commit_callbacks):
    client.force_login(officer)
    content = "\ufeff企业名称,职工人数\n甲,1\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, content)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED
    assert "缺少必需的列" in job.failure and "统一社会信用代码" in job.failure
    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert "缺少必需的列" in page and "未能导入" in page


def test_out_of_scope_rows_are_rejected_by_the_uploaders_scope(
    client, officer, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    row = f"{make_credit_code(3001, '210203')},西岗企业,210203001,私营,50,2010-01-01"
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, enterprises_csv(row))
    job = ImportJob.objects.get()
    assert job.rejected == 1 and "管辖范围" in job.errors[0]["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("空.csv", b"", "空的"),
        ("旧表.xls", b"\xd0\xcf\x11\xe0rest", "97-2003"),
        ("说明.pdf", b"%PDF-1.4", "只能上传扩展名为 .csv 或 .xlsx"),
        ("假的.xlsx", b"a,b\n1,2\n", "内容不是 Excel 表格"),
    ],
)
def test_bad_uploads_are_refused_in_chinese(client, officer, name, content, message):
    client.force_login(officer)
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_the_size_limit_is_refused(client, officer, settings, tmp_path):
    settings.IMPORT_MAX_MB = 1
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    client.force_login(officer)
    big = enterprises_csv(*good_rows(1)) + b"#" * (3 * 1024 * 1024)
    response = upload(client, big, name="大文件.csv")
    page = response.content.decode()
    assert response.status_code == 413
    assert "文件“大文件.csv”有 3.0 MB，超过了导入文件 1 MB 的上限" in page
    assert "最大 1 MB" in page  # the form's help names the same limit
    assert not ImportJob.objects.exists()
    # The upload stopped at the limit: nothing of it was kept on disk.
    assert not list(tmp_path.iterdir())


def test_the_upload_still_needs_its_csrf_token(officer):
    # The view adds its size limit before Django reads the form, so it checks CSRF itself: it must.
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(officer)
    response = upload(browser, enterprises_csv(*good_rows(1)))
    assert response.status_code == 403 and not ImportJob.objects.exists()
    page = browser.get(reverse("imports:job_create")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"kind": "enterprises", "csrfmiddlewaretoken": token}
    data["upload"] = SimpleUploadedFile("企业.csv", enterprises_csv(*good_rows(1)), content_type="text/csv")
    assert browser.post(reverse("imports:job_create"), data).status_code == 302


def test_missing_kind_and_file(client, officer):
    client.force_login(officer)
    response = client.post(reverse("imports:job_create"), {})
    page = response.content.decode()
    assert "请选择导入类型" in page and "请选择要上传的文件" in page


def test_viewer_cannot_create(client, city, make_staff):
    viewer = make_staff("viewer", city.zhongshan, "viewer")
    client.force_login(viewer)
    assert client.get(reverse("imports:job_create")).status_code == 403
    assert upload(client, enterprises_csv(*good_rows(1))).status_code == 403
    listing = client.get(reverse("imports:job_list"))
    assert listing.status_code == 200 and "新建导入" not in listing.content.decode()


def test_the_service_refuses_kinds_the_role_may_not_import(officer):
    # An operator may import registry files but not the org units themselves (edit_units).
    with pytest.raises(services.NotAllowed):
        import_job_create(
            actor=officer,
            kind="units",
            upload=SimpleUploadedFile("u.csv", b"x"),
            dry_run=False,
            keep_valid=False,
        )
    assert "units" not in services.importable_kinds(officer)
    assert "enterprises" in services.importable_kinds(officer)


def test_kind_choices_and_retry_prefill(client, officer):
    client.force_login(officer)
    page = client.get(reverse("imports:job_create") + "?kind=members&keep_valid=1").content.decode()
    assert '<option value="members" selected>' in page
    assert re.search(r'<input[^>]*name="keep_valid"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="dry_run"[^>]*checked', page)
    assert 'value="units"' not in page


def test_scope_sibling_cannot_see_job_or_error_file(
    client, officer, xigang_officer, city, make_staff, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, enterprises_csv(f"{make_credit_code(2004)},坏企业,210202001,国营,50,2010-01-01"))
    job = ImportJob.objects.get()
    assert job.error_file

    client.force_login(xigang_officer)
    for name in ("imports:job_detail", "imports:job_status", "imports:job_errors"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert f"#{job.pk}" not in client.get(reverse("imports:job_list")).content.decode()

    # The city sees the jobs of every unit below it.
    city_admin = make_staff("city_admin", city.city, "city_admin")
    client.force_login(city_admin)
    assert client.get(reverse("imports:job_errors", args=[job.pk])).status_code == 200
    assert f"#{job.pk}" in client.get(reverse("imports:job_list")).content.decode()


def test_progress_partial_polls_while_running_and_stops_when_done(client, officer):
    client.force_login(officer)
    job = import_job_create(
        actor=officer, kind="enterprises", upload=SimpleUploadedFile("e.csv", enterprises_csv(*good_rows(1)))
    )
    # on_commit never ran (test transaction): the job is still queued.
    status_url = reverse("imports:job_status", args=[job.pk])
    page = client.get(status_url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "等待后台任务" in page

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.RUNNING, stage="读取", rows_done=5000, rows_total=20000, percent=17
    )
    page = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert 'value="17"' in page and "5,000" in page and "20,000" in page
    detail = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert 'hx-get="' + status_url in detail

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.QUEUED)
    services.import_job_run(job_id=job.pk)
    page = client.get(status_url).content.decode()
    assert "hx-trigger" not in page and "新增 1" in page


def test_progress_writer_throttles_and_keeps_moving_forward(officer):
    job = import_job_create(
        actor=officer, kind="enterprises", upload=SimpleUploadedFile("e.csv", enterprises_csv(*good_rows(1)))
    )
    job.rows_total = 100_000
    writer = ProgressWriter(job)
    writer("读取", 5000, None)
    job.refresh_from_db()
    assert (job.stage, job.rows_done, job.rows_total) == ("读取", 5000, 100_000)
    assert job.percent == 3
    writer("读取", 10000, None)  # within a second of the last write: skipped
    job.refresh_from_db()
    assert job.rows_done == 5000
    writer("读取", 100_000, 100_000)  # a stage's end is always written
    job.refresh_from_db()
    assert job.percent == 70
    writer("保存", 50, 100)
    job.refresh_from_db()
    assert job.stage == "保存" and job.percent == 92


def test_the_job_runs_only_once(officer):
    job = import_job_create(
        actor=officer, kind="enterprises", upload=SimpleUploadedFile("e.csv", enterprises_csv(*good_rows(1)))
    )
    assert services.import_job_run(job_id=job.pk) is not None
    assert services.import_job_run(job_id=job.pk) is None


def test_row_estimate(tmp_path):
    path = tmp_path / "e.csv"
    path.write_bytes(enterprises_csv(*good_rows(5)))
    assert services.estimate_rows(path) == 5
    workbook = openpyxl.Workbook()
    for n in range(8):
        workbook.active.append([n, "x"])
    workbook.save(tmp_path / "e.xlsx")
    assert services.estimate_rows(tmp_path / "e.xlsx") == 7


def test_every_kind_is_offered():
    autodiscover()
    assert {"units", "enterprises", "unions", "members", "contracts", "congresses"} <= set(known_kinds())
    assert all(get_importer(kind).columns for kind in known_kinds())
