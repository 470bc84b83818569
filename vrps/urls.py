from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from compliance.urls import dashboard_urlpatterns

urlpatterns = [
    *dashboard_urlpatterns,
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("community/", include("compliance.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "compliance.views.errors.permission_denied"
handler500 = "compliance.views.errors.server_error"
