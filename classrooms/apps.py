from django.apps import AppConfig


class ClassroomsConfig(AppConfig):
    """A teacher's classes: join codes, the roster, and what the teacher sees of the class's learning
    and answers. Sits above the tutor in the import order (classrooms → tutor → learning →
    verification → curriculum): it reads the others, none of them reads it."""

    name = "classrooms"
    default_auto_field = "django.db.models.BigAutoField"
