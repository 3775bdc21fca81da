"""走访记录: import of visits logged on paper or in another system (kind ``visits``; columns in the README).

Each row is checked with the service's own rules (a date not in the future, not before 2000 nor before the
enterprise's founding, the enterprise in the importer's scope, known 六必清 / 八必访 items, a worker's ID number
naming a registered person under that name), looked up set-based and written with bulk_create, one audit row
per visit. A visit already logged (same enterprise, day, cadre and worker) is left unchanged, so a file can be
imported twice. An imported finding is not escalated: a warning or a case is raised from the visit's page,
by an officer who reads it (a past finding may long have been dealt with).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from safetynet.core.importing import Column, Importer, Record, Row, chunked, register_importer
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.core.services import audit_build, audit_bulk, audit_snapshot
from safetynet.members import crypto
from safetynet.members.models import Person
from safetynet.members.validation import IdNumberError, clean_document_number
from safetynet.orgs.importers import credit_code_cell
from safetynet.orgs.models import Enterprise
from safetynet.visits.models import CHECKLIST, Visit
from safetynet.visits.services import EARLIEST_VISIT, VISIT_AUDIT_FIELDS

MAX_FINDINGS = 5000
# A checklist cell names items by label (“职工主要诉求必清”), short label (“职工主要诉求”) or code, separated
# by any of 、，,；; or new lines.
ITEM_SEPARATORS = re.compile(r"[、，,；;\n]+")
ITEMS_BY_NAME = (
    {code: code for code in CHECKLIST}
    | {label: code for code, label in CHECKLIST.items()}
    | {label.removesuffix("必清").removesuffix("必访"): code for code, label in CHECKLIST.items()}
)


class VisitImporter(Importer):
    kind = "visits"
    label = "走访记录"
    capabilities = ("import", "record_visits")
    columns = (
        Column("visited_on", "走访日期", required=True),
        Column("officer_name", "走访人姓名", required=True, aliases=("走访人", "走访干部")),
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("worker_name", "走访职工姓名", aliases=("走访职工", "职工姓名")),
        Column("worker_id_number", "走访职工身份证号", aliases=("职工身份证号", "身份证号")),
        Column("checklist", "六必清/八必访事项", aliases=("走访事项", "六必清八必访事项")),
        Column("findings", "发现的问题", aliases=("走访发现", "问题")),
    )

    def clean_row(self, row: Row) -> Record | None:
        data = {
            "visited_on": row.date("visited_on", required=True),
            "officer_name": row.text("officer_name", required=True, max_length=50, as_typed=True),
            "enterprise": credit_code_cell(row, "enterprise"),
            "worker_name": row.text("worker_name", max_length=50, as_typed=True),
            "worker_id_number": self._id_number(row),
            "checklist": self._checklist(row),
            "findings": self._findings(row),
        }
        if data["worker_id_number"] and data["worker_name"] == "":
            row.error("worker_name", "填写了职工身份证号时，请同时填写走访职工姓名。")
        return Record(row.number, data)

    @staticmethod
    def _id_number(row: Row) -> str | None:
        try:
            return clean_document_number(row.raw("worker_id_number")) or ""
        except IdNumberError as exc:
            row.error("worker_id_number", str(exc))
            return None

    @staticmethod
    def _checklist(row: Row) -> list[str] | None:
        codes: list[str] = []
        for part in ITEM_SEPARATORS.split(clean_free_text(row.raw("checklist"))):
            name = clean_text(part).replace(" ", "")
            if not name:
                continue
            code = ITEMS_BY_NAME.get(name)
            if code is None:
                row.error(
                    "checklist",
                    f"“{name}”不在六必清、八必访清单中；请写清单中的事项名称（如“职工主要诉求必清”“困难职工必访”），"
                    "多项用顿号分隔。",
                )
                return None
            if code not in codes:
                codes.append(code)
        return codes

    @staticmethod
    def _findings(row: Row) -> str | None:
        findings = clean_free_text(row.raw("findings"))
        if len(findings) > MAX_FINDINGS:
            row.error("findings", f"内容有 {len(findings)} 个字，最多 {MAX_FINDINGS} 个字，请缩短。")
            return None
        return findings

    def check(self, records: list[Record]) -> None:
        for record in self.valid(records):
            self._check_day(record, record.data["visited_on"])
        self.reject_duplicates(
            self.valid(records),
            self._key,
            "visited_on",
            lambda key: "同一企业、同一天、同一走访人、同一职工的走访",
        )
        valid = self.valid(records)
        self._lookups(valid)
        valid = self.valid(records)
        enterprise_ids = sorted({r.data["enterprise_obj"].pk for r in valid})
        existing = {
            (enterprise_id, visited_on, officer_name, worker_name)
            for chunk in chunked(enterprise_ids)
            for enterprise_id, visited_on, officer_name, worker_name in Visit.objects.filter(
                enterprise_id__in=chunk
            ).values_list("enterprise_id", "visited_on", "officer_name", "worker_name")
        }
        for record in valid:
            d = record.data
            stored = (d["enterprise_obj"].pk, d["visited_on"], d["officer_name"], d["worker_name"] or "")
            record.action = "unchanged" if stored in existing else "create"

    @staticmethod
    def _key(record: Record) -> tuple[Any, ...] | None:
        d = record.data
        if not (d["enterprise"] and d["visited_on"] and d["officer_name"]):
            return None
        return (d["enterprise"], d["visited_on"], d["officer_name"], d["worker_name"] or "")

    def _check_day(self, record: Record, day: datetime.date | None) -> None:
        if day is None:
            return
        if day > self.today:
            self.reject(record, "visited_on", f"走访日期（{day.isoformat()}）不能晚于今天，请核对。")
        elif day < EARLIEST_VISIT:
            self.reject(record, "visited_on", "走访日期过早，请核对（应在 2000 年以后）。")

    def _lookups(self, records: list[Record]) -> None:
        codes = sorted({r.data["enterprise"] for r in records if r.data.get("enterprise")})
        enterprises = {
            e.credit_code: e
            for chunk in chunked(codes)
            for e in Enterprise.objects.filter(credit_code__in=chunk).select_related("org_unit")
        }
        hashes = sorted(
            {crypto.lookup_hash(r.data["worker_id_number"]) for r in records if r.data["worker_id_number"]}
        )
        persons = {
            p.id_number_hash: p
            for chunk in chunked(hashes)
            for p in Person.objects.filter(id_number_hash__in=chunk)
        }
        for record in records:
            d = record.data
            enterprise = enterprises.get(d["enterprise"])
            if enterprise is None:
                self.reject(
                    record,
                    "enterprise",
                    f"统一社会信用代码“{d['enterprise']}”尚未登记为企业，请核对，或先导入该企业。",
                )
                continue
            # The same answer for an enterprise out of scope as the page gives: the importer names it, since
            # the file named it first.
            if not self.in_scope(enterprise.org_unit.path):
                self.reject(
                    record,
                    "enterprise",
                    f"企业“{enterprise.name}”不在您的管辖范围内，不能导入对它的走访；请由其所在地区的工会导入。",
                )
                continue
            if d["visited_on"] < enterprise.founded_on:
                self.reject(
                    record,
                    "visited_on",
                    f"走访日期（{d['visited_on'].isoformat()}）早于企业“{enterprise.name}”的成立日期"
                    f"（{enterprise.founded_on.isoformat()}），请核对。",
                )
                continue
            d["enterprise_obj"] = enterprise
            d["person"] = None
            if d["worker_id_number"]:
                person = persons.get(crypto.lookup_hash(d["worker_id_number"]))
                if person is None:
                    self.reject(
                        record,
                        "worker_id_number",
                        "该身份证号的职工尚未登记，请核对，或先导入职工名册；也可以只填姓名、不填身份证号。",
                    )
                elif d["worker_name"] and d["worker_name"] != person.name:
                    self.reject(record, "worker_name", "姓名与该身份证号登记的姓名不一致，请核对。")
                else:
                    d["person"] = person

    def save(self, records: list[Record]) -> None:
        visits = [
            Visit(
                officer=None,
                officer_name=r.data["officer_name"],
                visited_on=r.data["visited_on"],
                enterprise=r.data["enterprise_obj"],
                worker_name=r.data["worker_name"] or "",
                person=r.data["person"],
                checklist=r.data["checklist"],
                findings=r.data["findings"],
            )
            for r in records
            if r.action == "create"
        ]
        Visit.objects.bulk_create(visits, batch_size=2000)
        actor = self.actor if self.actor is not None and self.actor.is_authenticated else None
        audit_bulk(
            [
                audit_build(
                    actor=actor,
                    action=AuditAction.IMPORT,
                    instance=visit,
                    changes={
                        k: [None, v]
                        for k, v in audit_snapshot(visit, VISIT_AUDIT_FIELDS).items()
                        if v not in (None, "", [])
                    },
                    unit_path=visit.enterprise.org_unit.path,
                    note=f"导入{self.label}",
                )
                for visit in visits
            ]
        )


register_importer(VisitImporter.kind, VisitImporter)
