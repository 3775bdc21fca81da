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
    path("<int:pk>/", views.CaseDetailView.as_view(), name="detail"),
    path("attachments/<int:pk>/", views.AttachmentView.as_view(), name="attachment"),
]
