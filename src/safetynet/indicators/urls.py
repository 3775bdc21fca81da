from django.urls import path

from safetynet.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("records/", views.RecordsView.as_view(), name="records"),
    path("targets/", views.TargetsView.as_view(), name="targets"),
    path("units/", views.UnitsTableView.as_view(), name="units"),
]
