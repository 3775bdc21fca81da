from django.urls import path

from safetynet.visits import views

app_name = "visits"

urlpatterns = [
    path("", views.VisitListView.as_view(), name="visit_list"),
    path("new/", views.VisitCreateView.as_view(), name="visit_create"),
    path("export/", views.VisitExportView.as_view(), name="visit_export"),
    path("<int:pk>/", views.VisitDetailView.as_view(), name="visit_detail"),
]
