from django.urls import path

from safetynet.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("login/code/", views.otp_verify, name="otp_verify"),
    path("security/second-factor/", views.otp_setup, name="otp_setup"),
    path("security/password/", views.password_change, name="password_change"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path(
        "staff/<int:pk>/second-factor/reset/",
        views.staff_second_factor_reset,
        name="staff_second_factor_reset",
    ),
]
