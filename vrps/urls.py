from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from compliance.urls import dashboard_urlpatterns
from compliance.views import mfa

# The admin lets in only superusers who have passed two-step verification, and has no login
# form of its own: everyone comes through the site's login, lockout and two-step pages.
admin.site.__class__ = OTPAdminSite
admin.site.login = login_required(admin.site.login)

urlpatterns = [
    *dashboard_urlpatterns,
    path("accounts/login/", mfa.LoginView.as_view(), name="login"),
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
    path("accounts/mfa/", include("compliance.views.mfa")),
    path("community/", include("compliance.urls")),
    path("devices/", include("devices.urls")),
    path("incidents/", include("incidents.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "compliance.views.errors.permission_denied"
handler500 = "compliance.views.errors.server_error"
