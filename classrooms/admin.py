from django.contrib import admin

from .models import ClassroomSettings, JoinCode


@admin.register(JoinCode)
class JoinCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "classroom", "created_at"]
    search_fields = ["code", "classroom__name"]
    raw_id_fields = ["classroom"]


@admin.register(ClassroomSettings)
class ClassroomSettingsAdmin(admin.ModelAdmin):
    list_display = ["classroom", "unsupported_policy", "hint_first", "updated_at"]
    raw_id_fields = ["classroom"]
