"""网络工会（职工服务平台）: the records of this area.

Workers are not staff: a :class:`WorkerAccount` is its own audience (mobile number + password), never an
``accounts.User``. Its mobile number is held like the registry's personal data (encrypted, keyed hash, masked).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet


class WorkerAccount(models.Model):
    """A worker's own account on the platform. Linked to a registry person once real-name matching passed."""

    SCOPE_PATH = "org_unit__path"

    mobile_hash = models.CharField("手机号检索码", max_length=64, unique=True, editable=False)
    mobile_encrypted = models.TextField("手机号（加密）", editable=False)
    mobile_masked = models.CharField("手机号", max_length=20, editable=False)
    password = models.CharField("密码", max_length=128, editable=False)
    person = models.ForeignKey(
        "members.Person",
        verbose_name="实名职工",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField("实名认证时间", null=True, blank=True)
    # The unit of the person's enterprise when verified: what the metrics count the account under.
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="所属区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        verbose_name="所在企业",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    consent_version = models.CharField("隐私告知版本", max_length=20, blank=True)
    consent_at = models.DateTimeField("同意时间", null=True, blank=True)
    consent_withdrawn_at = models.DateTimeField("撤回同意时间", null=True, blank=True)
    is_active = models.BooleanField("有效", default=True)
    # Bumped when the password changes or consent is withdrawn: every session and API token of the account ends.
    session_version = models.PositiveIntegerField("会话版本", default=1)
    created_at = models.DateTimeField("注册时间")
    last_login_at = models.DateTimeField("最近登录", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "职工账号"
        verbose_name_plural = "职工账号"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One account per registry person.
            models.UniqueConstraint(
                fields=["person"], condition=Q(person__isnull=False), name="workeraccount_one_per_person"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="workeraccount_created_idx")]

    def __str__(self) -> str:
        return self.mobile_masked

    @property
    def is_verified(self) -> bool:
        return self.person_id is not None


class SmsPurpose(models.TextChoices):
    REGISTER = "register", "注册"
    RESET = "reset", "重置密码"


class SmsCode(models.Model):
    """A one-time code sent to a mobile number: hashed, short-lived, few attempts."""

    mobile_hash = models.CharField(max_length=64)
    purpose = models.CharField(max_length=10, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [models.Index(fields=["mobile_hash", "purpose", "-created_at"], name="smscode_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class JoinStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"
    WITHDRAWN = "withdrawn", "已撤回"


class JoinAction(models.TextChoices):
    APPROVE = "approve", "批准"
    REJECT = "reject", "不批准"
    WITHDRAW = "withdraw", "撤回"


class JoinApplication(models.Model):
    """A worker's application to join the union covering their enterprise; the union's chair decides."""

    SCOPE_PATH = "union__org_unit__path"

    account = models.ForeignKey(WorkerAccount, on_delete=models.CASCADE, related_name="join_applications")
    person = models.ForeignKey("members.Person", on_delete=models.PROTECT, related_name="+")
    union = models.ForeignKey("orgs.GrassrootsUnion", verbose_name="申请加入的工会", on_delete=models.PROTECT)
    enterprise = models.ForeignKey("orgs.Enterprise", verbose_name="所在企业", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=10, choices=JoinStatus.choices, default=JoinStatus.PENDING)
    reason = models.CharField("理由", max_length=200, blank=True)
    created_at = models.DateTimeField("申请时间")
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    membership = models.ForeignKey(
        "members.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "入会申请"
        verbose_name_plural = "入会申请"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="joinapplication_one_pending"
            ),
        ]
        indexes = [models.Index(fields=["union", "status"], name="joinapplication_queue_idx")]

    def __str__(self) -> str:
        return f"入会申请 {self.pk}"


class Notice(models.Model):
    """A union notice published to workers (of the publishing unit and below)."""

    SCOPE_PATH = "org_unit__path"

    org_unit = models.ForeignKey("orgs.OrgUnit", verbose_name="发布单位", on_delete=models.PROTECT)
    title = models.CharField("标题", max_length=100)
    body = models.TextField("内容")
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "工会通知"
        verbose_name_plural = "工会通知"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class WorkerNotification(models.Model):
    """An in-platform message to one worker."""

    account = models.ForeignKey(WorkerAccount, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField("内容", max_length=300)
    link = models.CharField("链接", max_length=200, blank=True)
    created_at = models.DateTimeField("时间")
    read = models.BooleanField("已读", default=False)

    class Meta:
        verbose_name = "职工通知"
        verbose_name_plural = "职工通知"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "read", "-created_at"], name="workernotification_inbox_idx")
        ]

    def __str__(self) -> str:
        return self.text


class AppealMessage(models.Model):
    """A message a worker adds to their own appeal (the case's timeline belongs to the cases app)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(WorkerAccount, on_delete=models.CASCADE, related_name="+")
    text = models.TextField("留言")
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "诉求留言"
        verbose_name_plural = "诉求留言"
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return self.text[:30]


class AppealRating(models.Model):
    """The worker's rating of a closed appeal's outcome (1–5)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(WorkerAccount, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField("满意度")
    comment = models.CharField("评价", max_length=300, blank=True)
    created_at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "诉求评价"
        verbose_name_plural = "诉求评价"
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="appealrating_score_range")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"


class SweepMark(models.Model):
    """How far a sweep of this app has read (the last id it handled)."""

    name = models.CharField(max_length=50, unique=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_id}"


class AssistanceNoticeEvent(models.TextChoices):
    APPROVED = "approved", "审核通过"
    REJECTED = "rejected", "未通过审核"
    PAID = "paid", "已发放"


class AssistanceNotice(models.Model):
    """The marker of the sweep ``portal_assistance_decisions``: this worker was told that this application
    reached this stage (one row each, so a second run tells nobody twice)."""

    application = models.ForeignKey(
        "assistance.Application", on_delete=models.CASCADE, related_name="+", verbose_name="帮扶申请"
    )
    event = models.CharField("节点", max_length=10, choices=AssistanceNoticeEvent.choices)
    notified_at = models.DateTimeField("通知时间")

    class Meta:
        verbose_name = "帮扶进度通知记录"
        verbose_name_plural = "帮扶进度通知记录"
        constraints = [
            models.UniqueConstraint(fields=["application", "event"], name="portal_assistance_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.event}"
