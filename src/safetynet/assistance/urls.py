from django.urls import path

from safetynet.assistance import views

app_name = "assistance"
urlpatterns = [
    # hardship files
    path("files/", views.FileListView.as_view(), name="file_list"),
    path("files/export/", views.FileExportView.as_view(), name="file_export"),
    path("files/new/", views.FileCreateView.as_view(), name="file_create"),
    path("files/<int:pk>/", views.FileDetailView.as_view(), name="file_detail"),
    path("files/<int:pk>/review/", views.FileReviewView.as_view(), name="file_review"),
    path("files/<int:pk>/close/", views.FileCloseView.as_view(), name="file_close"),
    path("files/<int:pk>/evidence/", views.FileEvidenceView.as_view(), name="file_evidence"),
    path("files/<int:pk>/members/", views.FileMemberView.as_view(), name="file_member"),
    path("evidence/<int:pk>/", views.EvidenceDownloadView.as_view(), name="evidence_download"),
    # rounds
    path("rounds/", views.RoundListView.as_view(), name="round_list"),
    path("rounds/export/", views.RoundExportView.as_view(), name="round_export"),
    path("rounds/new/", views.RoundCreateView.as_view(), name="round_create"),
    path("rounds/<int:pk>/", views.RoundDetailView.as_view(), name="round_detail"),
    path("rounds/<int:pk>/close/", views.RoundCloseView.as_view(), name="round_close"),
    path("rounds/<int:pk>/budget/", views.RoundBudgetView.as_view(), name="round_budget"),
    path("rounds/<int:pk>/budget/export/", views.RoundExportBudgetView.as_view(), name="budget_export"),
    path(
        "rounds/<int:pk>/applications/export/",
        views.ApplicationExportView.as_view(),
        name="application_export",
    ),
    path("rounds/<int:pk>/apply/", views.RoundApplyView.as_view(), name="round_apply"),
    path("rounds/<int:pk>/batch/", views.RoundBatchView.as_view(), name="round_batch"),
    path("rounds/<int:pk>/notice/", views.RoundNoticeView.as_view(), name="round_notice"),
    path("rounds/<int:pk>/notice/start/", views.RoundNoticeStartView.as_view(), name="round_notice_start"),
    path("rounds/<int:pk>/notice/export/", views.RoundNoticeExportView.as_view(), name="notice_export"),
    # applications
    path("applications/<int:pk>/", views.ApplicationDetailView.as_view(), name="application_detail"),
    path("applications/<int:pk>/vote/", views.ApplicationVoteView.as_view(), name="application_vote"),
    path(
        "applications/<int:pk>/withdraw/",
        views.ApplicationWithdrawView.as_view(),
        name="application_withdraw",
    ),
    path(
        "applications/<int:pk>/notice/start/",
        views.ApplicationNoticeStartView.as_view(),
        name="application_notice_start",
    ),
    path(
        "applications/<int:pk>/notice/end/",
        views.ApplicationNoticeEndView.as_view(),
        name="application_notice_end",
    ),
    path("applications/<int:pk>/objections/", views.ObjectionCreateView.as_view(), name="objection_create"),
    path("objections/<int:pk>/resolve/", views.ObjectionResolveView.as_view(), name="objection_resolve"),
    path("review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("review/bulk/", views.ReviewBulkView.as_view(), name="review_bulk"),
    path("review/export/", views.ReviewExportView.as_view(), name="review_export"),
    # payments
    path("payments/", views.PaymentListView.as_view(), name="payment_list"),
    path("payments/export/", views.PaymentExportView.as_view(), name="payment_export"),
    path("payments/batches/new/", views.PaymentBatchCreateView.as_view(), name="batch_create"),
    path("payments/batches/<int:pk>/xlsx/", views.BatchDownloadView.as_view(), name="batch_download"),
    path("payments/batches/<int:pk>/paid/", views.BatchPaidView.as_view(), name="batch_paid"),
    path("payments/<int:pk>/reverse/", views.PaymentReverseView.as_view(), name="payment_reverse"),
    # loans
    path("loans/", views.LoanListView.as_view(), name="loan_list"),
    path("loans/export/", views.LoanExportView.as_view(), name="loan_export"),
    path("loans/new/", views.LoanCreateView.as_view(), name="loan_create"),
    path("loans/<int:pk>/", views.LoanDetailView.as_view(), name="loan_detail"),
    path("loans/<int:pk>/repay/", views.LoanRepayView.as_view(), name="loan_repay"),
    path("loans/<int:pk>/write-off/", views.LoanWriteOffRequestView.as_view(), name="loan_write_off"),
    path(
        "loans/<int:pk>/write-off/decide/",
        views.LoanWriteOffDecideView.as_view(),
        name="loan_write_off_decide",
    ),
    # member discount bases
    path("bases/", views.BaseListView.as_view(), name="base_list"),
    path("bases/export/", views.BaseExportView.as_view(), name="base_export"),
    path("bases/new/", views.BaseCreateView.as_view(), name="base_create"),
    path("bases/<int:pk>/edit/", views.BaseEditView.as_view(), name="base_edit"),
    path("bases/<int:pk>/end/", views.BaseEndView.as_view(), name="base_end"),
]
