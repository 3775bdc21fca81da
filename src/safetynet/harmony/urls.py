from django.urls import path

from safetynet.harmony import views

app_name = "harmony"

urlpatterns = [
    path("", views.IndexListView.as_view(), name="index_list"),
    path("export/", views.IndexExportView.as_view(), name="index_export"),
    path("scores/<int:pk>/", views.ScoreDetailView.as_view(), name="score_detail"),
    path("model/", views.ModelEditView.as_view(), name="model_edit"),
    path("runs/new/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/status/", views.RunStatusView.as_view(), name="run_status"),
    path("designations/", views.DesignationListView.as_view(), name="designation_list"),
    path("designations/propose/", views.DesignationProposeView.as_view(), name="designation_propose"),
    path("designations/<int:pk>/decide/", views.DesignationDecideView.as_view(), name="designation_decide"),
]
