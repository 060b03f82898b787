from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """What a student may do with their own account as a whole: export all their data, and delete it.
    Owns no models: it reads every app that holds a student's rows (tutor, learning, curriculum,
    verification) and sits above them all in the import order; none of them reads it."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
