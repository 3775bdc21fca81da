from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from safetynet.accounts import selectors, services
from safetynet.accounts.forms import LoginForm, StaffCreateForm, StaffFilterForm
from safetynet.accounts.models import Capability, User
from safetynet.core.errors import ServiceError
from safetynet.core.scope import get_for_user
from safetynet.core.views_base import StaffView

STAFF_PAGE_SIZE = 50

login = auth_views.LoginView.as_view(
    template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
)
logout = auth_views.LogoutView.as_view()


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
