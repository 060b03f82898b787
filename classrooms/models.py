"""A class's join code and settings. The class itself is ``curriculum.Classroom`` (teacher,
curriculum, name) and its members are the ``curriculum.Enrollment`` rows that point at it."""

from django.db import models

from curriculum.models import Classroom


class JoinCode(models.Model):
    """The code a student types to join a class: short, from an alphabet without look-alikes."""

    classroom = models.OneToOneField(Classroom, primary_key=True, on_delete=models.CASCADE, related_name="join_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class ClassroomSettings(models.Model):
    """What a teacher decides for their class: how unsupported sentences are shown to its students and
    whether the tutor gives a hint first. A class without a row has the defaults (the curriculum's
    policy; answers first)."""

    class UnsupportedPolicy(models.TextChoices):
        WITHHOLD = "withhold", "Withhold them"
        MARK = "mark", "Show them marked “not in your syllabus”"

    classroom = models.OneToOneField(
        Classroom, primary_key=True, on_delete=models.CASCADE, related_name="class_settings"
    )
    unsupported_policy = models.CharField(
        max_length=16, choices=UnsupportedPolicy.choices, default=UnsupportedPolicy.WITHHOLD
    )
    hint_first = models.BooleanField(
        default=False, help_text="The tutor starts with a hint and gives the answer when asked again."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"settings of {self.classroom}"
