from django.contrib import admin

from .models import (
    Chunk,
    Classroom,
    Curriculum,
    Enrollment,
    IngestionJob,
    PracticeQuestion,
    SyllabusDocument,
    Topic,
    Unit,
)


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["position", "title", "part"]


class TopicInline(admin.TabularInline):
    model = Topic
    extra = 0
    fields = ["position", "title"]


@admin.register(Curriculum)
class CurriculumAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "source_format", "unsupported_policy", "updated_at"]
    search_fields = ["title", "slug"]
    inlines = [UnitInline]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["title", "curriculum", "position"]
    list_filter = ["curriculum"]
    inlines = [TopicInline]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "unit", "position"]
    list_filter = ["unit__curriculum"]
    search_fields = ["title"]


@admin.register(SyllabusDocument)
class SyllabusDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "source_id", "topic"]
    search_fields = ["title", "source_id"]
    list_filter = ["topic__unit__curriculum"]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["id", "document", "position"]
    list_filter = ["curriculum"]
    search_fields = ["text"]
    raw_id_fields = ["document"]


@admin.register(PracticeQuestion)
class PracticeQuestionAdmin(admin.ModelAdmin):
    list_display = ["stem", "topic", "answer_index"]
    list_filter = ["topic__unit__curriculum"]
    search_fields = ["stem"]


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    list_display = ["name", "teacher", "curriculum"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["student", "curriculum", "classroom", "exam_date"]


@admin.register(IngestionJob)
class IngestionJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "filename", "status", "progress_done", "progress_total", "created_at"]
    list_filter = ["status", "kind"]
