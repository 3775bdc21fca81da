from django.urls import path

from safetynet.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.FilingView.as_view(), name="filing"),
    path("zero/", views.ZeroReportView.as_view(), name="zero_report"),
    path("file/", views.FileReportView.as_view(), name="file"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("overview/", views.OverviewView.as_view(), name="overview"),
    path("overview/export/", views.OverviewExportView.as_view(), name="overview_export"),
    path("remind/", views.RemindView.as_view(), name="remind"),
    path("concealment/", views.ConcealmentBoardView.as_view(), name="concealment"),
    path("forms/", views.FormListView.as_view(), name="form_list"),
    path("forms/new/", views.FormCreateView.as_view(), name="form_create"),
    path("forms/<int:pk>/", views.FormEditView.as_view(), name="form_edit"),
    path("warnings/", views.WarningListView.as_view(), name="warning_list"),
    path("warnings/new/", views.WarningCreateView.as_view(), name="warning_create"),
    path("warnings/enterprise/", views.EnterpriseLookupView.as_view(), name="enterprise_lookup"),
    path("warnings/<int:pk>/", views.WarningDetailView.as_view(), name="warning_detail"),
    path("warnings/<int:pk>/transition/", views.WarningTransitionView.as_view(), name="warning_transition"),
    path("warnings/<int:pk>/case/", views.WarningCaseView.as_view(), name="warning_case"),
    path("incidents/", views.IncidentBoardView.as_view(), name="incident_list"),
    path("incidents/new/", views.IncidentCreateView.as_view(), name="incident_create"),
    path("incidents/<int:pk>/", views.IncidentDetailView.as_view(), name="incident_detail"),
    path("incidents/<int:pk>/action/", views.IncidentActionView.as_view(), name="incident_action"),
    path("duty/", views.DutyRosterView.as_view(), name="duty"),
    path("risk/", views.RiskListView.as_view(), name="risk_list"),
    path("risk/export/", views.RiskExportView.as_view(), name="risk_export"),
    path("risk/rule/", views.RiskRuleView.as_view(), name="risk_rule"),
    path("risk/enterprise/<int:pk>/", views.EnterpriseRiskView.as_view(), name="enterprise_risk"),
    path("headcounts/", views.HeadcountView.as_view(), name="headcounts"),
    path("headcounts/export/", views.HeadcountExportView.as_view(), name="headcount_export"),
]
