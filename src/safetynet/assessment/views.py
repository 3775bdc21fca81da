"""目标考核: staff pages. Thin: parse, authorise, call one service or selector, render."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.assessment import bulletin as bulletins
from safetynet.assessment import rules, selectors, services
from safetynet.assessment.models import (
    Appeal,
    Evidence,
    Item,
    ItemKind,
    Letter,
    LetterStatus,
    Scheme,
    SchemeAction,
    SchemeStatus,
)
from safetynet.core.errors import ServiceError
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import StaffView
from safetynet.orgs.models import OrgUnit


def _day(value: str | None, default: datetime.date | None = None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else (default or timezone.localdate())
    except ValueError:
        return default or timezone.localdate()


def _refused(request: HttpRequest, error: ServiceError) -> None:
    messages.error(request, error.message)


def _metric_choices() -> list[tuple[str, str]]:
    from safetynet.indicators.registry import registry

    return [(code, spec.label) for code, spec in registry().indicators.items()]


class SchemeListView(StaffView):
    model = Scheme

    def get(self, request: HttpRequest) -> HttpResponse:
        schemes = list(selectors.scheme_list(request.user))
        unit = request.user.org_unit
        can_create = unit is not None and services.can_run(request.user, unit) and unit.level <= 2
        return render(
            request,
            "assessment/scheme_list.html",
            {"schemes": schemes, "can_create": can_create, "next_year": timezone.localdate().year},
        )


class SchemeCreateView(StaffView):
    capability = Capability.ASSESS

    def post(self, request: HttpRequest) -> HttpResponse:
        try:
            scheme = services.scheme_create(
                actor=request.user,
                org_unit=request.user.org_unit,
                year=request.POST.get("year", ""),
                name=request.POST.get("name", ""),
            )
        except ServiceError as error:
            _refused(request, error)
            return redirect("assessment:scheme_list")
        messages.success(request, f"已建立“{scheme.name}”，请添加考核项目。")
        return redirect("assessment:scheme_detail", scheme.pk)


class SchemeDetailView(StaffView):
    model = Scheme

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        manage = selectors.can_manage(request.user, scheme)
        items = list(scheme.items.all())
        weights = sum((i.weight for i in items if i.kind != ItemKind.VETO), rules.D(0))
        return render(
            request,
            "assessment/scheme_detail.html",
            {
                "scheme": scheme,
                "items": items,
                "weights": weights,
                "manage": manage,
                "problems": services.publish_problems(scheme)
                if manage and scheme.status == SchemeStatus.DRAFT
                else [],
                "actions": [
                    (a, services.SCHEME_TABLE.action_label(a))
                    for a in services.SCHEME_TABLE.allowed(scheme.status)
                ]
                if manage
                else [],
                **_item_form_context(_item_values()),
                "appeals": selectors.appeals_for(request.user, scheme),
                "history": audit_history(scheme) if manage else [],
                "today": timezone.localdate(),
            },
        )


class SchemeCopyView(StaffView):
    model = Scheme
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        source = selectors.scheme_for_user(request.user, pk)
        try:
            scheme = services.scheme_copy(actor=request.user, source=source)
        except ServiceError as error:
            _refused(request, error)
            return redirect("assessment:scheme_detail", source.pk)
        messages.success(request, f"已按 {source.year} 年方案建立“{scheme.name}”（草稿）。")
        return redirect("assessment:scheme_detail", scheme.pk)


def _rule_from_post(post: Any) -> dict[str, Any]:
    kind = post.get("kind", "")
    if kind == ItemKind.INDICATOR:
        rule: dict[str, Any] = {"metric": post.get("metric", ""), "mode": post.get("mode", "linear")}
        if rule["mode"] == "stepped":
            steps = []
            for line in (post.get("steps", "") or "").splitlines():
                parts = [p.strip() for p in line.replace("，", ",").split(",")]
                if len(parts) == 3 and any(parts):
                    steps.append({"from": parts[0], "to": parts[1] or None, "points": parts[2]})
            rule["steps"] = steps
        else:
            rule["floor"] = post.get("floor", "0") or "0"
        return rule
    if kind == ItemKind.DEDUCTION:
        return {
            "source": "reports",
            "late": post.get("late", "2") or "2",
            "missing": post.get("missing", "5") or "5",
        }
    if kind == ItemKind.RATIO:
        return {"source": post.get("source", "cases_closed_on_time")}
    if kind == ItemKind.VETO:
        return {"cap": post.get("cap", "60") or "60"}
    return {}


ITEM_DEFAULTS = {
    "name": "",
    "kind": ItemKind.INDICATOR,
    "weight": "10",
    "metric": "",
    "mode": rules.LINEAR,
    "floor": "0.6",
    "steps": "",
    "source": "cases_closed_on_time",
    "late": "2",
    "missing": "5",
    "cap": "60",
    "description": "",
}
ITEM_FIELDS = tuple(ITEM_DEFAULTS)


def _item_values(item: Item | None = None) -> dict[str, str]:
    """What the item form shows: the defaults of a new item, or the item's own name, weight and rule."""
    values = dict(ITEM_DEFAULTS)
    if item is None:
        return values
    rule = item.rule or {}
    values.update(name=item.name, kind=item.kind, weight=str(item.weight), description=item.description)
    if item.kind == ItemKind.INDICATOR:
        values.update(metric=rule.get("metric", ""), mode=rule.get("mode") or rules.LINEAR)
        if values["mode"] == rules.STEPPED:
            values["steps"] = "\n".join(
                f"{step['from']},{step['to'] or ''},{step['points']}" for step in rule.get("steps", [])
            )
        else:
            values["floor"] = str(rule.get("floor", "0"))
    elif item.kind == ItemKind.DEDUCTION:
        values.update(late=str(rule.get("late", "2")), missing=str(rule.get("missing", "5")))
    elif item.kind == ItemKind.RATIO:
        values["source"] = rule.get("source", "cases_closed_on_time")
    elif item.kind == ItemKind.VETO:
        values["cap"] = str(rule.get("cap", "60"))
    return values


def _item_form_context(values: dict[str, str], error: ServiceError | None = None) -> dict[str, Any]:
    return {
        "values": values,
        "error": error,
        # A refusal naming no field of the form is shown above it.
        "general_error": error if error is not None and error.field not in ITEM_FIELDS else None,
        "kinds": ItemKind.choices,
        "metrics": _metric_choices(),
        "ratio_sources": list(rules.RATIO_SOURCES.items()),
    }


class ItemAddView(StaffView):
    model = Scheme
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        try:
            services.item_add(
                actor=request.user,
                scheme=scheme,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                weight=request.POST.get("weight", "0") or "0",
                rule=_rule_from_post(request.POST),
                description=request.POST.get("description", ""),
            )
        except ServiceError as error:
            _refused(request, error)
        return redirect("assessment:scheme_detail", scheme.pk)


class ItemDeleteView(StaffView):
    model = Item
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            item = Item.objects.select_related("scheme", "scheme__org_unit").get(pk=pk)
        except Item.DoesNotExist:
            raise Http404("未找到该记录，或您无权查看。") from None
        scheme = selectors.scheme_for_user(request.user, item.scheme_id)
        try:
            services.item_delete(actor=request.user, item=item)
        except ServiceError as error:
            _refused(request, error)
        return redirect("assessment:scheme_detail", scheme.pk)


class ItemEditView(StaffView):
    """The add form, filled with the item, for an item of a draft scheme. Found through the user's scope
    first (404 outside it), then the role is asked (403): an outsider learns nothing."""

    model = Item

    def item(self, request: HttpRequest, pk: int) -> Item:
        item = selectors.item_for_user(request.user, pk)
        if not request.user.can(Capability.ASSESS) or not selectors.can_manage(request.user, item.scheme):
            raise PermissionDenied("只有组织考核的单位才能修改考核项目。")
        return item

    def not_draft(self, request: HttpRequest, item: Item, message: str) -> HttpResponse:
        messages.error(request, message)
        return redirect("assessment:scheme_detail", item.scheme_id)

    def page(
        self, request: HttpRequest, item: Item, values: dict[str, str], error: Any = None
    ) -> HttpResponse:
        others = [i for i in item.scheme.items.all() if i.pk != item.pk and i.kind != ItemKind.VETO]
        other_weights = sum((i.weight for i in others), rules.D(0))
        return render(
            request,
            "assessment/item_form.html",
            {
                "item": item,
                "scheme": item.scheme,
                "other_weights": other_weights,
                "weight_left": rules.TOTAL_POINTS - other_weights,
                "history": audit_history(item),
                **_item_form_context(values, error),
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self.item(request, pk)
        if item.scheme.status != SchemeStatus.DRAFT:
            return self.not_draft(request, item, "方案已发布，考核项目不能再修改。")
        return self.page(request, item, _item_values(item))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self.item(request, pk)
        try:
            item = services.item_update(
                actor=request.user,
                item=item,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                weight=request.POST.get("weight", "0") or "0",
                rule=_rule_from_post(request.POST),
                description=request.POST.get("description", ""),
            )
        except ServiceError as error:
            if error.code == "scheme_not_draft":
                return self.not_draft(request, item, error.message)
            values = {name: request.POST.get(name, default) for name, default in ITEM_DEFAULTS.items()}
            return self.page(request, item, values, error)
        messages.success(request, f"已保存考核项目“{item.name}”。")
        return redirect("assessment:scheme_detail", item.scheme_id)


class ItemMoveView(StaffView):
    model = Item
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = selectors.item_for_user(request.user, pk)
        try:
            services.item_move(actor=request.user, item=item, position=request.POST.get("position", ""))
        except ServiceError as error:
            _refused(request, error)
        return redirect("assessment:scheme_detail", item.scheme_id)


class SchemeTransitionView(StaffView):
    model = Scheme
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        action = request.POST.get("action", "")
        version = request.POST.get("version") or None
        try:
            if action == SchemeAction.PUBLISH:
                services.scheme_publish(actor=request.user, scheme=scheme, version=version)
            elif action == SchemeAction.FREEZE:
                day = _day(request.POST.get("day"))
                until = _day(
                    request.POST.get("appeal_until"), timezone.localdate() + datetime.timedelta(days=7)
                )
                services.scheme_freeze(
                    actor=request.user, scheme=scheme, day=day, appeal_until=until, version=version
                )
            elif action == SchemeAction.PUBLISH_BULLETIN:
                services.scheme_publish_bulletin(actor=request.user, scheme=scheme, version=version)
            else:
                raise ServiceError("invalid_action", "没有这项操作。")
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, f"已{services.SCHEME_TABLE.action_label(action)}。")
        if action == SchemeAction.PUBLISH_BULLETIN:
            return redirect("assessment:bulletin", scheme.pk)
        return redirect("assessment:scheme_detail", scheme.pk)


class ScoreBoardView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        schemes = list(selectors.scheme_list(request.user).exclude(status=SchemeStatus.DRAFT))
        scheme = None
        if request.GET.get("scheme"):
            scheme = selectors.scheme_for_user(request.user, request.GET["scheme"])
        elif schemes:
            scheme = schemes[0]
        if scheme is None:
            return render(request, "assessment/score_board.html", {"schemes": schemes, "scheme": None})
        default_day = min(timezone.localdate(), datetime.date(scheme.year, 12, 31))
        day = _day(request.GET.get("as_of"), default_day)
        board = selectors.score_board(request.user, scheme, day)
        finals = {u.unit.unit_id: u for u in board.final.units} if board.final else {}
        rows = []
        for unit_score in board.sheet.units:
            final = finals.get(unit_score.unit.unit_id)
            cells = []
            for item in board.sheet.items:
                live = unit_score.items[item.pk]
                frozen = final.items.get(item.pk) if final else None
                cells.append(
                    {
                        "live": live,
                        "final": frozen,
                        "differs": (unit_score.unit.unit_id, item.pk) in board.differs,
                    }
                )
            rows.append(
                {
                    "unit": unit_score,
                    "cells": cells,
                    "final": final,
                    "differs": (unit_score.unit.unit_id, None) in board.differs,
                }
            )
        return render(
            request,
            "assessment/score_board.html",
            {
                "schemes": schemes,
                "scheme": scheme,
                "board": board,
                "rows": rows,
                "day": day,
                "ranking": selectors.published_ranking(request.user, scheme),
            },
        )


class UnitScoreView(StaffView):
    model = Scheme

    def get(self, request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        unit = selectors.assessed_unit_for_user(request.user, scheme, unit_pk)
        default_day = min(timezone.localdate(), datetime.date(scheme.year, 12, 31))
        day = _day(request.GET.get("as_of"), default_day)
        from safetynet.assessment import scoring

        sheet = scoring.compute_sheet(scheme, day, {unit.pk})
        unit_score = sheet.unit(unit.pk)
        finals = selectors.final_scores_for(request.user, scheme, unit)
        items = []
        for item in sheet.items:
            items.append(
                {
                    "item": item,
                    "score": unit_score.items[item.pk] if unit_score else None,
                    "final": finals.get(item.pk),
                }
            )
        manage = selectors.can_manage(request.user, scheme)
        respond = services.can_respond(request.user, unit)
        return render(
            request,
            "assessment/unit_score.html",
            {
                "scheme": scheme,
                "unit": unit,
                "day": day,
                "unit_score": unit_score,
                "items": items,
                "final_total": finals.get(None),
                "evidence": selectors.evidence_for(request.user, scheme, unit),
                "reviews": selectors.reviews_for(request.user, scheme, unit),
                "vetoes": selectors.vetoes_for(request.user, scheme, unit),
                "appeals": selectors.appeals_for(request.user, scheme, unit),
                "manage": manage,
                "respond": respond,
                "published": scheme.status == SchemeStatus.PUBLISHED,
                "frozen": scheme.status == SchemeStatus.FROZEN,
                "manual_items": [i for i in sheet.items if i.kind == ItemKind.MANUAL],
                "veto_items": [i for i in sheet.items if i.kind == ItemKind.VETO],
                "scored_items": [i for i in sheet.items if i.kind != ItemKind.VETO],
                "max_mb": services.evidence_max_bytes() // (1024 * 1024),
                "today": timezone.localdate(),
            },
        )


class _UnitWrite(StaffView):
    """A POST on one assessed unit of a scheme: the scheme and the unit come through the user's scope."""

    model = Scheme

    def post(self, request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        unit = selectors.assessed_unit_for_user(request.user, scheme, unit_pk)
        if not request.user.can(self.capability):
            raise PermissionDenied("您的角色无权进行此操作。")
        item = scheme.items.filter(pk=request.POST.get("item") or 0).first()
        try:
            if item is None:
                raise ServiceError("item_required", "请选择考核项目。", field="item")
            message = self.write(request, scheme, unit, item)
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, message)
        return redirect("assessment:unit_score", scheme.pk, unit.pk)

    def write(self, request: HttpRequest, scheme: Scheme, unit: OrgUnit, item: Item) -> str:
        raise NotImplementedError


class EvidenceUploadView(_UnitWrite):
    capability = Capability.RESPOND_ASSESSMENT

    def write(self, request: HttpRequest, scheme: Scheme, unit: OrgUnit, item: Item) -> str:
        upload = request.FILES.get("file")
        if upload is None:
            raise ServiceError("required", "请选择要上传的文件。", field="file")
        evidence = services.evidence_upload(
            actor=request.user, item=item, org_unit=unit, file=upload, note=request.POST.get("note", "")
        )
        return f"已上传“{evidence.name}”。"


class ReviewView(_UnitWrite):
    capability = Capability.ASSESS

    def write(self, request: HttpRequest, scheme: Scheme, unit: OrgUnit, item: Item) -> str:
        review = services.review_record(
            actor=request.user,
            item=item,
            org_unit=unit,
            points=request.POST.get("points", ""),
            reason=request.POST.get("reason", ""),
        )
        return f"已评分：{item.name} {review.points} 分。"


class VetoView(_UnitWrite):
    capability = Capability.ASSESS

    def write(self, request: HttpRequest, scheme: Scheme, unit: OrgUnit, item: Item) -> str:
        services.veto_record(
            actor=request.user,
            item=item,
            org_unit=unit,
            found_on=_day(request.POST.get("found_on")),
            reason=request.POST.get("reason", ""),
        )
        return f"已记录否决事项：{item.name}。"


class AppealSubmitView(_UnitWrite):
    capability = Capability.RESPOND_ASSESSMENT

    def write(self, request: HttpRequest, scheme: Scheme, unit: OrgUnit, item: Item) -> str:
        services.appeal_submit(
            actor=request.user, item=item, org_unit=unit, reason=request.POST.get("reason", "")
        )
        return f"已提交对“{item.name}”的申诉。"


class EvidenceDownloadView(StaffView):
    model = Evidence

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        evidence = get_for_user(Evidence, request.user, pk=pk)
        return FileResponse(
            evidence.file.open("rb"), content_type=evidence.content_type, filename=evidence.name
        )


class AppealDecideView(StaffView):
    model = Appeal
    capability = Capability.ASSESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        appeal = get_for_user(
            Appeal.objects.select_related("scheme", "scheme__org_unit"), request.user, pk=pk
        )
        try:
            services.appeal_decide(
                actor=request.user,
                appeal=appeal,
                upheld=request.POST.get("upheld") == "yes",
                new_points=request.POST.get("new_points") or None,
                decision=request.POST.get("decision", ""),
                version=request.POST.get("version") or None,
            )
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, "已裁决。")
        return redirect("assessment:scheme_detail", appeal.scheme_id)


class LetterListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        letters = list(selectors.letter_list(request.user))
        return render(request, "assessment/letter_list.html", {"letters": letters})


class LetterDetailView(StaffView):
    model = Letter

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        letter = selectors.letter_for_user(request.user, pk)
        targets = (
            letter.signed_targets if letter.status == LetterStatus.SIGNED else services.letter_targets(letter)
        )
        return render(
            request,
            "assessment/letter_detail.html",
            {
                "letter": letter,
                "targets": targets,
                "can_sign": letter.status == LetterStatus.UNSIGNED
                and services.can_respond(request.user, letter.org_unit),
                "history": audit_history(letter),
            },
        )


class LetterSignView(StaffView):
    model = Letter
    capability = Capability.RESPOND_ASSESSMENT

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        letter = selectors.letter_for_user(request.user, pk)
        try:
            services.letter_sign(actor=request.user, letter=letter)
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, "已签订目标责任状。")
        return redirect("assessment:letter_detail", letter.pk)


class BulletinView(StaffView):
    model = Scheme

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        ranking = selectors.published_ranking(request.user, scheme)
        if ranking is None:
            raise Http404("通报尚未发布。")
        return render(
            request,
            "assessment/bulletin.html",
            {
                "scheme": scheme,
                "bulletin": bulletins.build(scheme, ranking),
                "editable": scheme.status == SchemeStatus.FROZEN
                and selectors.can_manage(request.user, scheme),
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        scheme = selectors.scheme_for_user(request.user, pk)
        if not request.user.can(Capability.ASSESS):
            raise PermissionDenied("您的角色无权进行此操作。")
        try:
            services.bulletin_update(
                actor=request.user,
                scheme=scheme,
                commendation=request.POST.get("commendation", ""),
                criticism=request.POST.get("criticism", ""),
            )
        except ServiceError as error:
            _refused(request, error)
        else:
            messages.success(request, "已保存通报内容。")
        return redirect("assessment:bulletin", scheme.pk)


class _BulletinFile(StaffView):
    model = Scheme

    def bulletin(self, request: HttpRequest, pk: int) -> bulletins.Bulletin:
        scheme = selectors.scheme_for_user(request.user, pk)
        ranking = selectors.published_ranking(request.user, scheme)
        if ranking is None:
            raise Http404("通报尚未发布。")
        return bulletins.build(scheme, ranking)


class BulletinPdfView(_BulletinFile):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        bulletin = self.bulletin(request, pk)
        response = HttpResponse(bulletins.pdf_bytes(bulletin), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.scheme.year}.pdf"'
        return response


class BulletinXlsxView(_BulletinFile):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        bulletin = self.bulletin(request, pk)
        response = HttpResponse(
            bulletins.xlsx_bytes(bulletin),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.scheme.year}.xlsx"'
        return response


def steps_text(rule: dict[str, Any]) -> str:
    return json.dumps(rule.get("steps", []), ensure_ascii=False)


def unit_score_url(scheme: Scheme, unit_id: int) -> str:
    return reverse("assessment:unit_score", args=[scheme.pk, unit_id])
