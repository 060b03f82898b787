"""The learner model: mastery per topic (BKT), review cards (FSRS), the study plan and practice."""

from django.conf import settings
from django.db import models

from curriculum.models import Enrollment, PracticeQuestion, Topic


class TopicBktParams(models.Model):
    """A topic's fitted BKT parameters (``manage.py fit_bkt``); topics without a row use the defaults."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="bkt_params")
    p_init = models.FloatField()
    p_learn = models.FloatField()
    p_slip = models.FloatField()
    p_guess = models.FloatField()
    answers = models.PositiveIntegerField(help_text="Graded answers the fit used.")
    students = models.PositiveIntegerField(help_text="Answer sequences (one per student) the fit used.")
    log_likelihood = models.FloatField()
    fitted_at = models.DateTimeField()


class MasteryState(models.Model):
    """One student's BKT estimate for one topic, with the evidence behind it."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mastery_states")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    mastery = models.FloatField()
    answers = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["student", "topic"], name="mastery_state_unique")]


class StudyPlan(models.Model):
    """A student's plan towards the exam of one enrolment; its items are recomputed, never its progress."""

    enrollment = models.OneToOneField(Enrollment, on_delete=models.CASCADE, related_name="study_plan")
    daily_minutes = models.PositiveIntegerField()
    predicted_readiness = models.FloatField(default=0.0)
    unplaced_sessions = models.PositiveIntegerField(default=0)
    computed_for = models.DateField(null=True, blank=True, help_text="The day the items were last recomputed from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class PlanItem(models.Model):
    """One day's piece of the plan. Items of past days and done items are history and stay."""

    class Kind(models.TextChoices):
        REVIEW = "review"
        LEARN = "learn"
        PRACTICE = "practice"

    plan = models.ForeignKey(StudyPlan, on_delete=models.CASCADE, related_name="items")
    day = models.DateField()
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    questions = models.PositiveIntegerField()
    minutes = models.PositiveIntegerField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["day", "position"]
        constraints = [models.UniqueConstraint(fields=["plan", "day", "position"], name="plan_item_position_unique")]


class PracticeSession(models.Model):
    class Kind(models.TextChoices):
        TOPIC = "topic", "Questions on one topic"
        PLAN = "plan", "Today's plan"
        REVIEW = "review", "Due reviews"

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_sessions")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="practice_sessions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # The plan item it was started for, by id and not as a foreign key: a re-plan replaces open items
    # (a bulk delete that a SET_NULL relation would turn into a row-by-row one), and a session whose
    # item was replaced simply completes no item.
    plan_item_id = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class SessionQuestion(models.Model):
    """A question as served in a session: its options in the shown order, with duplicates merged."""

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="questions")
    question = models.ForeignKey(PracticeQuestion, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    options = models.JSONField(help_text="Shown option texts, in order; each text once.")
    key_option = models.PositiveSmallIntegerField(help_text="Index into options of the keyed answer.")

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="session_question_position_unique"),
            models.UniqueConstraint(fields=["session", "question"], name="session_question_unique"),
        ]


class PracticeAnswer(models.Model):
    """A graded answer: the evidence of the mastery estimate and of progress over time."""

    session_question = models.OneToOneField(SessionQuestion, on_delete=models.CASCADE, related_name="answer")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    chosen_option = models.PositiveSmallIntegerField()
    correct = models.BooleanField()
    mastery_before = models.FloatField()
    mastery_after = models.FloatField()
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["answered_at", "id"]
        indexes = [models.Index(fields=["topic", "student", "answered_at"], name="answer_topic_student_idx")]


class ReviewCard(models.Model):
    """FSRS memory state of one question a student has answered: when to see it again."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    question = models.ForeignKey(PracticeQuestion, on_delete=models.CASCADE, related_name="+")
    state = models.PositiveSmallIntegerField(help_text="fsrs.State: 1 learning, 2 review, 3 relearning.")
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField()
    last_review = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["student", "question"], name="review_card_unique")]
        indexes = [models.Index(fields=["student", "due"], name="review_card_due_idx")]
