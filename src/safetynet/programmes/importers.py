"""Importing collective contracts and workers' congress / openness systems (INTERFACES.md `contracts`,
`congresses`), through the core import framework.

Contracts are matched by (合同类型, the sorted covered enterprises, 生效日期) and systems by (enterprise,
制度, 建立日期), so importing the same file twice changes nothing. An imported contract is a signed and
filed one (status 已备案): whether it is in force on a day follows from its dates. It is handled at its
enterprise's org unit, or for several enterprises (a regional contract) at their lowest common unit.
An optional column the file lacks leaves stored values alone; a column that is there but empty means
"no value".
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator
from typing import Any

from safetynet.core.importing import Column, Importer, Record, Row, register_importer
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_text
from safetynet.core.services import audit_build, audit_bulk, audit_diff, audit_snapshot
from safetynet.orgs.importers import credit_code_list
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.programmes import workflow
from safetynet.programmes.models import (
    CollectiveContract,
    ContractAction,
    ContractCoverage,
    ContractKind,
    ContractStatus,
    ContractStep,
    EnterpriseSystem,
    ProgrammeScope,
    SystemCoverage,
    SystemKind,
)
from safetynet.programmes.services import (
    CONTRACT_AUDIT_FIELDS,
    SYSTEM_AUDIT_FIELDS,
    common_unit_id,
    coverage_digest,
)

BATCH = 2000
# Lookups with IN (...) stay under SQLite's 999 parameters.
LOOKUP_CHUNK = 900

CONTRACT_KINDS = {label: value for value, label in ContractKind.choices} | {
    "综合集体合同": ContractKind.COMPREHENSIVE,
    "综合性": ContractKind.COMPREHENSIVE,
    "工资专项集体合同": ContractKind.WAGE,
    "工资集体协议": ContractKind.WAGE,
    "工资专项协议": ContractKind.WAGE,
    "女职工专项集体合同": ContractKind.WOMEN,
    "女职工权益保护专项集体合同": ContractKind.WOMEN,
    "劳动安全卫生专项集体合同": ContractKind.SAFETY,
}
CONTRACT_KIND_HINT = "、".join(f"“{label}”" for label in ContractKind.labels)

SYSTEMS = {label: value for value, label in SystemKind.choices} | {
    "职工代表大会": SystemKind.CONGRESS,
    "职工大会": SystemKind.CONGRESS,
    "职代会制度": SystemKind.CONGRESS,
    "厂务公开制度": SystemKind.OPENNESS,
    "政务公开": SystemKind.OPENNESS,
    "院务公开": SystemKind.OPENNESS,
    "校务公开": SystemKind.OPENNESS,
}
SYSTEM_HINT = "“职代会”、“厂务公开”"

_WAGE_RISE_LIMIT = decimal.Decimal("1000")


def _chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _credit_codes(row: Row, key: str, header: str) -> list[str] | None:
    """One or several credit codes (see orgs.importers.credit_code_list): every wrong one is reported."""
    return credit_code_list(
        row, key, f"{header}不能为空：请填写企业的统一社会信用代码，多个用“;”或“、”分隔。"
    )


def _percent(row: Row, key: str) -> decimal.Decimal | None:
    """A percentage such as 8、8.5、8.5%; None when empty or wrong (wrong values record an error)."""
    raw = row.raw(key)
    text = clean_text(raw).replace(" ", "").removesuffix("%")
    if not text:
        return None
    try:
        value = decimal.Decimal(str(raw) if isinstance(raw, int | float) else text)
    except decimal.InvalidOperation:
        row.error(key, f"“{clean_text(raw)}”不是数字，工资增幅应填百分数，如 8.5（表示 8.5%）。")
        return None
    if not value.is_finite() or not -100 < value < _WAGE_RISE_LIMIT:
        row.error(key, f"“{clean_text(raw)}”不合理，工资增幅应在 -100 至 1000 之间（单位：%）。")
        return None
    return value.quantize(decimal.Decimal("0.01"))


class _EnterpriseLookup:
    """The enterprises a file names, loaded in a few queries, with the units they sit in."""

    def __init__(self, codes: set[str]) -> None:
        self.by_code: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(codes)):
            for values in Enterprise.objects.filter(credit_code__in=chunk).values(
                "pk", "credit_code", "name", "org_unit_id", "org_unit__path"
            ):
                self.by_code[values["credit_code"]] = values


# --- contracts ----------------------------------------------------------------------------------

_CONTRACT_VALUES = (
    "pk",
    "kind",
    "coverage_digest",
    "effective_on",
    "expires_on",
    "signed_on",
    "filed_on",
    "covered_employees",
    "wage_rise_percent",
    "org_unit_id",
    "org_unit__path",
    "status",
)
# The fields a re-import may correct on a matched contract.
_CONTRACT_UPDATABLE = ("signed_on", "filed_on", "expires_on", "covered_employees", "wage_rise_percent")


class ContractImporter(Importer):
    kind = "contracts"
    label = "集体合同"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("kind", "合同类型", required=True),
        Column("enterprises", "覆盖企业", required=True, aliases=("覆盖企业统一社会信用代码",)),
        Column("signed_on", "签订日期", required=True),
        Column("filed_on", "备案日期"),
        Column("effective_on", "生效日期", required=True),
        Column("expires_on", "到期日期", required=True, aliases=("终止日期",)),
        Column("covered_employees", "覆盖职工人数"),
        Column("wage_rise_percent", "工资增幅", aliases=("工资增幅(%)", "工资增长幅度")),
    )

    def clean_row(self, row: Row) -> Record | None:
        data: dict[str, Any] = {
            "kind": row.choice("kind", CONTRACT_KINDS, required=True, hint=CONTRACT_KIND_HINT),
            "enterprises": _credit_codes(row, "enterprises", self.header("enterprises")),
            "signed_on": row.date("signed_on", required=True),
            "effective_on": row.date("effective_on", required=True),
            "expires_on": row.date("expires_on", required=True),
        }
        if row.has("filed_on"):
            data["filed_on"] = row.date("filed_on")
        if row.has("covered_employees"):
            data["covered_employees"] = row.integer("covered_employees", default=None)
        if row.has("wage_rise_percent"):
            data["wage_rise_percent"] = _percent(row, "wage_rise_percent")
        effective, expires = data["effective_on"], data["expires_on"]
        if effective and expires and expires < effective:
            row.error(
                "expires_on",
                f"到期日期（{expires}）早于生效日期（{effective}），到期日期应不早于生效日期，请核对。",
            )
        signed, filed = data["signed_on"], data.get("filed_on")
        if signed and filed and filed < signed:
            row.error(
                "filed_on", f"备案日期（{filed}）早于签订日期（{signed}），合同须先签订再备案，请核对。"
            )
        return Record(row.number, data)

    def _key(self, record: Record) -> tuple[str, tuple[str, ...], datetime.date] | None:
        if self.failed(record, "kind", "enterprises", "effective_on"):
            return None
        return (record.data["kind"], tuple(sorted(record.data["enterprises"])), record.data["effective_on"])

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            records,
            self._key,
            "enterprises",
            lambda key: f"{ContractKind(key[0]).label}合同（覆盖 {'、'.join(key[1])}，生效日期 {key[2]}）",
        )
        # Rows with mistakes are looked up too, so that all their mistakes are reported at once.
        self.lookup = _EnterpriseLookup({c for r in records for c in r.data["enterprises"] or ()})
        for record in records:
            self._resolve(record)
        valid = self.valid(records)
        digests = sorted({r.data["coverage_digest"] for r in valid})
        stored: dict[tuple[str, str, datetime.date], dict[str, Any]] = {}
        for chunk in _chunks(digests):
            for values in CollectiveContract.objects.filter(coverage_digest__in=chunk).values(
                *_CONTRACT_VALUES
            ):
                stored[(values["kind"], values["coverage_digest"], values["effective_on"])] = values
        unit_ids = {r.data["org_unit_id"] for r in valid} | {v["org_unit_id"] for v in stored.values()}
        self.units = {
            u.pk: u for chunk in _chunks(sorted(unit_ids)) for u in OrgUnit.objects.filter(pk__in=chunk)
        }
        for record in valid:
            data = record.data
            existing = stored.get((data["kind"], data["coverage_digest"], data["effective_on"]))
            if existing is None:
                record.action = "create"
                continue
            if not self.in_scope(existing["org_unit__path"]):
                self.reject(
                    record,
                    "enterprises",
                    f"该合同由“{self.units[existing['org_unit_id']].name}”办理，不在您的管辖范围内。",
                )
                continue
            record.target = existing
            record.changes = {
                k: [existing[k], data[k]] for k in _CONTRACT_UPDATABLE if k in data and existing[k] != data[k]
            }
            record.action = "update" if record.changes else "unchanged"

    def _resolve(self, record: Record) -> None:
        """Enterprises to ids, the handling unit, the match digest; rejects unknown or foreign enterprises.
        A row with other mistakes has its enterprises checked too, but is not resolved further."""
        codes = record.data["enterprises"] or []
        unknown = [c for c in codes if c not in self.lookup.by_code]
        if unknown:
            self.reject(
                record,
                "enterprises",
                f"统一社会信用代码“{'、'.join(unknown)}”尚未登记为企业，请核对，或先导入这些企业。",
            )
        found = [self.lookup.by_code[c] for c in codes if c in self.lookup.by_code]
        outside = [e["credit_code"] for e in found if not self.in_scope(e["org_unit__path"])]
        if outside:
            self.reject(record, "enterprises", f"企业“{'、'.join(outside)}”不在您的管辖范围内。")
        if not self.alive(record):
            return
        unit_id = common_unit_id([e["org_unit__path"] for e in found])
        if unit_id is None:
            self.reject(record, "enterprises", "覆盖企业不属于同一个市，不能作为一份区域性合同导入。")
            return
        record.data["enterprise_ids"] = [e["pk"] for e in found]
        record.data["coverage_digest"] = coverage_digest(e["pk"] for e in found)
        record.data["org_unit_id"] = unit_id

    def save(self, records: list[Record]) -> None:
        for batch in _chunks([r for r in records if r.action == "create"], BATCH):
            self._save_new(batch)
        updates = [r for r in records if r.action == "update"]
        for batch in _chunks(updates, BATCH):
            self._save_updates(batch)

    def _new_contract(self, data: dict[str, Any]) -> CollectiveContract:
        filed_on = data.get("filed_on")
        due = workflow.filing_due(data["signed_on"])
        ids = data["enterprise_ids"]
        return CollectiveContract(
            kind=data["kind"],
            scope=ProgrammeScope.ENTERPRISE if len(ids) == 1 else ProgrammeScope.REGIONAL,
            org_unit=self.units[data["org_unit_id"]],
            coverage_digest=data["coverage_digest"],
            covered_employees=data.get("covered_employees"),
            status=ContractStatus.FILED,
            signed_on=data["signed_on"],
            filing_due_on=due,
            filed_on=filed_on,
            filed_late=bool(filed_on and filed_on > due),
            deemed_effective_on=workflow.deemed_effective(filed_on) if filed_on else None,
            effective_on=data["effective_on"],
            expires_on=data["expires_on"],
            wage_rise_percent=data.get("wage_rise_percent"),
            imported=True,
        )

    def _save_new(self, batch: list[Record]) -> None:
        contracts = [self._new_contract(r.data) for r in batch]
        CollectiveContract.objects.bulk_create(contracts)
        ContractCoverage.objects.bulk_create(
            (
                ContractCoverage(
                    contract=contract,
                    enterprise_id=pk,
                    covered_employees=contract.covered_employees
                    if len(r.data["enterprise_ids"]) == 1
                    else None,
                )
                for contract, r in zip(contracts, batch, strict=True)
                for pk in r.data["enterprise_ids"]
            ),
            batch_size=BATCH,
        )
        actor = self.actor if getattr(self.actor, "is_authenticated", False) else None
        ContractStep.objects.bulk_create(
            (
                ContractStep(
                    contract=c,
                    action=ContractAction.IMPORT,
                    from_status="",
                    to_status=c.status,
                    on=c.filed_on or c.signed_on,
                    actor=actor,
                    actor_name=actor.get_username() if actor else "系统",
                    actor_unit_id=getattr(actor, "org_unit_id", None),
                    comment="由文件导入（已签订、已备案）",
                )
                for c in contracts
            ),
            batch_size=BATCH,
        )
        names = {v["pk"]: v["name"] for v in self.lookup.by_code.values()}
        audit_bulk(
            [
                audit_build(
                    actor=self.actor,
                    action=AuditAction.IMPORT,
                    instance=c,
                    changes={
                        k: [None, v]
                        for k, v in audit_snapshot(c, CONTRACT_AUDIT_FIELDS).items()
                        if v not in (None, "", [])
                    },
                    unit_path=c.org_unit.path,
                    note="覆盖企业：" + "、".join(names[pk] for pk in r.data["enterprise_ids"]),
                )
                for c, r in zip(contracts, batch, strict=True)
            ]
        )

    def _save_updates(self, batch: list[Record]) -> None:
        contracts, audits, fields = [], [], set()
        for record in batch:
            stored = record.target
            before = CollectiveContract(
                **{k: v for k, v in stored.items() if k not in ("org_unit__path",)},
            )
            before.org_unit = self.units[stored["org_unit_id"]]
            after = CollectiveContract(**{k: v for k, v in stored.items() if k not in ("org_unit__path",)})
            after.org_unit = before.org_unit
            for key, (_old, new) in record.changes.items():
                setattr(after, key, new)
                fields.add(key)
            if "signed_on" in record.changes or "filed_on" in record.changes:
                after.filing_due_on = workflow.filing_due(after.signed_on)
                after.filed_late = bool(after.filed_on and after.filed_on > after.filing_due_on)
                after.deemed_effective_on = (
                    workflow.deemed_effective(after.filed_on) if after.filed_on else None
                )
                fields |= {"filing_due_on", "filed_late", "deemed_effective_on"}
            contracts.append(after)
            audits.append(
                audit_build(
                    actor=self.actor,
                    action=AuditAction.UPDATE,
                    instance=after,
                    changes=audit_diff(
                        audit_snapshot(before, CONTRACT_AUDIT_FIELDS),
                        audit_snapshot(after, CONTRACT_AUDIT_FIELDS),
                    ),
                    unit_path=after.org_unit.path,
                    note="由文件导入更正",
                )
            )
        CollectiveContract.objects.bulk_update(contracts, sorted(fields), batch_size=BATCH)
        audit_bulk(audits)


# --- workers' congress and factory-affairs openness ---------------------------------------------


class CongressImporter(Importer):
    kind = "congresses"
    label = "职代会和厂务公开"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("system", "制度", required=True),
        Column("established_on", "建立日期", required=True),
        Column("abolished_on", "撤销日期"),
    )

    def clean_row(self, row: Row) -> Record | None:
        codes = _credit_codes(row, "enterprise", self.header("enterprise"))
        if codes is not None and len(codes) > 1:
            row.error("enterprise", "每行只能填写一家企业的统一社会信用代码。")
            codes = None
        data: dict[str, Any] = {
            "enterprise": codes[0] if codes else None,
            "system": row.choice("system", SYSTEMS, required=True, hint=SYSTEM_HINT),
            "established_on": row.date("established_on", required=True),
        }
        if row.has("abolished_on"):
            data["abolished_on"] = row.date("abolished_on")
        established, abolished = data["established_on"], data.get("abolished_on")
        if established and abolished and abolished <= established:
            row.error(
                "abolished_on",
                f"撤销日期（{abolished}）应晚于建立日期（{established}），请核对。",
            )
        return Record(row.number, data)

    def _key(self, record: Record) -> tuple[str, str, datetime.date] | None:
        data = record.data
        if not (data["enterprise"] and data["system"] and data["established_on"]):
            return None
        return data["enterprise"], data["system"], data["established_on"]

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            records,
            self._key,
            "enterprise",
            lambda key: f"企业“{key[0]}”{SystemKind(key[1]).label}（建立日期 {key[2]}）",
        )
        # Rows with mistakes are looked up too, so that all their mistakes are reported at once.
        lookup = _EnterpriseLookup({r.data["enterprise"] for r in records if r.data["enterprise"]})
        self.enterprises = lookup.by_code
        for record in records:
            if not record.data["enterprise"]:
                continue
            enterprise = self.enterprises.get(record.data["enterprise"])
            if enterprise is None:
                self.reject(
                    record,
                    "enterprise",
                    f"统一社会信用代码“{record.data['enterprise']}”尚未登记为企业，请核对，或先导入该企业。",
                )
            elif not self.in_scope(enterprise["org_unit__path"]):
                self.reject(record, "enterprise", f"企业“{enterprise['name']}”不在您的管辖范围内。")
        valid = self.valid(records)
        ids = sorted({self.enterprises[r.data["enterprise"]]["pk"] for r in valid})
        stored: dict[tuple[int, str, datetime.date], dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for values in SystemCoverage.objects.filter(
                enterprise_id__in=chunk, system__scope=ProgrammeScope.ENTERPRISE
            ).values(
                "enterprise_id",
                "system_id",
                "system__system",
                "system__established_on",
                "system__abolished_on",
                "system__org_unit_id",
            ):
                key = (values["enterprise_id"], values["system__system"], values["system__established_on"])
                stored[key] = values
        unit_ids = {e["org_unit_id"] for e in self.enterprises.values()}
        self.units = {
            u.pk: u for chunk in _chunks(sorted(unit_ids)) for u in OrgUnit.objects.filter(pk__in=chunk)
        }
        for record in valid:
            data = record.data
            enterprise = self.enterprises[data["enterprise"]]
            existing = stored.get((enterprise["pk"], data["system"], data["established_on"]))
            if existing is None:
                record.action = "create"
                continue
            record.target = existing
            if "abolished_on" in data and existing["system__abolished_on"] != data["abolished_on"]:
                record.changes = {"abolished_on": [existing["system__abolished_on"], data["abolished_on"]]}
            record.action = "update" if record.changes else "unchanged"

    def save(self, records: list[Record]) -> None:
        for batch in _chunks([r for r in records if r.action == "create"], BATCH):
            systems = []
            for record in batch:
                enterprise = self.enterprises[record.data["enterprise"]]
                system = record.data["system"]
                systems.append(
                    EnterpriseSystem(
                        system=system,
                        scope=ProgrammeScope.ENTERPRISE,
                        name=f"{enterprise['name']}{SystemKind(system).label}",
                        org_unit=self.units[enterprise["org_unit_id"]],
                        established_on=record.data["established_on"],
                        abolished_on=record.data.get("abolished_on"),
                        imported=True,
                    )
                )
            EnterpriseSystem.objects.bulk_create(systems)
            SystemCoverage.objects.bulk_create(
                (
                    SystemCoverage(system=s, enterprise_id=self.enterprises[r.data["enterprise"]]["pk"])
                    for s, r in zip(systems, batch, strict=True)
                ),
                batch_size=BATCH,
            )
            audit_bulk(
                [
                    audit_build(
                        actor=self.actor,
                        action=AuditAction.IMPORT,
                        instance=s,
                        changes={
                            k: [None, v]
                            for k, v in audit_snapshot(s, SYSTEM_AUDIT_FIELDS).items()
                            if v not in (None, "")
                        },
                        unit_path=s.org_unit.path,
                    )
                    for s in systems
                ]
            )
        updates = [r for r in records if r.action == "update"]
        for batch in _chunks(updates, BATCH):
            systems = list(
                EnterpriseSystem.objects.filter(pk__in=[r.target["system_id"] for r in batch]).select_related(
                    "org_unit"
                )
            )
            by_pk = {s.pk: s for s in systems}
            audits = []
            for record in batch:
                system = by_pk[record.target["system_id"]]
                before = audit_snapshot(system, SYSTEM_AUDIT_FIELDS)
                system.abolished_on = record.data["abolished_on"]
                audits.append(
                    audit_build(
                        actor=self.actor,
                        action=AuditAction.UPDATE,
                        instance=system,
                        changes=audit_diff(before, audit_snapshot(system, SYSTEM_AUDIT_FIELDS)),
                        unit_path=system.org_unit.path,
                        note="由文件导入更正",
                    )
                )
            EnterpriseSystem.objects.bulk_update(systems, ["abolished_on"], batch_size=BATCH)
            audit_bulk(audits)


register_importer(ContractImporter.kind, ContractImporter)
register_importer(CongressImporter.kind, CongressImporter)
