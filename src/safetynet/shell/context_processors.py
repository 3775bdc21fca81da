"""What the staff shell needs on every page: the menu the role may use, the user's unit and role,
and the choices of the top-bar unit picker. Pages read ``?unit=`` themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from safetynet.accounts.models import Capability
from safetynet.orgs.models import OrgUnit


@dataclass
class MenuItem:
    label: str | Promise
    url: str = ""
    active: bool = False
    # A module that is planned but not built yet: shown greyed, not a link.
    later: bool = False


@dataclass
class MenuSection:
    label: str | Promise
    icon: str
    items: list[MenuItem] = field(default_factory=list)
    url: str = ""
    active: bool = False
    later: bool = False


# (section label, icon letter, section URL name or None, capability or None, items, later)
# items: (label, URL name, capability or None)
MENU: list[tuple[Any, str, str | None, str | None, list[tuple[Any, str, str | None]], bool]] = [
    (_("工作台"), "台", "shell:home", None, [], False),
    (
        _("组织建设"),
        "组",
        None,
        None,
        [
            (_("组织树"), "orgs:tree", None),
            (_("企业"), "orgs:enterprise_list", None),
            (_("工会"), "orgs:union_list", None),
        ],
        False,
    ),
    (
        _("会员管理"),
        "会",
        None,
        None,
        [
            (_("职工查询"), "members:person_search", None),
            (_("会员名册"), "members:roster_list", None),
            (_("会员服务卡"), "members:card_list", None),
        ],
        False,
    ),
    (
        _("建制工作"),
        "建",
        None,
        None,
        [
            (_("集体合同"), "programmes:contract_list", None),
            (_("待我预审"), "programmes:review_queue", None),
            (_("建制缺项清单"), "programmes:worklist", None),
            (_("职代会与厂务公开"), "programmes:system_list", None),
            (_("职工服务站"), "programmes:station_list", None),
            (_("安全生产"), "programmes:safety", None),
        ],
        False,
    ),
    (
        _("诉求调处"),
        "诉",
        None,
        None,
        [
            (_("受理登记"), "cases:intake", None),
            (_("本级待办"), "cases:queue", None),
            (_("市级督办"), "cases:board", None),
            (_("隐患举报"), "cases:hazard_list", None),
            (_("站内通知"), "cases:notifications", None),
            (_("办理期限规则"), "cases:deadline_rules", None),
        ],
        False,
    ),
    (
        _("信息报送与预警"),
        "警",
        None,
        None,
        [
            (_("待报送"), "reporting:filing", None),
            (_("报送情况"), "reporting:overview", None),
            (_("瞒报线索"), "reporting:concealment", None),
            (_("预警信息"), "reporting:warning_list", None),
            (_("突发事件"), "reporting:incident_list", None),
            (_("企业风险等级"), "reporting:risk_list", None),
            (_("职工人数比对"), "reporting:headcounts", None),
            (_("报表设计"), "reporting:form_list", None),
        ],
        False,
    ),
    (
        _("服务帮扶"),
        "帮",
        None,
        None,
        [
            (_("困难职工档案"), "assistance:file_list", None),
            (_("帮扶活动"), "assistance:round_list", None),
            (_("待我审核"), "assistance:review_queue", None),
            (_("资金发放"), "assistance:payment_list", None),
            (_("无息借款"), "assistance:loan_list", None),
            (_("会员服务基地"), "assistance:base_list", None),
        ],
        False,
    ),
    (
        _("网络工会"),
        "网",
        None,
        None,
        [(_("入会申请"), "portal:join_queue", None), (_("网络工会公告"), "portal:staff_notices", None)],
        False,
    ),
    (
        _("企业评价与典型"),
        "评",
        None,
        None,
        [
            (_("和谐指数"), "harmony:index_list", None),
            (_("劳模与先进集体"), "exemplars:honour_list", None),
            (_("创新工作室"), "exemplars:studio_list", None),
            (_("劳动和技能竞赛"), "exemplars:competition_list", None),
            (_("走访记录"), "visits:visit_list", None),
        ],
        False,
    ),
    (
        _("目标考核"),
        "标",
        None,
        None,
        [
            (_("目标分解"), "indicators:targets", None),
            (_("考核方案"), "assessment:scheme_list", None),
            (_("考核得分"), "assessment:score_board", None),
            (_("目标责任状"), "assessment:letter_list", None),
        ],
        False,
    ),
    (
        _("数据导入导出"),
        "数",
        None,
        Capability.IMPORT,
        [(_("导入数据"), "imports:job_list", Capability.IMPORT)],
        False,
    ),
    (
        _("系统管理"),
        "系",
        None,
        None,
        [
            (_("人员账号"), "accounts:staff_list", Capability.MANAGE_STAFF),
            (_("变更记录"), "shell:audit_list", Capability.VIEW_AUDIT),
            (_("API 文档"), "api-docs", None),
        ],
        False,
    ),
]


def _reverse(name: str) -> str:
    # Another area may not have its pages yet; the shell renders without that link rather than fail.
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _is_active(url: str, path: str) -> bool:
    if not url:
        return False
    if url == "/":
        return path == "/"
    return path.startswith(url)


def build_menu(user: Any, path: str) -> list[MenuSection]:
    sections: list[MenuSection] = []
    for label, icon, url_name, capability, items, later in MENU:
        if capability and not user.can(capability):
            continue
        section = MenuSection(label=label, icon=icon, later=later)
        if later:
            sections.append(section)
            continue
        if url_name:
            section.url = _reverse(url_name)
            if not section.url:
                continue
            section.active = _is_active(section.url, path)
        for item_label, item_url_name, item_capability in items:
            if item_capability and not user.can(item_capability):
                continue
            url = _reverse(item_url_name)
            if url:
                section.items.append(MenuItem(label=item_label, url=url, active=_is_active(url, path)))
        # Only the most specific match is current (/orgs/enterprises/… is 企业, not also 组织树 at /orgs/).
        matching = [i for i in section.items if i.active]
        for item in matching:
            item.active = item is max(matching, key=lambda i: len(i.url))
        if section.items or section.url:
            section.active = section.active or any(i.active for i in section.items)
            sections.append(section)
        elif items:
            # None of its pages is installed yet: shown greyed as "coming", like the planned modules.
            section.later = True
            sections.append(section)
    return sections


def unit_picker(user: Any, selected_pk: str) -> tuple[list[dict[str, Any]], OrgUnit | None]:
    """The user's own unit and its children (for a superuser without unit: the top units and theirs);
    plus the unit ``?unit=`` names, when the user may see it, even if it sits deeper."""
    own = getattr(user, "org_unit", None)
    if own is not None:
        tops = [own]
    else:
        tops = list(OrgUnit.objects.visible_to(user).filter(parent__isnull=True).order_by("code"))
    children = list(OrgUnit.objects.filter(parent__in=tops).order_by("path", "code"))
    selected: OrgUnit | None = None
    if selected_pk.isdigit():
        selected = OrgUnit.objects.visible_to(user).filter(pk=int(selected_pk)).first()
    options: list[dict[str, Any]] = []
    for top in tops:
        options.append({"pk": top.pk, "label": top.name, "depth": 0, "own": top == own})
        options.extend(
            {"pk": c.pk, "label": c.name, "depth": 1, "own": False} for c in children if c.parent_id == top.pk
        )
    if selected is not None and all(o["pk"] != selected.pk for o in options):
        options.append({"pk": selected.pk, "label": selected.name, "depth": 2, "own": False})
    return options, selected


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    options, selected = unit_picker(user, request.GET.get("unit", ""))
    return {
        "staff_unit": getattr(user, "org_unit", None),
        "staff_role": gettext(user.get_role_display())
        if getattr(user, "org_unit_id", None) or not user.is_superuser
        else _("系统管理员"),
        "menu": build_menu(user, request.path),
        "unit_options": options,
        "selected_unit": selected,
    }
