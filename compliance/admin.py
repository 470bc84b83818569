"""The Django admin holds logins only: safeguarding records are never exposed through it."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import User

admin.site.register(User, UserAdmin)

# django-otp registers its devices; a TOTP key shown here would hand over a second factor.
# A lost device is reset with `manage.py mfa_reset` (docs/decisions/0008).
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)
