from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from safetynet.accounts.models import Role
from safetynet.accounts.selectors import grantable_roles
from safetynet.orgs.models import OrgUnit


class LoginForm(AuthenticationForm):
    """Django's login form with Chinese labels and messages."""

    error_messages = {
        "invalid_login": _("账号或密码不正确。请注意密码区分大小写。"),
        "inactive": _("该账号已停用，请联系本单位管理员。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("账号")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("账号、姓名或单位"), required=False)
    role = forms.ChoiceField(label=_("角色"), required=False)
    active = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), ("1", _("在用")), ("0", _("已停用"))],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("全部角色")), *Role.choices]

    def selector_kwargs(self) -> dict[str, Any]:
        self.is_valid()  # an unusable value is ignored, not an error
        data = self.cleaned_data
        return {
            "q": data.get("q", "").strip(),
            "role": data.get("role", ""),
            "active": {"1": True, "0": False}.get(data.get("active", "")),
        }


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        indent = "　" * max(obj.path.count("/") - 1 - self.top_depth, 0)
        return f"{indent}{obj.name}（{obj.code}）"

    top_depth = 0


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label=_("登录账号"),
        max_length=150,
        help_text=_("字母、数字或 @ . + - _，登录时使用，创建后不能修改。"),
    )
    full_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    org_unit = UnitChoiceField(
        label=_("所属单位"), queryset=OrgUnit.objects.none(), empty_label=_("——请选择——")
    )
    role = forms.ChoiceField(label=_("角色"))
    password = forms.CharField(
        label=_("初始密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，也不能与账号相近。请当面或电话告知本人。"),
    )
    password_again = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = OrgUnit.objects.visible_to(user).order_by("path")
        field = self.fields["org_unit"]
        field.queryset = units
        own = getattr(user, "org_unit", None)
        field.top_depth = own.path.count("/") - 1 if own is not None else 0
        if own is not None and not self.is_bound:
            self.initial.setdefault("org_unit", own.pk)
        self.fields["role"].choices = [("", _("——请选择——")), *grantable_roles(user)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("两次输入的密码不一致，请重新输入。"))
        return data


class OneTimeCodeForm(forms.Form):
    """The 6-digit code an authenticator app shows."""

    token = forms.CharField(
        label=_("动态口令"),
        max_length=20,
        help_text=_("打开手机上的验证器应用，输入“职工维权安全网”下当前显示的 6 位数字。"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "maxlength": "20",
                "placeholder": "123456",
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字，不能是常见密码，也不能与账号或姓名相近。"),
    )
    new_password_again = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        new, again = data.get("new_password"), data.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", _("两次输入的新密码不一致，请重新输入。"))
        return data
