"""The collective-contract workflow as one explicit table: which step may follow which status.

要约 → 协商 → 草案 → 上级工会预审（通过 / 退回）→ 职代会审议 → 签订 → 备案 → 生效 → 到期 / 续订.
The table is a :class:`core.workflow.TransitionTable`; services take each step through
:func:`core.workflow.transition_run`, which asks it before doing anything; a step out of order is refused
with the reason from the table, in Chinese, so the user knows what has to happen first.
"""

from __future__ import annotations

import datetime

from safetynet.core.workflow import Transition, TransitionTable
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


# The step type of the table (kept under its old name for callers).
Step = Transition

_BEFORE_SIGNING = frozenset(
    {S.OFFERED, S.BARGAINING, S.DRAFT, S.RETURNED, S.REVIEWED, S.VOTE_FAILED, S.APPROVED}
)

TABLE = TransitionTable(
    subject="合同",
    statuses=S,
    actions=A,
    code="step_out_of_order",
    transitions=(
        Transition(
            A.START_BARGAINING,
            frozenset({S.OFFERED, S.RETURNED, S.VOTE_FAILED}),
            (S.BARGAINING,),
            "只有已发出要约、预审退回或职代会未通过的合同才能（重新）开始协商",
        ),
        Transition(
            A.SUBMIT_DRAFT,
            frozenset({S.BARGAINING, S.RETURNED}),
            (S.DRAFT,),
            "合同尚未进入协商，不能提交草案预审",
        ),
        Transition(
            A.PASS_REVIEW, frozenset({S.DRAFT}), (S.REVIEWED,), "合同草案尚未提交上级工会预审，不能预审"
        ),
        Transition(
            A.RETURN_REVIEW, frozenset({S.DRAFT}), (S.RETURNED,), "合同草案尚未提交上级工会预审，不能退回"
        ),
        Transition(
            A.RECORD_VOTE,
            frozenset({S.REVIEWED, S.VOTE_FAILED}),
            (S.APPROVED, S.VOTE_FAILED),
            "合同草案尚未经上级工会预审通过，不能提交职代会审议",
        ),
        Transition(A.SIGN, frozenset({S.APPROVED}), (S.SIGNED,), "合同尚未经职代会审议通过，不能签订"),
        Transition(A.FILE, frozenset({S.SIGNED}), (S.FILED,), "合同尚未签订，不能报送备案"),
        Transition(
            A.BUREAU_OBJECTION,
            frozenset({S.FILED}),
            (S.BARGAINING,),
            "合同尚未报送备案，不能登记人社部门异议",
        ),
        Transition(A.TAKE_EFFECT, frozenset({S.FILED}), (S.IN_FORCE,), "合同尚未报送备案，不能生效"),
        Transition(
            A.EXPIRE,
            frozenset({S.SIGNED, S.FILED, S.IN_FORCE}),
            (S.EXPIRED,),
            "合同尚未签订或已终止，不能登记到期",
        ),
        Transition(
            A.RENEW,
            frozenset({S.FILED, S.IN_FORCE, S.EXPIRED}),
            (S.RENEWED,),
            "只有已备案、生效中或已到期的合同才能续订",
        ),
        Transition(A.WITHDRAW, _BEFORE_SIGNING, (S.WITHDRAWN,), "合同已签订，不能终止协商"),
    ),
    # Statuses reached after a step, so a refusal can also say "already done".
    already={
        A.SIGN: frozenset({S.SIGNED, S.FILED, S.IN_FORCE, S.EXPIRED, S.RENEWED}),
        A.FILE: frozenset({S.FILED, S.IN_FORCE, S.EXPIRED, S.RENEWED}),
    },
    closed={S.WITHDRAWN: "合同协商已终止，不能继续办理"},
)

# action → its step, in workflow order (kept for callers that read the table directly).
TRANSITIONS: dict[str, Transition] = TABLE.transitions


def check_step(status: str, action: A) -> Transition:
    """The step if ``action`` may follow ``status``; otherwise a ServiceError saying why not."""
    return TABLE.check(status, action)


def allowed_actions(status: str) -> list[A]:
    """The steps that may follow ``status``, in workflow order (for buttons on the contract page)."""
    return [A(action) for action in TABLE.allowed(status)]


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
