"""劳模工匠和劳动竞赛: imports (Chinese header rows; see IMPORTS.md in this directory).

Kinds: ``honours`` (劳模及五一奖章获得者), ``pioneer_teams`` (工人先锋号), ``studios`` (劳模创新工作室),
``competition_entries`` (竞赛参赛企业). Every row is checked with the services' own rules (award year not in
the future, enterprise in the importer's scope, person registered and named alike), looked up set-based,
and written with bulk_create and one audit row per record.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.importing import Column, Importer, Record, Row, chunked, register_importer
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_build, audit_bulk, audit_snapshot
from safetynet.exemplars import services
from safetynet.exemplars.models import (
    Competition,
    CompetitionEntry,
    Honour,
    HonourKind,
    HonourLevel,
    PioneerTeam,
    Studio,
)
from safetynet.members import crypto
from safetynet.members.models import Person
from safetynet.members.validation import IdNumberError, clean_document_number
from safetynet.orgs.importers import credit_code_cell
from safetynet.orgs.models import Enterprise

KINDS = {str(label): value for value, label in HonourKind.choices} | {
    "劳模": HonourKind.LABOUR_MODEL,
    "五一奖章": HonourKind.MAY_DAY_MEDAL,
}
LEVELS = {str(label): value for value, label in HonourLevel.choices} | {
    "国家级": HonourLevel.NATIONAL,
    "省": HonourLevel.PROVINCIAL,
    "市": HonourLevel.CITY,
}
LEVEL_HINT = "“全国”“省级”“市级”"


def _id_number(row: Row, key: str) -> str | None:
    value = row.raw(key)
    try:
        number = clean_document_number(value)
    except IdNumberError as exc:
        row.error(key, str(exc))
        return None
    if not number:
        row.error(key, f"{row._columns[key].header}不能为空，请填写。")
        return None
    return number


class ExemplarImporter(Importer):
    """Shared lookups: enterprises by credit code (in scope), persons by ID number (name must agree)."""

    capabilities = ("import", "edit_registry")
    enterprise_key = "enterprise"
    person_keys: tuple[tuple[str, str], ...] = ()  # (id number column, name column)

    def lookups(self, records: list[Record]) -> None:
        if self.actor is not None and not services.can_edit(self.actor):
            for record in records:
                self.reject(record, self.enterprise_key, "您的角色不能维护劳模、工作室和竞赛信息。")
            return
        codes = sorted({r.data[self.enterprise_key] for r in records if r.data.get(self.enterprise_key)})
        self.enterprises = {
            e.credit_code: e
            for chunk in chunked(codes)
            for e in Enterprise.objects.filter(credit_code__in=chunk).select_related("org_unit")
        }
        hashes = sorted(
            {crypto.lookup_hash(r.data[k]) for r in records for k, _ in self.person_keys if r.data.get(k)}
        )
        self.persons = {
            p.id_number_hash: p
            for chunk in chunked(hashes)
            for p in Person.objects.filter(id_number_hash__in=chunk)
        }
        for record in self.valid(records):
            code = record.data[self.enterprise_key]
            enterprise = self.enterprises.get(code)
            if enterprise is None:
                self.reject(
                    record,
                    self.enterprise_key,
                    f"统一社会信用代码“{code}”尚未登记为企业，请核对，或先导入该企业。",
                )
                continue
            if not self.in_scope(enterprise.org_unit.path):
                self.reject(record, self.enterprise_key, f"企业“{enterprise.name}”不在您的管辖范围内。")
                continue
            record.data["enterprise_obj"] = enterprise
            for id_key, name_key in self.person_keys:
                person = self.persons.get(crypto.lookup_hash(record.data[id_key]))
                if person is None:
                    self.reject(
                        record, id_key, "该身份证号的职工尚未登记，请先导入职工名册或在会员管理中登记。"
                    )
                elif record.data.get(name_key) and record.data[name_key] != person.name:
                    self.reject(record, name_key, "姓名与该身份证号登记的姓名不一致，请核对。")
                else:
                    record.data[f"{id_key}_obj"] = person

    def audit(self, objects: list[Any], fields: tuple[str, ...]) -> None:
        audit_bulk(
            [
                audit_build(
                    actor=self.actor if self.actor is not None and self.actor.is_authenticated else None,
                    action=AuditAction.IMPORT,
                    instance=obj,
                    changes={
                        k: [None, v] for k, v in audit_snapshot(obj, fields).items() if v not in (None, "")
                    },
                    unit_path=obj.org_unit.path if hasattr(obj, "org_unit") else obj.enterprise.org_unit.path,
                    note=f"导入{self.label}",
                )
                for obj in objects
            ]
        )


class HonourImporter(ExemplarImporter):
    kind = "honours"
    label = "劳模及五一奖章获得者"
    person_keys = (("id_number", "name"),)
    columns = (
        Column("name", "姓名", required=True),
        Column("id_number", "身份证号", required=True, aliases=("身份证号码", "公民身份号码")),
        Column("kind", "荣誉类别", required=True),
        Column("level", "级别", required=True),
        Column("year", "授予年度", required=True, aliases=("年度",)),
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("title", "称号全称"),
        Column("note", "事迹摘要"),
    )

    def clean_row(self, row: Row) -> Record | None:
        data = {
            "name": row.text("name", required=True, max_length=50, as_typed=True),
            "id_number": _id_number(row, "id_number"),
            "kind": row.choice("kind", KINDS, required=True, hint="“劳动模范”“五一劳动奖章”"),
            "level": row.choice("level", LEVELS, required=True, hint=LEVEL_HINT),
            "year": row.integer("year", required=True, default=None),
            "enterprise": credit_code_cell(row, "enterprise"),
            "title": row.text("title", max_length=100),
            "note": row.text("note", as_typed=True),
        }
        return Record(row.number, data)

    def check(self, records: list[Record]) -> None:
        now = timezone.now()
        for record in self.valid(records):
            try:
                services.check_award_year(record.data["year"], now=now)
            except ServiceError as exc:
                self.reject(record, "year", exc.message)
        self.reject_duplicates(
            records,
            lambda r: (r.data["id_number"], r.data["kind"], r.data["level"], r.data["year"]),
            "id_number",
            lambda key: "同一人同一年度同一荣誉",
        )
        self.lookups(self.valid(records))
        valid = self.valid(records)
        ids = sorted({r.data["id_number_obj"].pk for r in valid})
        existing = {
            row
            for chunk in chunked(ids)
            for row in Honour.objects.filter(person_id__in=chunk).values_list(
                "person_id", "kind", "level", "year"
            )
        }
        for record in valid:
            d = record.data
            record.action = (
                "unchanged"
                if (d["id_number_obj"].pk, d["kind"], d["level"], d["year"]) in existing
                else "create"
            )

    def save(self, records: list[Record]) -> None:
        honours = [
            Honour(
                person=r.data["id_number_obj"],
                kind=r.data["kind"],
                level=r.data["level"],
                year=r.data["year"],
                enterprise=r.data["enterprise_obj"],
                org_unit=r.data["enterprise_obj"].org_unit,
                title=r.data["title"] or "",
                note=r.data["note"] or "",
            )
            for r in records
            if r.action == "create"
        ]
        Honour.objects.bulk_create(honours, batch_size=2000)
        self.audit(honours, services.HONOUR_FIELDS)


class TeamImporter(ExemplarImporter):
    kind = "pioneer_teams"
    label = "工人先锋号"
    columns = (
        Column("name", "班组名称", required=True),
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("level", "级别", required=True),
        Column("year", "授予年度", required=True, aliases=("年度",)),
        Column("members_count", "班组人数"),
    )

    def clean_row(self, row: Row) -> Record | None:
        return Record(
            row.number,
            {
                "name": row.text("name", required=True, max_length=100),
                "enterprise": credit_code_cell(row, "enterprise"),
                "level": row.choice("level", LEVELS, required=True, hint=LEVEL_HINT),
                "year": row.integer("year", required=True, default=None),
                "members_count": row.integer("members_count"),
            },
        )

    def check(self, records: list[Record]) -> None:
        now = timezone.now()
        for record in self.valid(records):
            try:
                services.check_award_year(record.data["year"], now=now)
            except ServiceError as exc:
                self.reject(record, "year", exc.message)
        self.lookups(self.valid(records))
        valid = self.valid(records)
        ids = sorted({r.data["enterprise_obj"].pk for r in valid})
        existing = {
            row
            for chunk in chunked(ids)
            for row in PioneerTeam.objects.filter(enterprise_id__in=chunk).values_list(
                "enterprise_id", "name", "level", "year"
            )
        }
        for record in valid:
            d = record.data
            record.action = (
                "unchanged"
                if (d["enterprise_obj"].pk, d["name"], d["level"], d["year"]) in existing
                else "create"
            )

    def save(self, records: list[Record]) -> None:
        teams = [
            PioneerTeam(
                name=r.data["name"],
                enterprise=r.data["enterprise_obj"],
                org_unit=r.data["enterprise_obj"].org_unit,
                level=r.data["level"],
                year=r.data["year"],
                members_count=r.data["members_count"] or 0,
            )
            for r in records
            if r.action == "create"
        ]
        PioneerTeam.objects.bulk_create(teams, batch_size=2000)
        self.audit(teams, services.TEAM_FIELDS)


class StudioImporter(ExemplarImporter):
    kind = "studios"
    label = "劳模创新工作室"
    person_keys = (("leader_id_number", "leader_name"),)
    columns = (
        Column("name", "工作室名称", required=True),
        Column("leader_name", "领办人姓名", required=True),
        Column("leader_id_number", "领办人身份证号", required=True),
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("level", "命名级别", aliases=("级别",)),
        Column("founded_on", "成立日期", required=True),
        Column("members_count", "成员人数"),
        Column("patents", "专利数"),
        Column("savings", "创效（万元）", aliases=("创效(万元)", "创效")),
        Column("results", "主要成果"),
    )

    def clean_row(self, row: Row) -> Record | None:
        return Record(
            row.number,
            {
                "name": row.text("name", required=True, max_length=100),
                "leader_name": row.text("leader_name", required=True, max_length=50, as_typed=True),
                "leader_id_number": _id_number(row, "leader_id_number"),
                "enterprise": credit_code_cell(row, "enterprise"),
                "level": row.choice("level", LEVELS, hint=LEVEL_HINT) or HonourLevel.CITY,
                "founded_on": row.date("founded_on", required=True),
                "members_count": row.integer("members_count"),
                "patents": row.integer("patents"),
                "savings": row.raw("savings"),
                "results": row.text("results", as_typed=True),
            },
        )

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            records, lambda r: (r.data["enterprise"], r.data["name"]), "name", lambda key: f"工作室“{key[1]}”"
        )
        self.lookups(self.valid(records))
        now = timezone.now()
        for record in self.valid(records):
            try:
                services._check_founded(record.data["founded_on"], record.data["enterprise_obj"], now)
                record.data["savings"] = services._amount(record.data["savings"], "创效（万元）", "savings")
            except ServiceError as exc:
                self.reject(record, "savings" if exc.field == "savings" else "founded_on", exc.message)
        valid = self.valid(records)
        ids = sorted({r.data["enterprise_obj"].pk for r in valid})
        existing = {
            row
            for chunk in chunked(ids)
            for row in Studio.objects.filter(enterprise_id__in=chunk).values_list("enterprise_id", "name")
        }
        for record in valid:
            record.action = (
                "unchanged"
                if (record.data["enterprise_obj"].pk, record.data["name"]) in existing
                else "create"
            )

    def save(self, records: list[Record]) -> None:
        studios = [
            Studio(
                name=r.data["name"],
                leader=r.data["leader_id_number_obj"],
                enterprise=r.data["enterprise_obj"],
                org_unit=r.data["enterprise_obj"].org_unit,
                level=r.data["level"],
                founded_on=r.data["founded_on"],
                members_count=r.data["members_count"] or 0,
                patents=r.data["patents"] or 0,
                savings=r.data["savings"],
                results=r.data["results"] or "",
            )
            for r in records
            if r.action == "create"
        ]
        Studio.objects.bulk_create(studios, batch_size=2000)
        self.audit(studios, services.STUDIO_FIELDS)


class EntryImporter(ExemplarImporter):
    kind = "competition_entries"
    label = "竞赛参赛企业"
    columns = (
        Column("competition", "竞赛名称", required=True),
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("workers", "参赛职工人数", aliases=("参赛人数",)),
        Column("result", "成绩"),
        Column("award", "获奖"),
    )

    def clean_row(self, row: Row) -> Record | None:
        return Record(
            row.number,
            {
                "competition": row.text("competition", required=True, max_length=150),
                "enterprise": credit_code_cell(row, "enterprise"),
                "workers": row.integer("workers"),
                "result": row.text("result", max_length=200),
                "award": row.text("award", max_length=200),
            },
        )

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            records,
            lambda r: (r.data["competition"], r.data["enterprise"]),
            "enterprise",
            lambda key: f"竞赛“{key[0]}”的企业“{key[1]}”",
        )
        self.lookups(self.valid(records))
        names = sorted({r.data["competition"] for r in self.valid(records)})
        visible = (
            Competition.objects.all() if self.actor is None else Competition.objects.visible_to(self.actor)
        )
        found: dict[str, list[Competition]] = {}
        for competition in visible.filter(name__in=names):
            found.setdefault(competition.name, []).append(competition)
        for record in self.valid(records):
            matches = found.get(record.data["competition"], [])
            if len(matches) != 1:
                self.reject(
                    record,
                    "competition",
                    f"没有名为“{record.data['competition']}”的竞赛（或不在您的管辖范围内），请先新增竞赛。"
                    if not matches
                    else f"名为“{record.data['competition']}”的竞赛不止一个，请在页面上逐个登记。",
                )
                continue
            record.data["competition_obj"] = matches[0]
            if record.data["enterprise_obj"].founded_on > matches[0].ends_on:
                self.reject(record, "enterprise", "企业成立于竞赛结束之后，不能参赛。")
        valid = self.valid(records)
        existing = {
            (e.competition_id, e.enterprise_id): e
            for e in CompetitionEntry.objects.filter(
                competition_id__in={r.data["competition_obj"].pk for r in valid}
            )
        }
        for record in valid:
            entry = existing.get((record.data["competition_obj"].pk, record.data["enterprise_obj"].pk))
            record.target = entry
            if entry is None:
                record.action = "create"
            elif (entry.workers, entry.result, entry.award) == (
                record.data["workers"] or 0,
                record.data["result"] or "",
                record.data["award"] or "",
            ):
                record.action = "unchanged"
            else:
                record.action = "update"

    def save(self, records: list[Record]) -> None:
        new = [
            CompetitionEntry(
                competition=r.data["competition_obj"],
                enterprise=r.data["enterprise_obj"],
                workers=r.data["workers"] or 0,
                result=r.data["result"] or "",
                award=r.data["award"] or "",
            )
            for r in records
            if r.action == "create"
        ]
        CompetitionEntry.objects.bulk_create(new, batch_size=2000)
        changed = []
        for r in records:
            if r.action == "update":
                r.target.workers, r.target.result, r.target.award = (
                    r.data["workers"] or 0,
                    r.data["result"] or "",
                    r.data["award"] or "",
                )
                changed.append(r.target)
        CompetitionEntry.objects.bulk_update(changed, ["workers", "result", "award"], batch_size=2000)
        self.audit(new + changed, services.ENTRY_FIELDS)


register_importer(HonourImporter.kind, HonourImporter)
register_importer(TeamImporter.kind, TeamImporter)
register_importer(StudioImporter.kind, StudioImporter)
register_importer(EntryImporter.kind, EntryImporter)
