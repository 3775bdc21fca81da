"""和谐劳动关系评价: the import of survey items (``harmony_surveys``; headers in exemplars/IMPORTS.md's
section “和谐指数调查项目”)."""

from __future__ import annotations

import decimal

from django.core.exceptions import ValidationError

from safetynet.core.importing import Column, Importer, Record, Row, register_importer
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_build, audit_bulk, audit_snapshot
from safetynet.harmony import scoring, services
from safetynet.harmony.models import Survey
from safetynet.orgs.models import Enterprise
from safetynet.orgs.validation import normalize_credit_code

CHUNK = 900


class SurveyImporter(Importer):
    kind = "harmony_surveys"
    label = "和谐指数调查项目"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("year", "年度", required=True),
        Column("score", "调查得分", required=True),
        Column("note", "调查说明"),
    )

    def clean_row(self, row: Row) -> Record | None:
        code = row.code("enterprise", required=True)
        if code:
            try:
                code = normalize_credit_code(code)
            except ValidationError as exc:
                row.error("enterprise", exc.messages[0])
                code = None
        raw = str(row.raw("score")).strip()
        try:
            score = decimal.Decimal(raw).quantize(decimal.Decimal("0.01"))
            if not 0 <= score <= 100:
                raise decimal.InvalidOperation
        except decimal.InvalidOperation:
            row.error("score", f"“{raw}”不是 0–100 的数字。")
            score = None
        return Record(
            row.number,
            {
                "enterprise": code,
                "year": row.integer("year", required=True, default=None),
                "score": score,
                "note": row.text("note", as_typed=True),
            },
        )

    def check(self, records: list[Record]) -> None:
        if self.actor is not None and not services.can_edit(self.actor):
            for record in records:
                self.reject(record, "enterprise", "您的角色不能录入调查项目。")
            return
        self.reject_duplicates(
            records,
            lambda r: (r.data["enterprise"], r.data["year"]),
            "enterprise",
            lambda k: f"企业“{k[0]}”{k[1]}年的调查得分",
        )
        valid = self.valid(records)
        codes = sorted({r.data["enterprise"] for r in valid})
        self.enterprises = {
            e.credit_code: e
            for start in range(0, len(codes), CHUNK)
            for e in Enterprise.objects.filter(credit_code__in=codes[start : start + CHUNK]).select_related(
                "org_unit"
            )
        }
        for record in valid:
            enterprise = self.enterprises.get(record.data["enterprise"])
            if enterprise is None:
                self.reject(
                    record, "enterprise", f"统一社会信用代码“{record.data['enterprise']}”尚未登记为企业。"
                )
            elif not self.in_scope(enterprise.org_unit.path):
                self.reject(record, "enterprise", f"企业“{enterprise.name}”不在您的管辖范围内。")
            else:
                problem = scoring.existence_problem(enterprise, record.data["year"])
                if problem:
                    self.reject(record, "year", problem)
        valid = self.valid(valid)
        ids = [self.enterprises[r.data["enterprise"]].pk for r in valid]
        existing = {(s.enterprise_id, s.year): s for s in Survey.objects.filter(enterprise_id__in=ids)}
        for record in valid:
            survey = existing.get((self.enterprises[record.data["enterprise"]].pk, record.data["year"]))
            record.target = survey
            record.action = (
                "create"
                if survey is None
                else ("unchanged" if survey.score == record.data["score"] else "update")
            )

    def save(self, records: list[Record]) -> None:
        actor = self.actor if self.actor is not None and self.actor.is_authenticated else None
        new = [
            Survey(
                enterprise=self.enterprises[r.data["enterprise"]],
                year=r.data["year"],
                score=r.data["score"],
                note=r.data["note"] or "",
                entered_by=actor,
            )
            for r in records
            if r.action == "create"
        ]
        Survey.objects.bulk_create(new, batch_size=2000)
        changed = []
        for r in records:
            if r.action == "update":
                r.target.score, r.target.note, r.target.entered_by = (
                    r.data["score"],
                    r.data["note"] or "",
                    actor,
                )
                changed.append(r.target)
        Survey.objects.bulk_update(changed, ["score", "note", "entered_by"], batch_size=2000)
        audit_bulk(
            [
                audit_build(
                    actor=actor,
                    action=AuditAction.IMPORT,
                    instance=s,
                    changes={k: [None, v] for k, v in audit_snapshot(s, services.SURVEY_FIELDS).items()},
                    unit_path=s.enterprise.org_unit.path,
                    note="导入调查项目",
                )
                for s in new + changed
            ]
        )


register_importer(SurveyImporter.kind, SurveyImporter)
