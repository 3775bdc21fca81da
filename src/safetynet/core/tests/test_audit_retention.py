"""The audit trail is kept: exported for auditors (XLSX, Chinese headers), purged only past 180 days, and no
page, API or admin action changes or deletes a row."""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import load_workbook

from safetynet.core.auditing import AUDIT_RETENTION_DAYS, EXPORT_COLUMNS, audit_purge
from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def at_local(day: datetime.date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute, second)))


def entry(when: datetime.datetime, **fields: Any) -> AuditEntry:
    """An audit row made at ``when`` (auto_now_add sets the time on insert; the update moves it)."""
    values = {
        "actor_name": "审计测试",
        "action": AuditAction.UPDATE,
        "entity": "orgs.orgunit",
        "object_id": "1",
        "object_repr": "大连市",
        "changes": {"name": ["大连", "大连市"]},
        **fields,
    }
    row = AuditEntry.objects.create(**values)
    AuditEntry.objects.filter(pk=row.pk).update(at=when)
    row.refresh_from_db()
    return row


# --- export ---------------------------------------------------------------------------------------------------


def test_export_writes_the_range_in_chinese_oldest_first(tmp_path: Path) -> None:
    day = datetime.date(2024, 1, 10)
    entry(at_local(day - datetime.timedelta(days=1), 23, 59, 59), object_repr="范围之前")
    first = entry(at_local(day, 0, 0, 0), address="192.0.2.1", action=AuditAction.CREATE, note="新增单位")
    last = entry(at_local(datetime.date(2024, 1, 31), 23, 59, 59), object_repr='=HYPERLINK("x")')
    entry(at_local(datetime.date(2024, 2, 1)), object_repr="范围之后")
    out = tmp_path / "审计.xlsx"

    code, stdout, err = run_command("audit-export", "--from", "2024-01-10", "--to", "2024-01-31", str(out))

    assert code == 0, err
    assert "2 条变更记录" in stdout
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    assert rows[0][:7] == ("时间", "操作人", "地址", "操作", "对象类型", "对象编号", "对象")
    assert len(rows) == 3
    assert rows[1][0] == datetime.datetime(2024, 1, 10, 0, 0, 0)
    assert rows[1][1:5] == ("审计测试", "192.0.2.1", "新增", "区域单位")
    assert rows[1][7] == "名称：大连 → 大连市"
    assert rows[1][8] == "新增单位"
    assert rows[2][0] == datetime.datetime(2024, 1, 31, 23, 59, 59)
    # Text stays text: an object named like a formula is not a formula in the auditor's Excel.
    assert rows[2][6] == last.object_repr
    assert sheet.cell(row=3, column=7).data_type == "s"
    assert first.pk < last.pk


def test_export_of_an_empty_range_has_the_header_only(tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    code, stdout, _ = run_command("audit-export", "--from", "2001-01-01", "--to", "2001-01-02", str(out))
    assert code == 0 and "0 条" in stdout
    assert list(load_workbook(out).active.iter_rows(values_only=True)) == [EXPORT_COLUMNS]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2024-13-01", "--to", "2024-12-31"], "--from “2024-13-01”不是日期"),
        (["--from", "2024-01-01", "--to", "昨天"], "--to “昨天”不是日期"),
        (["--from", "2024-02-01", "--to", "2024-01-01"], "晚于截止日期"),
    ],
)
def test_export_refuses_bad_dates_with_exit_2(tmp_path: Path, arguments: list[str], message: str) -> None:
    out = tmp_path / "x.xlsx"
    code, _, err = run_command("audit-export", *arguments, str(out))
    assert code == 2
    assert message in err
    assert not out.exists()


def test_export_refuses_unusable_output_files_with_exit_2(tmp_path: Path) -> None:
    existing = tmp_path / "old.xlsx"
    existing.write_bytes(b"keep")
    for target, message in [
        (str(existing), "已存在"),
        (str(tmp_path / "out.csv"), "须以 .xlsx 结尾"),
        (str(tmp_path / "missing" / "out.xlsx"), "不存在"),
        ("", "没有给出输出文件名"),
    ]:
        code, _, err = run_command("audit-export", "--from", "2024-01-01", "--to", "2024-01-31", target)
        assert code == 2, target
        assert message in err
    assert existing.read_bytes() == b"keep"
    code, _, _ = run_command(
        "audit-export", "--from", "2024-01-01", "--to", "2024-01-31", str(existing), "--force"
    )
    assert code == 0
    assert load_workbook(existing).active.cell(row=1, column=1).value == "时间"


# --- retention ------------------------------------------------------------------------------------------------


def test_purge_refuses_any_day_later_than_today_minus_180_days() -> None:
    today = timezone.localdate()
    young = entry(at_local(today - datetime.timedelta(days=AUDIT_RETENTION_DAYS - 1)))
    before = AuditEntry.objects.count()
    for days in (AUDIT_RETENTION_DAYS - 1, 10, 0, -30):
        cutoff = today - datetime.timedelta(days=days)
        code, _, err = run_command("audit-purge", "--before", cutoff.isoformat())
        assert code == 2
        assert f"至少保存 {AUDIT_RETENTION_DAYS} 天" in err
        with pytest.raises(ServiceError):
            audit_purge(actor=None, before=cutoff)
    assert AuditEntry.objects.count() == before
    assert AuditEntry.objects.filter(pk=young.pk).exists()


def test_purge_removes_only_rows_past_retention_and_records_itself() -> None:
    today = timezone.localdate()
    limit = today - datetime.timedelta(days=AUDIT_RETENTION_DAYS)
    old = [entry(at_local(limit - datetime.timedelta(days=n), 12)) for n in (1, 30)]
    kept = [entry(at_local(limit, 0)), entry(at_local(today - datetime.timedelta(days=3)))]

    code, stdout, _ = run_command("audit-purge", "--before", limit.isoformat(), "--dry-run")
    assert code == 0 and "将删除" in stdout and " 2 条" in stdout
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in old]).count() == 2

    code, stdout, err = run_command("audit-purge", "--before", limit.isoformat())
    assert code == 0, err
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in kept]).count() == 2
    record = AuditEntry.objects.order_by("-pk").first()
    assert record.action == AuditAction.DELETE and record.entity == "core.auditentry"
    assert record.changes["deleted"] == [None, 2]
    assert "2 条" in record.note


def test_purge_refuses_a_bad_date_with_exit_2() -> None:
    code, _, err = run_command("audit-purge", "--before", "2024-02-30")
    assert code == 2 and "不是日期" in err


# --- nothing edits or deletes a row ---------------------------------------------------------------------------


@pytest.fixture
def superuser() -> Any:
    return get_user_model().objects.create_superuser(username="root_admin", password="Safetynet-test-1")


def test_admin_cannot_add_change_or_delete_audit_rows_even_for_a_superuser(
    client: Any, superuser: Any
) -> None:
    row = entry(timezone.now(), object_repr="不可更改")
    admin = site.get_model_admin(AuditEntry)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, row)
    assert not admin.has_delete_permission(request, row)
    assert "delete_selected" not in admin.get_actions(request)

    client.force_login(superuser)
    before = list(AuditEntry.objects.order_by("pk").values())
    add = reverse("admin:core_auditentry_add")
    change = reverse("admin:core_auditentry_change", args=[row.pk])
    delete = reverse("admin:core_auditentry_delete", args=[row.pk])
    changelist = reverse("admin:core_auditentry_changelist")
    assert (
        client.post(add, {"actor_name": "x", "action": "create", "entity": "x", "object_id": "1"}).status_code
        == 403
    )
    response = client.post(change, {"object_repr": "改过了", "action": "delete", "_save": "保存"})
    assert response.status_code in (302, 403)
    assert client.post(delete, {"post": "yes"}).status_code in (302, 403)
    client.post(changelist, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert list(AuditEntry.objects.order_by("pk").values()) == before


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            found += _patterns(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append((prefix + str(pattern.pattern), pattern.callback))
    return found


def _model_of(view_class: Any) -> Any:
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer = getattr(view_class, "serializer_class", None)
    meta = getattr(serializer, "Meta", None)
    return getattr(meta, "model", None) or getattr(view_class, "model", None)


def test_no_api_or_page_writes_audit_rows(client: Any, superuser: Any) -> None:
    """Every URL outside the admin: a view over audit rows answers reads only."""
    writes = {"post", "put", "patch", "delete"}
    audit_views = []
    for route, callback in _patterns(get_resolver()):
        if route.startswith("admin/"):
            continue
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if view_class is None:
            continue
        actions = getattr(callback, "actions", None)
        methods = set(actions) if actions else {m for m in writes if hasattr(view_class, m)}
        if _model_of(view_class) is AuditEntry or "audit" in route:
            audit_views.append(route)
            assert not (methods & writes), f"{route} accepts {sorted(methods & writes)} on audit rows"

    assert "audit/" in audit_views, "the audit page is among the views checked"

    client.force_login(superuser)
    row = entry(timezone.now())
    before = list(AuditEntry.objects.order_by("pk").values())
    for url in [
        "/api/v1/audit/",
        f"/api/v1/audit/{row.pk}/",
        "/api/v1/audit-entries/",
        f"/api/v1/auditentries/{row.pk}/",
    ]:
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {"note": "改"}, content_type="application/json")
            assert response.status_code in (403, 404, 405), (method, url, response.status_code)
    for route in audit_views:
        if "<" in route or "(?P" in route:
            continue
        url = "/" + route.lstrip("^").rstrip("$")
        assert client.post(url, {"note": "改"}).status_code in (403, 404, 405), url
    assert list(AuditEntry.objects.order_by("pk").values()) == before
