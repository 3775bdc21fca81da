"""Included at the site root: the workers' pages under worker/, the officers' side under portal/."""

from django.urls import path

from safetynet.portal import views

app_name = "portal"

urlpatterns = [
    path("worker/", views.home, name="home"),
    path("worker/register/", views.register, name="register"),
    path("worker/login/", views.login, name="login"),
    path("worker/logout/", views.logout, name="logout"),
    path("worker/password-reset/", views.password_reset, name="password_reset"),
    path("worker/password-reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("worker/privacy/", views.privacy, name="privacy"),
    path("worker/verify/", views.verify, name="verify"),
    path("worker/card/", views.card, name="card"),
    path("worker/join/", views.join, name="join"),
    path("worker/join/<int:pk>/withdraw/", views.join_withdraw, name="join_withdraw"),
    path("worker/appeals/", views.appeal_list, name="appeal_list"),
    path("worker/appeals/new/", views.appeal_new, name="appeal_new"),
    path("worker/appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("worker/appeals/<int:pk>/message/", views.appeal_message, name="appeal_message"),
    path("worker/appeals/<int:pk>/files/", views.appeal_files, name="appeal_files"),
    path("worker/appeals/<int:pk>/rate/", views.appeal_rate, name="appeal_rate"),
    path("worker/notices/", views.notice_list, name="notice_list"),
    path("worker/notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("worker/notifications/", views.notifications, name="notifications"),
    path("worker/me/", views.me, name="me"),
    path("worker/me/withdraw/", views.withdraw_consent, name="withdraw"),
    path("worker/discounts/", views.discounts, name="discounts"),
    path("worker/applications/", views.applications, name="applications"),
    path("worker/applications/new/", views.assistance_apply, name="assistance_apply"),
    path("portal/join/", views.join_queue, name="join_queue"),
    path("portal/join/<int:pk>/decide/", views.join_decide, name="join_decide"),
    path("portal/notices/", views.staff_notices, name="staff_notices"),
]
