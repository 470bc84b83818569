"""The Django admin holds logins only: safeguarding records are never exposed through it."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from compliance.models import User

admin.site.register(User, UserAdmin)
