from django.urls import path

from safetynet.shell import views

app_name = "shell"
urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("audit/", views.audit_list, name="audit_list"),
]
