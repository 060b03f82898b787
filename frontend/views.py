"""The student web app: thin views over the curriculum selectors and the account/enrolment services.

The study page is a shell: its script talks to the tutor over the websocket (docs/websocket-protocol.md).
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST

from curriculum.selectors import (
    curriculum_can_study,
    curriculum_get,
    curriculum_list,
    curriculum_list_for_student,
    user_is_teacher,
)
from curriculum.services import enrollment_create
from tutor.accounts import RegistrationError, student_register

from .forms import SignupForm

# Channels routes websockets outside Django's URL resolver (tutor/routing.py), so there is no reverse().
TUTOR_SOCKET_PATH = "/ws/tutor/"
# The script swaps this placeholder for the real id: the REST route takes any string.
_CLIENT_MSG_ID_PLACEHOLDER = "CLIENT_MSG_ID"
# The passage route takes only integers, so its placeholder is one no chunk id will be near.
_CHUNK_ID_PLACEHOLDER = 987654321


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "frontend/home.html", {"curricula": curriculum_list()})
    enrolled = list(curriculum_list_for_student(user=request.user))
    return render(
        request,
        "frontend/home.html",
        {
            "enrolled": enrolled,
            "enrolled_ids": {c.pk for c in enrolled},
            "curricula": curriculum_list(),
            "is_teacher": user_is_teacher(user=request.user),
        },
    )


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = student_register(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                email=form.cleaned_data["email"],
                level=form.cleaned_data["level"],
            )
        except RegistrationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.get_username()}! Pick a syllabus to study.")
            return redirect("home")
    return render(request, "frontend/signup.html", {"form": form})


@require_POST
def enrol(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        # Back to the catalogue after signing in: /enrol/ itself takes only the POST of its form.
        return redirect_to_login(reverse("home"))
    curriculum = curriculum_get(slug=request.POST.get("curriculum", ""))
    if curriculum is None:
        messages.error(request, "That syllabus does not exist (any more).")
        return redirect("home")
    enrollment_create(student=request.user, curriculum=curriculum)
    messages.success(request, f"You are enrolled in {curriculum.title}.")
    return redirect("study", slug=curriculum.slug)


@login_required
def study(request: HttpRequest, slug: str) -> HttpResponse:
    curriculum = curriculum_get(slug=slug)
    if curriculum is None:
        raise Http404("No such syllabus.")
    if not curriculum_can_study(user=request.user, curriculum=curriculum):
        messages.info(request, f"Enrol in {curriculum.title} to study it.")
        return redirect("home")
    message_url = reverse("message-by-client-id", kwargs={"client_msg_id": _CLIENT_MSG_ID_PLACEHOLDER})
    passage_url = reverse("passage-detail", kwargs={"chunk_id": _CHUNK_ID_PLACEHOLDER})
    return render(
        request,
        "frontend/study.html",
        {
            "curriculum": curriculum,
            "socket_path": TUTOR_SOCKET_PATH,
            "message_url": message_url,
            "message_url_placeholder": _CLIENT_MSG_ID_PLACEHOLDER,
            "passage_url": passage_url,
            "passage_url_placeholder": _CHUNK_ID_PLACEHOLDER,
        },
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page links: the linked icon."""
    return redirect(static("frontend/favicon.svg"), permanent=True)
