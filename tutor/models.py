"""The tutoring record: conversations, each question with its released answer sentences, and the
learner model the answers adapt to."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curriculum.models import Curriculum, Topic


class LearnerProfile(models.Model):
    """How a student wants to be taught; the learner-model issue extends it."""

    class Level(models.TextChoices):
        BEGINNER = "beginner"
        INTERMEDIATE = "intermediate"
        ADVANCED = "advanced"

    student = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_profile")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.INTERMEDIATE)


class TopicMastery(models.Model):
    """Estimated mastery (0..1) of one topic by one student."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_mastery")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    mastery = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["student", "topic"], name="mastery_unique")]


class Conversation(models.Model):
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]


class Message(models.Model):
    """One question and its answer. Saved before generation starts, so nothing is lost on failure."""

    class Status(models.TextChoices):
        PENDING = "pending"
        STREAMING = "streaming"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Mode(models.TextChoices):
        ANSWER = "answer"
        HINT = "hint", "A guiding question and a clue (hint-first); the full answer when asked"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_msg_id = models.CharField(max_length=64, blank=True, help_text="The client's id, for fetch after reconnect.")
    question = models.TextField()
    condensed_question = models.TextField(blank=True)
    answer = models.TextField(blank=True, help_text="The released (verified) sentences, joined.")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.ANSWER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    model_name = models.CharField(max_length=255, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    verification_run = models.OneToOneField(
        "verification.VerificationRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="message"
    )
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(
        default=timezone.now, help_text="When the answer was last started (asked, or retried)."
    )
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "client_msg_id"],
                condition=~models.Q(client_msg_id=""),
                name="message_client_id_unique",
            )
        ]


class AnswerSentence(models.Model):
    """A sentence of an answer with its verdict; only released ones reach the student as verified."""

    class Verdict(models.TextChoices):
        SUPPORTED = "supported"
        UNSUPPORTED = "unsupported"
        CONTRADICTED = "contradicted"

    class Delivery(models.TextChoices):
        RELEASED = "released"
        MARKED = "marked", "Shown marked 'not in your syllabus'"
        WITHHELD = "withheld"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="sentences")
    index = models.PositiveIntegerField()
    text = models.TextField()
    original_text = models.TextField(blank=True, help_text="The generated sentence, when a revision replaced it.")
    verdict = models.CharField(max_length=16, choices=Verdict.choices, null=True, blank=True)
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.RELEASED)
    score = models.FloatField(null=True, blank=True)
    citations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["message", "index"]
        constraints = [models.UniqueConstraint(fields=["message", "index"], name="sentence_index_unique")]


class SentenceReview(models.Model):
    """A teacher's judgement of an answer sentence the verifier withheld, marked or replaced: confirmed
    (the verifier was right), corrected with what the sentence should say, or true but missing from
    the syllabus (the verifier was right about the syllabus, which should say it; ``correction`` then
    holds the teacher's note of what it lacks). A correction is shown to the student with the sentence
    and exported as labelled training pairs (``export_corrections``)."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", "The verifier was right"
        CORRECTED = "corrected", "Corrected by the teacher"
        SYLLABUS_GAP = "syllabus_gap", "True, but missing from the syllabus"

    sentence = models.OneToOneField(AnswerSentence, on_delete=models.CASCADE, related_name="review")
    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    correction = models.TextField(blank=True, help_text="What the sentence should say (when corrected).")
    reviewed_at = models.DateTimeField(default=timezone.now)
