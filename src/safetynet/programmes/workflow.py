"""The collective-contract workflow as one explicit table: which step may follow which status.

要约 → 协商 → 草案 → 上级工会预审（通过 / 退回）→ 职代会审议 → 签订 → 备案 → 生效 → 到期 / 续订.
Services ask :func:`check_step` before doing anything; a step out of order is refused with the reason
from the table, in Chinese, so the user knows what has to happen first.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from safetynet.core.errors import ServiceError
from safetynet.programmes.models import ContractAction as A
from safetynet.programmes.models import ContractStatus as S

# Filing with the human-resources and social-security bureau is due within 10 days of signing
# (集体合同规定 第42条); day 10 is still in time, day 11 is overdue.
FILING_DAYS = 10
# The bureau has 15 days from receiving the text to object (劳动合同法 第54条); the receipt day itself is not
# counted (民法典 第201条), so the last day to object is receipt + 15 and the contract is deemed effective the
# day after.
OBJECTION_DAYS = 15
# Expiry reminders are raised this many days ahead, so bargaining for the next term can start in time.
EXPIRY_REMINDER_DAYS = 60


@dataclass(frozen=True)
class Step:
    action: A
    sources: frozenset[S]
    targets: tuple[S, ...]
    # Why the step is refused when the contract is not in one of ``sources``.
    refusal: str


_BEFORE_SIGNING = frozenset(
    {S.OFFERED, S.BARGAINING, S.DRAFT, S.RETURNED, S.REVIEWED, S.VOTE_FAILED, S.APPROVED}
)

TRANSITIONS: dict[A, Step] = {
    step.action: step
    for step in (
        Step(
            A.START_BARGAINING,
            frozenset({S.OFFERED, S.RETURNED, S.VOTE_FAILED}),
            (S.BARGAINING,),
            "只有已发出要约、预审退回或职代会未通过的合同才能（重新）开始协商",
        ),
        Step(
            A.SUBMIT_DRAFT,
            frozenset({S.BARGAINING, S.RETURNED}),
            (S.DRAFT,),
            "合同尚未进入协商，不能提交草案预审",
        ),
        Step(A.PASS_REVIEW, frozenset({S.DRAFT}), (S.REVIEWED,), "合同草案尚未提交上级工会预审，不能预审"),
        Step(A.RETURN_REVIEW, frozenset({S.DRAFT}), (S.RETURNED,), "合同草案尚未提交上级工会预审，不能退回"),
        Step(
            A.RECORD_VOTE,
            frozenset({S.REVIEWED, S.VOTE_FAILED}),
            (S.APPROVED, S.VOTE_FAILED),
            "合同草案尚未经上级工会预审通过，不能提交职代会审议",
        ),
        Step(A.SIGN, frozenset({S.APPROVED}), (S.SIGNED,), "合同尚未经职代会审议通过，不能签订"),
        Step(A.FILE, frozenset({S.SIGNED}), (S.FILED,), "合同尚未签订，不能报送备案"),
        Step(
            A.BUREAU_OBJECTION,
            frozenset({S.FILED}),
            (S.BARGAINING,),
            "合同尚未报送备案，不能登记人社部门异议",
        ),
        Step(A.TAKE_EFFECT, frozenset({S.FILED}), (S.IN_FORCE,), "合同尚未报送备案，不能生效"),
        Step(
            A.EXPIRE,
            frozenset({S.SIGNED, S.FILED, S.IN_FORCE}),
            (S.EXPIRED,),
            "合同尚未签订或已终止，不能登记到期",
        ),
        Step(
            A.RENEW,
            frozenset({S.FILED, S.IN_FORCE, S.EXPIRED}),
            (S.RENEWED,),
            "只有已备案、生效中或已到期的合同才能续订",
        ),
        Step(A.WITHDRAW, _BEFORE_SIGNING, (S.WITHDRAWN,), "合同已签订，不能终止协商"),
    )
}

# Statuses reached after a step, so a refusal can also say "already done".
_ALREADY = {
    A.SIGN: frozenset({S.SIGNED, S.FILED, S.IN_FORCE, S.EXPIRED, S.RENEWED}),
    A.FILE: frozenset({S.FILED, S.IN_FORCE, S.EXPIRED, S.RENEWED}),
}


def check_step(status: str, action: A) -> Step:
    """The step if ``action`` may follow ``status``; otherwise a ServiceError saying why not."""
    step = TRANSITIONS[action]
    if status in step.sources:
        return step
    label = S(status).label
    if status in _ALREADY.get(action, ()):
        reason = f"合同已{A(action).label}，不能重复{A(action).label}"
    elif status == S.WITHDRAWN:
        reason = "合同协商已终止，不能继续办理"
    else:
        reason = step.refusal
    raise ServiceError("step_out_of_order", f"{reason}（当前状态：{label}）。")


def allowed_actions(status: str) -> list[A]:
    """The steps that may follow ``status``, in workflow order (for buttons on the contract page)."""
    return [action for action, step in TRANSITIONS.items() if status in step.sources]


def vote_passes(*, total: int, attended: int, votes_for: int) -> bool:
    """A congress adopts an item when at least two thirds of all representatives attend and more than
    half of ALL representatives (not of those present) vote for it. Integer arithmetic: no rounding."""
    return total > 0 and 3 * attended >= 2 * total and 2 * votes_for > total


def filing_due(signed_on: datetime.date) -> datetime.date:
    return signed_on + datetime.timedelta(days=FILING_DAYS)


def objection_deadline(filed_on: datetime.date) -> datetime.date:
    return filed_on + datetime.timedelta(days=OBJECTION_DAYS)


def deemed_effective(filed_on: datetime.date) -> datetime.date:
    return objection_deadline(filed_on) + datetime.timedelta(days=1)
