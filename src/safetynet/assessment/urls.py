from django.urls import path

from safetynet.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.SchemeListView.as_view(), name="scheme_list"),
    path("schemes/new/", views.SchemeCreateView.as_view(), name="scheme_create"),
    path("schemes/<int:pk>/", views.SchemeDetailView.as_view(), name="scheme_detail"),
    path("schemes/<int:pk>/copy/", views.SchemeCopyView.as_view(), name="scheme_copy"),
    path("schemes/<int:pk>/items/", views.ItemAddView.as_view(), name="item_add"),
    path("schemes/<int:pk>/transition/", views.SchemeTransitionView.as_view(), name="scheme_transition"),
    path("schemes/<int:pk>/bulletin/", views.BulletinView.as_view(), name="bulletin"),
    path("schemes/<int:pk>/bulletin.pdf", views.BulletinPdfView.as_view(), name="bulletin_pdf"),
    path("schemes/<int:pk>/bulletin.xlsx", views.BulletinXlsxView.as_view(), name="bulletin_xlsx"),
    path("schemes/<int:pk>/units/<int:unit_pk>/", views.UnitScoreView.as_view(), name="unit_score"),
    path(
        "schemes/<int:pk>/units/<int:unit_pk>/evidence/",
        views.EvidenceUploadView.as_view(),
        name="evidence_upload",
    ),
    path("schemes/<int:pk>/units/<int:unit_pk>/review/", views.ReviewView.as_view(), name="review"),
    path("schemes/<int:pk>/units/<int:unit_pk>/veto/", views.VetoView.as_view(), name="veto"),
    path(
        "schemes/<int:pk>/units/<int:unit_pk>/appeal/", views.AppealSubmitView.as_view(), name="appeal_submit"
    ),
    path("items/<int:pk>/delete/", views.ItemDeleteView.as_view(), name="item_delete"),
    path("items/<int:pk>/edit/", views.ItemEditView.as_view(), name="item_edit"),
    path("items/<int:pk>/move/", views.ItemMoveView.as_view(), name="item_move"),
    path("evidence/<int:pk>/", views.EvidenceDownloadView.as_view(), name="evidence_download"),
    path("appeals/<int:pk>/decide/", views.AppealDecideView.as_view(), name="appeal_decide"),
    path("scores/", views.ScoreBoardView.as_view(), name="score_board"),
    path("letters/", views.LetterListView.as_view(), name="letter_list"),
    path("letters/<int:pk>/", views.LetterDetailView.as_view(), name="letter_detail"),
    path("letters/<int:pk>/sign/", views.LetterSignView.as_view(), name="letter_sign"),
]
