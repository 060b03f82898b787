from django.contrib import admin

from .models import JoinCode


@admin.register(JoinCode)
class JoinCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "classroom", "created_at"]
    search_fields = ["code", "classroom__name"]
    raw_id_fields = ["classroom"]
