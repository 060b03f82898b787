"""The learner model: mastery per topic (BKT), review cards (FSRS), the study plan and practice."""

from django.conf import settings
from django.db import models

from curriculum.models import Chunk, Classroom, Enrollment, PracticeQuestion, Topic


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
    hint_first = models.BooleanField(
        default=False,
        help_text="Hint-first mode as it was when the session started: a wrong first answer gets a hint and "
        "a second try before the key is shown.",
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class SessionQuestion(models.Model):
    """A question as served in a session: its options in the shown order, with duplicates merged."""

    session = models.ForeignKey(PracticeSession, on_delete=models.CASCADE, related_name="questions")
    question = models.ForeignKey(PracticeQuestion, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    options = models.JSONField(help_text="Shown option texts, in order; each text once. Empty: a free-text question.")
    key_option = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Index into options of the keyed answer; null for a free-text question."
    )
    hint_shown_at = models.DateTimeField(null=True, blank=True, help_text="When a hint was first shown for it.")

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="session_question_position_unique"),
            models.UniqueConstraint(fields=["session", "question"], name="session_question_unique"),
        ]

    @property
    def is_free_text(self) -> bool:
        return not self.options


class PracticeAnswer(models.Model):
    """A graded answer: the evidence of the mastery estimate and of progress over time."""

    session_question = models.OneToOneField(SessionQuestion, on_delete=models.CASCADE, related_name="answer")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Grading(models.TextChoices):
        EXACT = "exact", "Multiple choice, graded exactly"
        VERIFIED = "verified", "Free text the verifier found supported by the syllabus and on the key"
        SELF = "self", "Free text the verifier could not confirm, assessed by the student against the key"

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    chosen_option = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Null for a free-text answer.")
    correct = models.BooleanField()
    grading = models.CharField(max_length=16, choices=Grading.choices, default=Grading.EXACT)
    hinted = models.BooleanField(default=False, help_text="A hint was shown before this (first) answer.")
    retry_option = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Hint-first mode: the second try after a wrong first answer and its hint."
    )
    retry_correct = models.BooleanField(null=True, blank=True)
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


class TextAnswer(models.Model):
    """A typed answer to a free-text question and the verifier's check of it against the syllabus.

    ``verified``: every sentence is supported by the syllabus and the answer covers the key, so it is
    graded right at once. Otherwise (``unconfirmed`` or ``contradicted``) the student is shown the key
    and the evidence and assesses the answer themselves: at the verifier's shipped operating point
    (recall about 1 %) a right paraphrase is rarely confirmed, and a machine "wrong" would be wrong.
    """

    class Outcome(models.TextChoices):
        VERIFIED = "verified"
        UNCONFIRMED = "unconfirmed"
        CONTRADICTED = "contradicted"

    session_question = models.OneToOneField(SessionQuestion, on_delete=models.CASCADE, related_name="text_answer")
    text = models.TextField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    score = models.FloatField(help_text="The weakest sentence's probability of support.")
    key_coverage = models.FloatField(help_text="Share of the key's content words the answer uses.")
    evidence_chunk_ids = models.JSONField(default=list, help_text="Syllabus chunks that support it (cited).")
    reasons = models.JSONField(default=list, help_text="Failed deterministic checks, human-readable.")
    verification_run = models.ForeignKey(
        "verification.VerificationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()


class PracticePreference(models.Model):
    """A student's own practice settings; unset fields follow their class's setting, then the app default."""

    student = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_preference"
    )
    hint_first = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class ClassroomPlanDefault(models.Model):
    """A teacher's study-plan defaults for a class: the exam date and daily budget a student enrolling in
    the class starts with. A student may change their own. (Hint-first is the class's setting in
    ``classrooms.ClassroomSettings``, one switch for the tutor and practice.)"""

    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="plan_default")
    exam_date = models.DateField(null=True, blank=True)
    daily_minutes = models.PositiveIntegerField(null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)


class GeneratedQuestion(models.Model):
    """Provenance of a question made from the syllabus (a cloze on a key-term sentence), served only
    because the verifier found its keyed sentence supported by its passage and no distractor's."""

    class Kind(models.TextChoices):
        CLOZE = "cloze"

    question = models.OneToOneField(PracticeQuestion, on_delete=models.CASCADE, related_name="generation")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="+")
    sentence = models.TextField(help_text="The passage sentence the question blanks.")
    term = models.CharField(max_length=255)
    key_score = models.FloatField(help_text="Verifier's probability that the keyed sentence is supported.")
    checker_version = models.CharField(max_length=255)
    created_at = models.DateTimeField()
