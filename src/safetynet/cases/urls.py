from django.urls import path

from safetynet.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("intake/", views.IntakeView.as_view(), name="intake"),
    path("intake/enterprises/", views.EnterpriseSuggestView.as_view(), name="enterprise_suggest"),
    path("intake/duplicates/", views.DuplicateCheckView.as_view(), name="duplicates"),
    path("board/", views.BoardView.as_view(), name="board"),
    path("hazards/", views.HazardListView.as_view(), name="hazard_list"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("deadline-rules/", views.DeadlineRuleListView.as_view(), name="deadline_rules"),
    path("deadline-rules/new/", views.DeadlineRuleCreateView.as_view(), name="deadline_rule_create"),
    path("deadline-rules/<int:pk>/edit/", views.DeadlineRuleEditView.as_view(), name="deadline_rule_edit"),
    path(
        "deadline-rules/<int:pk>/delete/", views.DeadlineRuleDeleteView.as_view(), name="deadline_rule_delete"
    ),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("attachments/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
]
