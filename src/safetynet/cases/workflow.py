"""The case workflow as one explicit table: which step may be taken in which status, and where it leads.

待受理 → 受理 → 办理中 → 办结 / 转出 (已办结); at any open status a level may hand the case up, an upper level
pull it up, a level send it back down — the case then waits (待受理) at its new level. A hazard report (隐患举报)
goes to 整改中 when a rectification is ordered and is verified: passed closes it, failed puts it back in hand.
A closed case may be followed up and, within 30 days, reopened; a merged case (已并案) lives on in its
collective case.

The table states only what the status allows. What else a step needs (the actor at the case's level, a
hazard rather than a dispute, a leader named for a collective case, the 30-day window) stays with the
service. The sweep's set-based steps (超期自动上交, 市级超期) move many cases in one statement and are not
taken through this table; they touch open cases only, like a hand-up.
"""

from __future__ import annotations

from safetynet.cases.models import OPEN_STATUSES, REOPEN_WINDOW_DAYS, CaseStatus, StepAction
from safetynet.core.workflow import Transition, TransitionTable

S = CaseStatus
A = StepAction

_OPEN = frozenset(OPEN_STATUSES)
_ALL = frozenset(S.values)

TABLE = TransitionTable(
    subject="案件",
    statuses=S,
    actions=A,
    transitions=(
        Transition(A.ACCEPT, frozenset({S.NEW}), (S.IN_PROGRESS,)),
        Transition(A.ASSIGN_LEADER, _OPEN, (), stays=True),
        Transition(
            A.MEDIATION_ATTEMPT,
            frozenset({S.IN_PROGRESS, S.RECTIFYING}),
            (),
            "案件尚未受理，请先受理",
            stays=True,
        ),
        Transition(A.RECTIFICATION, _OPEN, (S.RECTIFYING,)),
        Transition(
            A.VERIFY,
            frozenset({S.RECTIFYING}),
            (S.CLOSED, S.IN_PROGRESS),
            "只有正在整改的隐患举报才能核查",
        ),
        Transition(A.RESOLVE, _OPEN, (S.CLOSED,)),
        Transition(A.REFER_OUT, _OPEN, (S.CLOSED,)),
        Transition(A.HAND_UP, _OPEN, (S.NEW,)),
        Transition(A.PULL_UP, _OPEN, (S.NEW,)),
        Transition(A.SEND_DOWN, _OPEN, (S.NEW,)),
        Transition(A.MERGE, _OPEN, (S.MERGED,)),
        # Legal aid and attachments are records about the case, whatever its status.
        Transition(A.LEGAL_AID, _ALL, (), stays=True),
        Transition(A.ATTACH, _ALL, (), stays=True),
        Transition(A.FOLLOW_UP, frozenset({S.CLOSED}), (), "案件办结后才能回访", stays=True),
        Transition(A.REOPEN, frozenset({S.CLOSED}), (S.NEW,), "只有已办结的案件才能重新办理"),
    ),
    already={A.ACCEPT: frozenset({S.IN_PROGRESS, S.RECTIFYING})},
    # Every step a closed or merged case refuses says so first (the open-only steps need no refusal text).
    closed={
        S.CLOSED: f"该案件已办结，不能进行此操作；如协议未履行，可在办结后 {REOPEN_WINDOW_DAYS} 天内“重新办理”",
        S.MERGED: "该案件已并入集体争议，请在集体争议中办理",
    },
)
