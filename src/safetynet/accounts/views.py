from __future__ import annotations

import base64
import datetime
from typing import Any

import segno
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from safetynet.accounts import selectors, services
from safetynet.accounts.forms import (
    LoginForm,
    OneTimeCodeForm,
    PasswordChangeForm,
    StaffCreateForm,
    StaffFilterForm,
)
from safetynet.accounts.middleware import OWE_CODE, OWE_ENROLMENT, SECOND_FACTOR_OWED
from safetynet.accounts.models import Capability, User
from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.scope import get_for_user
from safetynet.core.views_base import StaffView

STAFF_PAGE_SIZE = 50
# The secret of a device being enrolled lives in the session until the user confirms it with a code.
ENROL_KEY_SESSION = "safetynet_totp_enrol_key"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["session_expired"] = self.request.method == "GET" and _session_expired(self.request)
        return context


def _session_expired(request: HttpRequest) -> bool:
    """The browser still sends a session cookie the server no longer knows: signed out for inactivity."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    request.session.keys()  # loads the session; an expired one comes back empty and without a key
    return request.session.session_key is None


login = LoginView.as_view()
logout = auth_views.LogoutView.as_view()


def _safe_next(request: HttpRequest, fallback: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def lockout_message(request: Any) -> str:
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    started = getattr(request, "axes_attempt_time", None) or timezone.now()
    minutes = max(1, round(cool_off.total_seconds() / 60))
    until = timezone.localtime(started + cool_off).strftime("%H:%M")
    return _(
        "登录失败次数过多，账号已暂时锁定，请于 %(minutes)s 分钟后（%(until)s 后）再试。"
        "如非本人操作，请联系本单位管理员。"
    ) % {"minutes": minutes, "until": until}


def lockout_response(
    request: Any, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """What django-axes answers a locked-out login (AXES_LOCKOUT_CALLABLE): the login page, with when to
    try again, or the API's error body for the token endpoint."""
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "locked_out", "detail": message, "field": None}, status=429)
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    context = {
        "form": LoginForm(request, initial={"username": username}),
        "lockout_message": message,
        "next": _safe_next(request, ""),
    }
    return render(request, "accounts/login.html", context, status=429)


class OtpVerifyView(LoginRequiredMixin, View):
    """The login's second step: the code of the user's authenticator app."""

    def get(self, request: HttpRequest) -> HttpResponse:
        device = services.second_factor_device(request.user)
        if device is None or request.user.is_verified():
            return self._nothing_owed(request)
        return self._render(request, OneTimeCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        device = services.second_factor_device(request.user)
        if device is None or request.user.is_verified():
            return self._nothing_owed(request)
        form = OneTimeCodeForm(request.POST)
        if form.is_valid():
            allowed, details = device.verify_is_allowed()
            token = services.clean_code_digits(form.cleaned_data["token"])
            if not allowed:
                wait = _throttle_seconds(details)
                form.add_error(
                    "token", _("动态口令错误次数过多，请 %(seconds)s 秒后再试。") % {"seconds": wait}
                )
            elif verify_token(request.user, device.persistent_id, token) is not None:
                otp_login(request, device)
                request.session[SECOND_FACTOR_OWED] = ""
                services.login_event_record(
                    action=AuditAction.LOGIN, username=request.user.get_username(), note="动态口令正确"
                )
                return HttpResponseRedirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))
            else:
                services.login_event_record(
                    action=AuditAction.LOGIN_FAILED,
                    username=request.user.get_username(),
                    note="动态口令不正确",
                )
                form.add_error(
                    "token",
                    _(
                        "动态口令不正确：请输入验证器应用当前显示的 6 位数字（每 30 秒更新）；手机时间须准确。"
                    ),
                )
        return self._render(request, form, status=400)

    @staticmethod
    def _nothing_owed(request: HttpRequest) -> HttpResponse:
        """Already verified, or the device was reset by a manager meanwhile: then an enrolment may be owed."""
        if request.session.get(SECOND_FACTOR_OWED) == OWE_CODE and not request.user.is_verified():
            required = services.second_factor_required(request.user)
            request.session[SECOND_FACTOR_OWED] = OWE_ENROLMENT if required else ""
        return HttpResponseRedirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))

    @staticmethod
    def _render(request: HttpRequest, form: OneTimeCodeForm, status: int = 200) -> HttpResponse:
        return render(
            request,
            "accounts/otp_verify.html",
            {"form": form, "next": _safe_next(request, "")},
            status=status,
        )


def _throttle_seconds(details: dict | None) -> int:
    until = (details or {}).get("locked_until")
    if until is None:
        return 1
    return max(1, int((until - timezone.now()).total_seconds()) + 1)


class OtpSetupView(LoginRequiredMixin, View):
    """账号安全 · 动态口令: enrol an authenticator app (QR code + confirming code), or stop using it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, OneTimeCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        device = services.second_factor_device(request.user)
        form = OneTimeCodeForm(request.POST)
        if request.POST.get("action") == "remove":
            return self._remove(request, device, form)
        key = request.session.get(ENROL_KEY_SESSION)
        if device is not None or not key:
            return HttpResponseRedirect(reverse("accounts:otp_setup"))
        if form.is_valid():
            try:
                device = services.second_factor_enrol(
                    actor=request.user, user=request.user, key=key, token=form.cleaned_data["token"]
                )
            except ServiceError as error:
                form.add_error("token" if error.field == "token" else None, error.message)
            else:
                del request.session[ENROL_KEY_SESSION]
                # The code just given proves the second factor for this session too.
                otp_login(request, device)
                request.session[SECOND_FACTOR_OWED] = ""
                messages.success(
                    request, _("已启用动态口令。以后登录时，输入密码后还须输入验证器显示的动态口令。")
                )
                return HttpResponseRedirect(_safe_next(request, reverse("accounts:otp_setup")))
        return self._render(request, form, status=400)

    def _remove(self, request: HttpRequest, device: TOTPDevice | None, form: OneTimeCodeForm) -> HttpResponse:
        if device is None:
            return HttpResponseRedirect(reverse("accounts:otp_setup"))
        if services.second_factor_required(request.user):
            messages.error(
                request, _("市级管理员必须使用动态口令，不能停用；更换手机请联系其他市级管理员重置。")
            )
            return HttpResponseRedirect(reverse("accounts:otp_setup"))
        # Stopping it needs a current code: a borrowed, unlocked session alone cannot switch it off.
        if form.is_valid() and verify_token(
            request.user, device.persistent_id, services.clean_code_digits(form.cleaned_data["token"])
        ):
            services.second_factor_remove(actor=request.user, user=request.user)
            messages.success(request, _("已停用动态口令，以后登录只需密码。"))
            return HttpResponseRedirect(reverse("accounts:otp_setup"))
        if form.is_valid():
            form.add_error("token", _("动态口令不正确，未停用。请输入验证器当前显示的 6 位数字。"))
        return self._render(request, form, status=400)

    def _render(self, request: HttpRequest, form: OneTimeCodeForm, status: int = 200) -> HttpResponse:
        device = services.second_factor_device(request.user)
        context: dict[str, Any] = {
            "form": form,
            "device": device,
            "required": services.second_factor_required(request.user),
            "next": _safe_next(request, ""),
        }
        if device is None:
            key = request.session.get(ENROL_KEY_SESSION)
            if not key:
                key = request.session[ENROL_KEY_SESSION] = random_hex(20)
            # An unsaved device only to build the otpauth:// address from the pending secret.
            uri = TOTPDevice(user=request.user, key=key, step=services.TOTP_STEP, digits=services.TOTP_DIGITS)
            context["otpauth_uri"] = uri.config_url
            context["qr_svg"] = segno.make(uri.config_url, error="m").svg_inline(
                scale=4, border=2, title=_("动态口令二维码")
            )
            secret = base64.b32encode(bytes.fromhex(key)).decode()
            context["secret_groups"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        return render(request, "accounts/otp_setup.html", context, status=status)


class PasswordChangeView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/password_change.html", {"form": PasswordChangeForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.password_change(
                    actor=request.user,
                    user=request.user,
                    old_password=data["old_password"],
                    new_password=data["new_password"],
                )
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                # Keeps this session signed in (its hash follows the password); other sessions end.
                update_session_auth_hash(request, request.user)
                messages.success(request, _("密码已修改。其他设备上的登录已失效。"))
                return HttpResponseRedirect(reverse(settings.LOGIN_REDIRECT_URL))
        return render(request, "accounts/password_change.html", {"form": form}, status=400)


otp_verify = OtpVerifyView.as_view()
otp_setup = OtpSetupView.as_view()
password_change = PasswordChangeView.as_view()


class StaffListView(StaffView):
    """人员账号: the accounts in the user's subtree, with search and (de)activation."""

    capability = Capability.MANAGE_STAFF

    def get(self, request: HttpRequest) -> HttpResponse:
        form = StaffFilterForm(request.GET or None, user=request.user)
        staff = selectors.staff_list(request.user, **(form.selector_kwargs() if form.is_bound else {}))
        page_obj = Paginator(staff, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
        filtered = any(request.GET.get(name) for name in ("q", "role", "active"))
        return render(
            request,
            "accounts/staff_list.html",
            {"form": form, "page_obj": page_obj, "staff": page_obj.object_list, "filtered": filtered},
        )


class StaffCreateView(StaffView):
    capability = Capability.MANAGE_STAFF

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/staff_form.html", {"form": StaffCreateForm(user=request.user)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StaffCreateForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = services.staff_create(
                    actor=request.user,
                    username=data["username"],
                    password=data["password"],
                    org_unit=data["org_unit"],
                    role=data["role"],
                    full_name=data["full_name"],
                )
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _("已创建账号“%(username)s”（%(unit)s · %(role)s）。")
                    % {"username": user.username, "unit": user.org_unit, "role": user.get_role_display()},
                )
                return HttpResponseRedirect(reverse("accounts:staff_list"))
        return render(request, "accounts/staff_form.html", {"form": form}, status=400 if form.errors else 200)


class StaffSetActiveView(StaffView):
    """POST ``active=0`` to deactivate, ``active=1`` to reactivate; another unit's account answers 404."""

    capability = Capability.MANAGE_STAFF
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = get_for_user(User, request.user, pk=pk)
        is_active = request.POST.get("active") == "1"
        try:
            services.staff_set_active(actor=request.user, user=target, is_active=is_active)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            if is_active:
                messages.success(request, _("已启用账号“%(username)s”。") % {"username": target.username})
            else:
                messages.success(
                    request, _("已停用账号“%(username)s”，该账号不能再登录。") % {"username": target.username}
                )
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("accounts:staff_list")
        return HttpResponseRedirect(next_url)


staff_list = StaffListView.as_view()
staff_create = StaffCreateView.as_view()
staff_set_active = StaffSetActiveView.as_view()


class StaffSecondFactorResetView(StaffView):
    """A staff member lost their phone: their manager removes the device; they enrol again at next login."""

    capability = Capability.MANAGE_STAFF
    http_method_names = ["post"]
    model = User  # what ``pk`` names (read by the scope walk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = get_for_user(User, request.user, pk=pk)
        try:
            removed = services.second_factor_remove(
                actor=request.user, user=target, note="管理员重置动态口令（更换或遗失手机）"
            )
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            if removed:
                messages.success(
                    request,
                    _("已重置账号“%(username)s”的动态口令，本人下次登录后可重新启用。")
                    % {"username": target.username},
                )
            else:
                messages.info(
                    request, _("账号“%(username)s”未启用动态口令。") % {"username": target.username}
                )
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("accounts:staff_list")
        return HttpResponseRedirect(next_url)


staff_second_factor_reset = StaffSecondFactorResetView.as_view()
