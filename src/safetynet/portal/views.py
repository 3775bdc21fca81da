"""网络工会（职工服务平台）: the workers' phone pages (worker/…) and the officers' join queue (portal/…).

Thin views: parse, find the worker's own record (else 404), call one service or selector, render.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from safetynet.cases.models import Case, Category
from safetynet.core.errors import OutOfScope, ServiceError
from safetynet.core.middleware import client_address
from safetynet.core.scope import get_for_user
from safetynet.members.validation import mask_phone
from safetynet.members.views import card_qr_svg
from safetynet.orgs.models import OrgLevel, OrgUnit
from safetynet.portal import selectors, services
from safetynet.portal.auth import (
    current_worker,
    reset_mobile_forget,
    reset_mobile_recall,
    reset_mobile_remember,
    worker_login,
    worker_logout,
    worker_required,
)
from safetynet.portal.models import JoinApplication, JoinStatus, SmsPurpose


def _render(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    context = dict(context or {})
    account = current_worker(request)
    context.setdefault("worker", account)
    context.setdefault("unread", selectors.unread_count(account) if account else 0)
    return render(request, f"portal/{template}", context, status=status)


def _error_context(exc: ServiceError) -> dict[str, Any]:
    return {"error": exc.message, "error_field": exc.field or ""}


def _error_status(exc: ServiceError) -> int:
    return 429 if exc.code == "rate_limited" else 400


# --- sign-up and sign-in ------------------------------------------------------------------------


def register(request: HttpRequest) -> HttpResponse:
    if current_worker(request) is not None:
        return redirect("portal:home")
    values = {key: request.POST.get(key, "") for key in ("mobile", "code")}
    context: dict[str, Any] = {"values": values, "privacy_version": services.PRIVACY_NOTICE_VERSION}
    if request.method == "POST":
        try:
            if request.POST.get("step") == "code":
                services.sms_code_send(
                    mobile=values["mobile"], purpose=SmsPurpose.REGISTER, address=client_address(request)
                )
                context["info"] = "验证码已发送，10 分钟内有效。"
            else:
                account = services.worker_register(
                    mobile=values["mobile"],
                    code=values["code"],
                    password=request.POST.get("password", ""),
                    consent=request.POST.get("consent") == "yes",
                    address=client_address(request),
                )
                worker_login(request, account)
                messages.success(request, "注册成功。下一步：实名认证，只需姓名和身份证号码。")
                return redirect("portal:verify")
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "register.html", context, status=400)
    return _render(request, "register.html", context)


def login(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}
    ) or not next_url.startswith("/worker/"):
        next_url = ""
    context: dict[str, Any] = {"values": {"mobile": request.POST.get("mobile", "")}, "next": next_url}
    if request.method == "POST":
        try:
            account = services.worker_authenticate(
                mobile=request.POST.get("mobile", ""),
                password=request.POST.get("password", ""),
                address=client_address(request),
            )
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "login.html", context, status=400)
        worker_login(request, account)
        return redirect(next_url or "portal:home")
    return _render(request, "login.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    worker_logout(request)
    return redirect("portal:login")


def password_reset(request: HttpRequest) -> HttpResponse:
    """Forgotten password, page 1: the registered number; one answer whether or not it has an account."""
    if current_worker(request) is not None:
        return redirect("portal:home")
    context: dict[str, Any] = {"values": {"mobile": request.POST.get("mobile", "")}}
    if request.method == "POST":
        try:
            number = services.worker_password_reset_request(
                mobile=context["values"]["mobile"], address=client_address(request)
            )
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "password_reset.html", context, status=_error_status(exc))
        reset_mobile_remember(request, number)
        messages.success(request, services.RESET_SENT_MESSAGE)
        return redirect("portal:password_reset_confirm")
    return _render(request, "password_reset.html", context)


def password_reset_confirm(request: HttpRequest) -> HttpResponse:
    """Page 2: the code and the new password twice; "resend" asks for a new code for the same number."""
    if current_worker(request) is not None:
        return redirect("portal:home")
    number = reset_mobile_recall(request)
    if number is None:
        messages.info(request, "请先填写注册时使用的手机号，获取验证码。")
        return redirect("portal:password_reset")
    context: dict[str, Any] = {
        "mobile_masked": mask_phone(number),
        "values": {"code": request.POST.get("code", "")},
    }
    if request.method == "POST":
        try:
            if request.POST.get("step") == "resend":
                services.worker_password_reset_request(mobile=number, address=client_address(request))
                context["info"] = services.RESET_SENT_MESSAGE
                context["values"]["code"] = ""
                return _render(request, "password_reset_confirm.html", context)
            services.worker_password_reset(
                mobile=number,
                code=context["values"]["code"],
                password=request.POST.get("password", ""),
                password_again=request.POST.get("password_again", ""),
                address=client_address(request),
            )
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "password_reset_confirm.html", context, status=_error_status(exc))
        reset_mobile_forget(request)
        messages.success(request, services.RESET_DONE_MESSAGE)
        return redirect("portal:login")
    return _render(request, "password_reset_confirm.html", context)


def privacy(request: HttpRequest) -> HttpResponse:
    return _render(request, "privacy.html", {"privacy_version": services.PRIVACY_NOTICE_VERSION})


# --- the worker's own pages ---------------------------------------------------------------------


@worker_required
def home(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    today = timezone.localdate()
    context: dict[str, Any] = {
        "card": selectors.own_card(account),
        "pending": selectors.own_pending_application(account),
        "notices": selectors.notices_for(account, limit=3),
        "open_cases": selectors.own_open_case_list(account, limit=3),
    }
    if account.person_id is not None:
        context["membership"] = services.current_membership(account.person, today)
    return _render(request, "home.html", context)


@worker_required
def verify(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    if account.person_id is not None:
        return redirect("portal:me")
    context: dict[str, Any] = {"values": {"name": request.POST.get("name", "")}}
    if request.method == "POST":
        try:
            services.worker_verify_identity(
                account=account,
                name=request.POST.get("name", ""),
                id_number=request.POST.get("id_number", ""),
            )
        except ServiceError as exc:
            # The ID number is typed again only when it was the problem; the name is kept.
            context |= _error_context(exc)
            if exc.field != "id_number":
                context["values"]["id_number"] = request.POST.get("id_number", "")
            return _render(request, "verify.html", context, status=400)
        messages.success(request, "实名认证成功。")
        return redirect("portal:home")
    return _render(request, "verify.html", context)


@worker_required
def card(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    member_card = selectors.own_card(account)
    context: dict[str, Any] = {"card": member_card}
    if member_card is not None:
        from safetynet.members.services import card_qr_payload

        # The members app's rendering, scaled up so the code fills a phone screen (readable in sunlight).
        svg = card_qr_svg(card_qr_payload(member_card))
        size = re.search(r'width="(\d+)" height="(\d+)"', svg)
        if size:
            svg = svg.replace(
                size.group(0), f'viewBox="0 0 {size.group(1)} {size.group(2)}" width="240" height="240"', 1
            )
        context["qr_svg"] = svg
    return _render(request, "card.html", context)


@worker_required
def join(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    today = timezone.localdate()
    context: dict[str, Any] = {"applications": list(selectors.own_join_applications(account)[:10])}
    if account.person_id is not None:
        context["membership"] = services.current_membership(account.person, today)
        context["options"] = services.joinable_employments(account.person, today)
    context["pending"] = next((a for a in context["applications"] if a.status == JoinStatus.PENDING), None)
    if request.method == "POST":
        try:
            services.join_apply(account=account, enterprise_id=request.POST.get("enterprise", ""))
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "join.html", context, status=400)
        messages.success(request, "入会申请已提交，企业工会将在 5 个工作日内审批，结果会通知您。")
        return redirect("portal:join")
    return _render(request, "join.html", context)


@worker_required
@require_POST
def join_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    application = selectors.own_join_applications(account).filter(pk=pk).first()
    if application is None:
        raise Http404
    try:
        services.join_withdraw(account=account, application=application)
        messages.success(request, "入会申请已撤回。")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:join")


@worker_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    return _render(request, "appeal_list.html", {"cases": selectors.own_case_list(account)})


def _districts() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(level=OrgLevel.DISTRICT, valid_to__isnull=True).order_by("code"))


@worker_required
def appeal_new(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    if account.person_id is None:
        messages.info(request, "提交诉求前请先完成实名认证。")
        return redirect("portal:verify")
    from safetynet.members.models import Employment

    employments = list(
        Employment.objects.filter(person_id=account.person_id)
        .select_related("enterprise")
        .order_by("-valid_from")[:10]
    )
    values = {
        k: request.POST.get(k, "")
        for k in ("category", "description", "enterprise", "enterprise_name", "enterprise_address", "unit")
    }
    context: dict[str, Any] = {
        "categories": Category.choices,
        "employments": employments,
        "districts": _districts(),
        "values": values,
    }
    if request.method == "POST":
        unit = (
            OrgUnit.objects.filter(pk=values["unit"], level=OrgLevel.DISTRICT).first()
            if values["unit"].isdigit()
            else None
        )
        try:
            case = services.appeal_file(
                account=account,
                category=values["category"],
                description=values["description"],
                enterprise_id=values["enterprise"] if values["enterprise"].isdigit() else None,
                enterprise_name=values["enterprise_name"],
                enterprise_address=values["enterprise_address"],
                unit=unit,
                files=request.FILES.getlist("files"),
            )
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "appeal_new.html", context, status=400)
        messages.success(request, f"诉求已提交，编号 {case.number}。{case.unit.name}将在办理期限内联系您。")
        return redirect("portal:appeal_detail", pk=case.pk)
    return _render(request, "appeal_new.html", context)


def _own_case_or_404(request: HttpRequest, pk: int) -> Case:
    try:
        return services.own_case(request.worker, pk)  # type: ignore[attr-defined]
    except ServiceError:
        raise Http404 from None


@worker_required
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case_or_404(request, pk)
    context = {"case": case, **selectors.case_story(case), "stars": range(1, 6)}
    return _render(request, "appeal_detail.html", context)


@worker_required
@require_POST
def appeal_message(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case_or_404(request, pk)
    try:
        services.appeal_message_add(account=request.worker, case=case, text=request.POST.get("text", ""))  # type: ignore[attr-defined]
        messages.success(request, "留言已送达办理单位。")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:appeal_detail", pk=case.pk)


@worker_required
@require_POST
def appeal_files(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case_or_404(request, pk)
    try:
        count = services.appeal_attach(
            account=request.worker, case=case, files=request.FILES.getlist("files")
        )  # type: ignore[attr-defined]
        messages.success(request, f"已上传 {count} 个文件。")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:appeal_detail", pk=case.pk)


@worker_required
@require_POST
def appeal_rate(request: HttpRequest, pk: int) -> HttpResponse:
    case = _own_case_or_404(request, pk)
    try:
        services.appeal_rate(
            account=request.worker,  # type: ignore[attr-defined]
            case=case,
            score=request.POST.get("score", ""),
            comment=request.POST.get("comment", ""),
        )
        messages.success(request, "感谢您的评价。")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:appeal_detail", pk=case.pk)


@worker_required
def notice_list(request: HttpRequest) -> HttpResponse:
    return _render(request, "notice_list.html", {"notices": selectors.notices_for(request.worker)})  # type: ignore[attr-defined]


@worker_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = next((n for n in selectors.notices_for(request.worker, limit=200) if n.pk == pk), None)  # type: ignore[attr-defined]
    if notice is None:
        raise Http404
    return _render(request, "notice_detail.html", {"notice": notice})


@worker_required
def notifications(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    rows = selectors.own_notifications(account)
    if request.method == "POST":
        services.worker_notifications_mark_read(account=account)
        return redirect("portal:notifications")
    return _render(request, "notifications.html", {"rows": rows})


@worker_required
def me(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    return _render(request, "me.html", {"memberships": list(selectors.own_memberships(account)[:20])})


@worker_required
def withdraw_consent(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            return _render(
                request,
                "withdraw.html",
                {"error": "请勾选“我确认撤回同意并注销账号”。", "error_field": "confirm"},
                status=400,
            )
        services.worker_consent_withdraw(account=account)
        worker_logout(request)
        messages.success(request, "您已撤回同意，账号已注销，手机号和实名信息已删除。")
        return redirect("portal:login")
    return _render(request, "withdraw.html")


@worker_required
def discounts(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    return _render(request, "discounts.html", {"bases": selectors.discount_bases_for(account)})


@worker_required
def applications(request: HttpRequest) -> HttpResponse:
    account = request.worker  # type: ignore[attr-defined]
    context = {
        "applications": selectors.own_assistance_applications(account),
        "open_rounds": len(selectors.assistance_rounds_open(account)),
    }
    return _render(request, "applications.html", context)


@worker_required
def assistance_apply(request: HttpRequest) -> HttpResponse:
    """The rounds open to the worker today, one apply form each (金秋助学 with the admission letter)."""
    account = request.worker  # type: ignore[attr-defined]
    if account.person_id is None:
        messages.info(request, "申请帮扶前请先完成实名认证。")
        return redirect("portal:verify")
    today = timezone.localdate()
    values = {k: request.POST.get(k, "") for k in ("round", "amount", "student_name", "school", "reason")}
    context: dict[str, Any] = {"rounds": selectors.assistance_rounds_open(account, today), "values": values}
    if request.method == "POST":
        try:
            application = services.assistance_apply(
                account=account,
                round_id=values["round"],
                on=today,
                amount=values["amount"],
                student_name=values["student_name"],
                school=values["school"],
                reason=values["reason"],
                admission_letter=request.FILES.get("admission_letter"),
            )
        except ServiceError as exc:
            context |= _error_context(exc)
            return _render(request, "assistance_apply.html", context, status=400)
        messages.success(
            request,
            f"“{application.round.title}”申请已提交，由{application.org_unit.name}审核，结果会通知您。",
        )
        return redirect("portal:applications")
    return _render(request, "assistance_apply.html", context)


# --- the officers' side -------------------------------------------------------------------------


@login_required
def join_queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", JoinStatus.PENDING)
    if status not in JoinStatus.values and status != "":
        status = JoinStatus.PENDING
    paginator = Paginator(selectors.join_queue(request.user, status=status), 50)
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "portal/join_queue.html",
        {
            "page_obj": page_obj,
            "applications": page_obj.object_list,
            "status": status,
            "statuses": JoinStatus.choices,
            "can_decide": request.user.can("edit_registry"),
        },
    )


@login_required
@require_POST
def join_decide(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.can("edit_registry"):
        raise PermissionDenied("您的角色不能审批入会申请。")
    application = get_for_user(JoinApplication.objects.all(), request.user, pk=pk)
    try:
        services.join_decide(
            actor=request.user,
            application=application,
            action=request.POST.get("action", ""),
            reason=request.POST.get("reason", ""),
            version=request.POST.get("version") or None,
        )
        messages.success(request, "已处理该入会申请，职工会在网络工会收到通知。")
    except OutOfScope:
        raise Http404 from None
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("portal:join_queue")


@login_required
def staff_notices(request: HttpRequest) -> HttpResponse:
    """The officers' notices to workers: those of their own unit and below; publish one for their unit."""
    can_publish = request.user.can("edit_registry") and request.user.org_unit_id is not None
    values = {"title": request.POST.get("title", ""), "body": request.POST.get("body", "")}
    context: dict[str, Any] = {"values": values, "can_publish": can_publish}
    if request.method == "POST":
        if not can_publish:
            raise PermissionDenied("您的角色不能发布通知。")
        try:
            services.notice_publish(
                actor=request.user, org_unit=request.user.org_unit, title=values["title"], body=values["body"]
            )
        except ServiceError as exc:
            context["error"] = exc
        else:
            messages.success(request, "通知已发布，职工在网络工会“工会通知”中可以看到。")
            return redirect("portal:staff_notices")
    paginator = Paginator(selectors.staff_notice_list(request.user), 50)
    context["page_obj"] = paginator.get_page(request.GET.get("page"))
    return render(request, "portal/staff_notices.html", context, status=400 if "error" in context else 200)
