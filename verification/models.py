"""The audit trail: what was checked, against which evidence, by which checker versions."""

from django.db import models

from curriculum.models import Curriculum


class VerificationRun(models.Model):
    """The verification of one answer (or of one batch of claims)."""

    curriculum = models.ForeignKey(Curriculum, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


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
