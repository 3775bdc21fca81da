from django.urls import path
from django.views.generic import RedirectView

from safetynet.members import views

app_name = "members"
urlpatterns = [
    # The search has its own prefix so the menu marks only it as current (it matches by URL prefix).
    path("", RedirectView.as_view(pattern_name="members:person_search"), name="index"),
    path("persons/", views.PersonSearchView.as_view(), name="person_search"),
    path("persons/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("persons/<int:pk>/reveal/", views.PersonRevealView.as_view(), name="person_reveal"),
    path("persons/new/", views.WorkerRegisterView.as_view(), name="worker_register"),
    path("persons/<int:pk>/join/", views.PersonJoinView.as_view(), name="person_join"),
    path("employments/<int:pk>/end/", views.EmploymentEndView.as_view(), name="employment_end"),
    path("rosters/", views.RosterListView.as_view(), name="roster_list"),
    path("rosters/<int:pk>/", views.UnionRosterView.as_view(), name="union_roster"),
    path("rosters/<int:pk>/join/", views.JoinView.as_view(), name="membership_join"),
    path("rosters/<int:pk>/export/", views.UnionRosterExportView.as_view(), name="union_roster_export"),
    path("memberships/<int:pk>/leave/", views.LeaveView.as_view(), name="membership_leave"),
    path("memberships/<int:pk>/transfer/", views.TransferView.as_view(), name="membership_transfer"),
    path(
        "enterprises/<int:pk>/export/",
        views.EnterpriseRosterExportView.as_view(),
        name="enterprise_roster_export",
    ),
    path("cards/", views.CardListView.as_view(), name="card_list"),
    path("cards/issue/", views.CardIssueView.as_view(), name="card_issue"),
    path("cards/<int:pk>/", views.CardDetailView.as_view(), name="card_detail"),
    path("cards/<int:pk>/<str:action>/", views.CardChangeView.as_view(), name="card_change"),
]
