"""The syllabus side: what a student is examined on, down to the indexed chunks of text."""

from django.conf import settings
from django.db import models


class Curriculum(models.Model):
    """An exam or course, e.g. "Biology 2e"; its chunks live in one vector collection of their own."""

    class UnsupportedPolicy(models.TextChoices):
        WITHHOLD = "withhold", "Withhold unsupported sentences"
        MARK = "mark", "Show them marked 'not in your syllabus'"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    attribution = models.TextField(blank=True, help_text="Licence and attribution shown with its text.")
    source_format = models.CharField(max_length=32, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unsupported_policy = models.CharField(
        max_length=16, choices=UnsupportedPolicy.choices, default=UnsupportedPolicy.WITHHOLD
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "curricula"

    def __str__(self) -> str:
        return self.title


class Unit(models.Model):
    """A chapter (or a top-level heading of an uploaded document)."""

    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="units")
    title = models.CharField(max_length=255)
    number = models.CharField(
        max_length=16, blank=True, help_text='The chapter number the book prints, e.g. "6"; blank if unnumbered.'
    )
    part = models.CharField(max_length=255, blank=True, help_text="The book part the chapter sits in.")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["curriculum", "position"]
        constraints = [models.UniqueConstraint(fields=["curriculum", "position"], name="unit_position_unique")]

    def __str__(self) -> str:
        return self.title


class Topic(models.Model):
    """A chapter section: the unit of mastery, retrieval filtering and citation."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(max_length=255)
    number = models.CharField(
        max_length=16,
        blank=True,
        help_text='The section number the book prints, e.g. "6.3"; blank for a chapter introduction or an upload.',
    )
    position = models.PositiveIntegerField()
    objectives = models.TextField(blank=True)

    class Meta:
        ordering = ["unit__position", "position"]
        constraints = [models.UniqueConstraint(fields=["unit", "position"], name="topic_position_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def label(self) -> str:
        """How a student finds the topic in the book: "6.3 Operant Conditioning", or "Chapter 6:
        Learning – Introduction" for a chapter's unnumbered introduction; the bare title when the
        source numbers nothing (an uploaded document)."""
        if self.number:
            return f"{self.number} {self.title}"
        if self.unit.number:
            return f"Chapter {self.unit.number}: {self.unit.title} – {self.title}"
        return self.title


class SyllabusDocument(models.Model):
    """One source text of a topic: an OpenStax module or a section of an uploaded file."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="documents")
    source_id = models.CharField(max_length=255, help_text="e.g. the CNXML module id 'm66374'.")
    title = models.CharField(max_length=255)
    text = models.TextField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["topic", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "source_id"], name="document_source_unique")]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    """A retrievable passage; its id is also its id in the vector store."""

    document = models.ForeignKey(SyllabusDocument, on_delete=models.CASCADE, related_name="chunks")
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    text = models.TextField()
    char_start = models.PositiveIntegerField(default=0)
    char_end = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["document", "position"]
        constraints = [models.UniqueConstraint(fields=["document", "position"], name="chunk_position_unique")]

    def __str__(self) -> str:
        return f"{self.document.source_id}#{self.position}"


class PracticeQuestion(models.Model):
    """A multiple-choice review question with its key; never indexed as syllabus text."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="practice_questions")
    source_id = models.CharField(max_length=255)
    stem = models.TextField()
    choices = models.JSONField(default=list)
    answer_index = models.PositiveSmallIntegerField(null=True, blank=True)
    explanation = models.TextField(blank=True)

    class Meta:
        ordering = ["topic", "id"]
        constraints = [models.UniqueConstraint(fields=["topic", "source_id"], name="question_source_unique")]

    def __str__(self) -> str:
        return self.stem[:80]


class Classroom(models.Model):
    """A teacher's class: the boundary of what a teacher may see."""

    teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="classrooms")
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="classrooms")
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Enrollment(models.Model):
    """A student studying a curriculum, optionally within a teacher's class."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    curriculum = models.ForeignKey(Curriculum, on_delete=models.CASCADE, related_name="enrollments")
    classroom = models.ForeignKey(
        Classroom, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )
    exam_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "curriculum"], name="enrollment_unique"),
        ]


class IngestionJob(models.Model):
    """An import run (upload, book import, re-index), readable through the API for progress."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    curriculum = models.ForeignKey(Curriculum, null=True, blank=True, on_delete=models.CASCADE, related_name="jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=32)
    filename = models.CharField(max_length=255, blank=True)
    upload = models.FileField(upload_to="uploads/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
