"""Student accounts: self-registration from the mobile app."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import LearnerProfile


class RegistrationError(Exception):
    """A registration the form can explain: ``field`` names what to fix."""

    def __init__(self, *, field: str, messages: list[str]) -> None:
        self.field = field
        self.messages = messages
        super().__init__(f"{field}: {' '.join(messages)}")


@transaction.atomic
def student_register(
    *, username: str, password: str, email: str = "", level: str = LearnerProfile.Level.INTERMEDIATE
) -> AbstractBaseUser:
    """Create a student (never staff) with a learner profile; the password must pass the validators."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise RegistrationError(field="username", messages=["That username is taken."])
    candidate = user_model(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise RegistrationError(field="password", messages=list(exc.messages)) from exc
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, email=email, password=password)
    except IntegrityError as exc:  # lost a race for the same username
        raise RegistrationError(field="username", messages=["That username is taken."]) from exc
    LearnerProfile.objects.create(student=user, level=level)
    return user
