from django.urls import path

from safetynet.exemplars import views

app_name = "exemplars"

urlpatterns = [
    path("honours/", views.HonourListView.as_view(), name="honour_list"),
    path("honours/new/", views.HonourCreateView.as_view(), name="honour_create"),
    path("honours/export/", views.HonourExportView.as_view(), name="honour_export"),
    path("teams/new/", views.TeamCreateView.as_view(), name="team_create"),
    path("studios/", views.StudioListView.as_view(), name="studio_list"),
    path("studios/new/", views.StudioCreateView.as_view(), name="studio_create"),
    path("studios/export/", views.StudioExportView.as_view(), name="studio_export"),
    path("studios/<int:pk>/", views.StudioDetailView.as_view(), name="studio_detail"),
    path("competitions/", views.CompetitionListView.as_view(), name="competition_list"),
    path("competitions/new/", views.CompetitionCreateView.as_view(), name="competition_create"),
    path("competitions/<int:pk>/", views.CompetitionDetailView.as_view(), name="competition_detail"),
]
