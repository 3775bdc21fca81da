from django.urls import path

from safetynet.programmes import views

app_name = "programmes"
urlpatterns = [
    path("contracts/", views.ContractListView.as_view(), name="contract_list"),
    path("contracts/export/", views.ContractExportView.as_view(), name="contract_export"),
    path("contracts/new/", views.ContractCreateView.as_view(), name="contract_create"),
    path("contracts/<int:pk>/", views.ContractDetailView.as_view(), name="contract_detail"),
    *[
        path(
            f"contracts/<int:pk>/{slug}/",
            views.ContractStepView.as_view(slug=slug),
            name=f"contract_{slug.replace('-', '_')}",
        )
        for slug in views.STEPS
    ],
    path("steps/<int:pk>/attachment/", views.StepAttachmentView.as_view(), name="step_attachment"),
    path("review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("worklist/", views.WorklistView.as_view(), name="worklist"),
    path("worklist/export/", views.WorklistExportView.as_view(), name="worklist_export"),
    path("systems/", views.SystemListView.as_view(), name="system_list"),
    path("stations/", views.StationListView.as_view(), name="station_list"),
    path("stations/new/", views.StationCreateView.as_view(), name="station_create"),
    path("stations/<int:pk>/edit/", views.StationEditView.as_view(), name="station_edit"),
    path("safety/", views.SafetyView.as_view(), name="safety"),
]
