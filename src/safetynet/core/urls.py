from django.urls import path

from safetynet.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.overview, name="overview"),
    path("audit/", views.audit_list, name="audit_list"),
]
