"""A class's join code. The class itself is ``curriculum.Classroom`` (teacher, curriculum, name) and
its members are the ``curriculum.Enrollment`` rows that point at it."""

from django.db import models

from curriculum.models import Classroom


class JoinCode(models.Model):
    """The code a student types to join a class: short, from an alphabet without look-alikes."""

    classroom = models.OneToOneField(Classroom, primary_key=True, on_delete=models.CASCADE, related_name="join_code")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code
