from django.urls import path

from safetynet.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.JobListView.as_view(), name="job_list"),
    path("new/", views.JobCreateView.as_view(), name="job_create"),
    path("<int:pk>/", views.JobDetailView.as_view(), name="job_detail"),
    path("<int:pk>/status/", views.JobStatusView.as_view(), name="job_status"),
    path("<int:pk>/retry/", views.JobRetryView.as_view(), name="job_retry"),
    path("<int:pk>/errors.xlsx", views.JobErrorsView.as_view(), name="job_errors"),
    path("templates/<slug:kind>.xlsx", views.TemplateDownloadView.as_view(), name="template"),
]
