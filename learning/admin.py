"""Staff views of the learner model: fitted parameters, mastery, plans and answers (read for audit)."""

from django.contrib import admin

from .models import MasteryState, PlanItem, PracticeAnswer, ReviewCard, StudyPlan, TopicBktParams


@admin.register(TopicBktParams)
class TopicBktParamsAdmin(admin.ModelAdmin):
    list_display = ["topic", "p_init", "p_learn", "p_slip", "p_guess", "answers", "students", "fitted_at"]
    raw_id_fields = ["topic"]


@admin.register(MasteryState)
class MasteryStateAdmin(admin.ModelAdmin):
    list_display = ["student", "topic", "mastery", "answers", "correct", "last_answered_at"]
    raw_id_fields = ["student", "topic"]


class PlanItemInline(admin.TabularInline):
    model = PlanItem
    extra = 0
    fields = ["day", "position", "kind", "topic", "questions", "minutes", "done_at"]
    raw_id_fields = ["topic"]


@admin.register(StudyPlan)
class StudyPlanAdmin(admin.ModelAdmin):
    list_display = ["enrollment", "daily_minutes", "predicted_readiness", "unplaced_sessions", "computed_for"]
    raw_id_fields = ["enrollment"]
    inlines = [PlanItemInline]


@admin.register(PracticeAnswer)
class PracticeAnswerAdmin(admin.ModelAdmin):
    list_display = ["student", "topic", "correct", "mastery_before", "mastery_after", "answered_at"]
    raw_id_fields = ["student", "topic", "session_question"]


@admin.register(ReviewCard)
class ReviewCardAdmin(admin.ModelAdmin):
    list_display = ["student", "question", "state", "due", "reviews", "lapses"]
    raw_id_fields = ["student", "question"]
