"""The audit trail: what was checked, against which evidence, by which checker versions."""

from django.conf import settings
from django.db import models

from curriculum.models import Curriculum


class VerificationRun(models.Model):
    """The verification of one answer, or of a batch of claims a teacher submitted."""

    class Kind(models.TextChoices):
        ANSWER = "answer"
        BATCH = "batch"

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    curriculum = models.ForeignKey(Curriculum, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ANSWER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    claims = models.JSONField(default=list, blank=True, help_text="A batch's input claims, in order.")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)


class VerificationRecord(models.Model):
    """One checked claim."""

    class Verdict(models.TextChoices):
        SUPPORTED = "supported"
        UNSUPPORTED = "unsupported"
        CONTRADICTED = "contradicted"

    run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="records")
    sentence_index = models.PositiveIntegerField()
    claim_index = models.PositiveIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=0, help_text="0 = as generated, 1 = after revision.")
    claim = models.TextField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    score = models.FloatField()
    evidence_chunk_ids = models.JSONField(default=list)
    checker_versions = models.JSONField(default=dict)
    details = models.JSONField(default=dict, blank=True)
    latency_ms = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "sentence_index", "claim_index", "attempt"]
