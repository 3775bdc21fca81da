from django.urls import path

from safetynet.orgs import views

app_name = "orgs"
urlpatterns = [
    path("", views.OrgTreeView.as_view(), name="tree"),
    path("units/new/", views.UnitCreateView.as_view(), name="unit_create"),
    path("units/<int:pk>/", views.UnitDetailView.as_view(), name="unit_detail"),
    path("units/<int:pk>/edit/", views.UnitEditView.as_view(), name="unit_edit"),
    path("units/<int:pk>/move/", views.UnitMoveView.as_view(), name="unit_move"),
    path("units/<int:pk>/close/", views.UnitCloseView.as_view(), name="unit_close"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("enterprises/export/", views.EnterpriseExportView.as_view(), name="enterprise_export"),
    path("enterprises/new/", views.EnterpriseCreateView.as_view(), name="enterprise_create"),
    path("enterprises/<int:pk>/", views.EnterpriseDetailView.as_view(), name="enterprise_detail"),
    path("enterprises/<int:pk>/edit/", views.EnterpriseEditView.as_view(), name="enterprise_edit"),
    path("unions/", views.UnionListView.as_view(), name="union_list"),
    path("unions/new/", views.UnionCreateView.as_view(), name="union_create"),
    path("unions/<int:pk>/", views.UnionDetailView.as_view(), name="union_detail"),
    path("unions/<int:pk>/edit/", views.UnionEditView.as_view(), name="union_edit"),
    path("unions/<int:pk>/cover/", views.UnionCoverEnterpriseView.as_view(), name="union_cover_enterprise"),
    path(
        "unions/<int:pk>/coverages/<int:coverage_pk>/end/",
        views.UnionEndCoverageView.as_view(),
        name="union_end_coverage",
    ),
]
