"""The teacher's pages (their classes; a class with its join code, roster, settings, syllabus uploads
with their progress, mastery heatmap, verification review and weekly hallucination rate) and the
student's "join a class" form.

Thin views over classrooms.selectors and classrooms.services, server-rendered forms that work
without JavaScript. A class that is not the teacher's is 404, as in the API.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classrooms.selectors import (
    REVIEW_OPEN,
    REVIEW_REVIEWED,
    MasteryTable,
    class_progress_by_week,
    classroom_get_for_teacher,
    classroom_list_for_student,
    classroom_list_for_teacher,
    classroom_mastery,
    classroom_roster,
    classroom_settings_get,
    hallucination_rate_by_week,
    mastery_by_chapter,
    review_sentence_get,
    review_sentence_list,
    upload_list,
)
from classrooms.services import (
    ClassroomError,
    classroom_create,
    classroom_create_with_syllabus,
    classroom_join,
    classroom_settings_update,
    classroom_upload_create,
    sentence_review_save,
)
from curriculum.importers.errors import SyllabusImportError
from curriculum.importers.uploads import check_upload_size
from curriculum.models import Classroom
from curriculum.selectors import user_is_teacher
from verification.selectors import verifier_operating_point

from .teacher_forms import ClassCreateForm, ClassSettingsForm, JoinClassForm, ReviewForm, UploadForm

CHART_WEEKS = 12
_CHART_HEIGHT = 120  # px of the bars' area; 100 % reaches the top
_BAR_WIDTH = 28
_BAR_GAP = 12


def _teacher_only(request: HttpRequest) -> None:
    if not user_is_teacher(user=request.user):
        raise PermissionDenied("Only teachers have classes.")


def _own_class(request: HttpRequest, classroom_id: int) -> Classroom:
    _teacher_only(request)
    classroom = classroom_get_for_teacher(teacher=request.user, classroom_id=classroom_id)
    if classroom is None:
        raise Http404("No such class.")
    return classroom


@login_required
def class_list(request: HttpRequest) -> HttpResponse:
    _teacher_only(request)
    form = ClassCreateForm(request.POST or None, teacher=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["curriculum"] is None:
                classroom = classroom_create_with_syllabus(
                    teacher=request.user, name=data["name"], syllabus_title=data["syllabus_title"]
                )
            else:
                classroom = classroom_create(teacher=request.user, curriculum=data["curriculum"], name=data["name"])
        except ClassroomError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Class {classroom.name} created: give your students its code.")
            return redirect("teacher-class", classroom_id=classroom.pk)
    return render(
        request, "teacher/class_list.html", {"classes": classroom_list_for_teacher(teacher=request.user), "form": form}
    )


@dataclass(frozen=True, kw_only=True)
class HeatCell:
    percent: int
    answers: int
    hue: int
    """0 (red, not known) to 120 (green, mastered)."""


@dataclass(frozen=True, kw_only=True)
class HeatRow:
    username: str
    cells: list[HeatCell]


def _heatmap(table: MasteryTable) -> list[HeatRow]:
    return [
        HeatRow(
            username=row.username,
            cells=[
                HeatCell(percent=round(c.mastery * 100), answers=c.answers, hue=round(c.mastery * 120))
                for c in row.cells
            ],
        )
        for row in table.rows
    ]


@dataclass(frozen=True, kw_only=True)
class Bar:
    """One week's bar of a weekly percentage chart."""

    week: date
    """The Monday the week starts on."""
    x: int
    y: int
    height: int
    percent: int
    detail: str
    """What the percentage is of, for the bar's tooltip and the chart's description."""


def _students(n: int) -> str:
    return "student" if n == 1 else "students"


def _chart(weeks: list[tuple[date, float, str]]) -> tuple[list[Bar], int]:
    """Bars for (week, share in [0, 1], detail) rows, and the chart's width."""
    bars = []
    for n, (week, share, detail) in enumerate(weeks):
        height = round(share * _CHART_HEIGHT)
        bars.append(
            Bar(
                week=week,
                x=40 + n * (_BAR_WIDTH + _BAR_GAP),
                y=10 + _CHART_HEIGHT - height,
                height=height,
                percent=round(share * 100),
                detail=detail,
            )
        )
    width = 40 + max(len(weeks), 1) * (_BAR_WIDTH + _BAR_GAP) + 10
    return bars, width


@login_required
def class_detail(request: HttpRequest, classroom_id: int) -> HttpResponse:
    classroom = _own_class(request, classroom_id)
    by_topic = request.GET.get("mastery") == "topic"
    table = classroom_mastery(classroom=classroom)
    if not by_topic:
        table = mastery_by_chapter(table=table)
    state = request.GET.get("review", REVIEW_OPEN)
    state = state if state in (REVIEW_OPEN, REVIEW_REVIEWED) else None
    weeks = hallucination_rate_by_week(curriculum=classroom.curriculum, classroom=classroom)[-CHART_WEEKS:]
    bars, chart_width = _chart([(w.week, w.rate, f"{w.flagged} of {w.drafted} sentences") for w in weeks])
    practice = class_progress_by_week(classroom=classroom)[-CHART_WEEKS:]
    progress_bars, progress_width = _chart(
        [
            (w.week, w.share_right, f"{w.correct} of {w.answers} answers right, {w.students} {_students(w.students)}")
            for w in practice
        ]
    )
    class_settings = classroom_settings_get(classroom=classroom)
    return render(
        request,
        "teacher/class_detail.html",
        {
            "classroom": classroom,
            "own_syllabus": classroom.curriculum.owner_id == request.user.pk,
            "settings_form": ClassSettingsForm(
                initial={
                    "unsupported_policy": class_settings.unsupported_policy,
                    "hint_first": class_settings.hint_first,
                }
            ),
            "upload_form": UploadForm(),
            "uploads": upload_list(classroom=classroom, teacher=request.user, limit=10),
            "roster": classroom_roster(classroom=classroom),
            "mastery_columns": table.topics,
            "heatmap": _heatmap(table),
            "by_topic": by_topic,
            "review_state": state or "all",
            "review_items": review_sentence_list(classroom=classroom, state=state, limit=50),
            "bars": bars,
            "chart_width": chart_width,
            "progress_bars": progress_bars,
            "progress_width": progress_width,
            "verifier": _verifier_view(),
            "chart_height": _CHART_HEIGHT,
            "chart_base": 10 + _CHART_HEIGHT,
            "bar_width": _BAR_WIDTH,
        },
    )


@login_required
@require_POST
def review_save(request: HttpRequest, classroom_id: int, sentence_id: int) -> HttpResponse:
    classroom = _own_class(request, classroom_id)
    sentence = review_sentence_get(classroom=classroom, sentence_id=sentence_id)
    if sentence is None:
        raise Http404("No such sentence to review in this class.")
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose confirm, correct or missing from the syllabus.")
    else:
        try:
            sentence_review_save(teacher=request.user, sentence=sentence, **form.cleaned_data)
        except ClassroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Review saved.")
    return redirect(reverse("teacher-class", kwargs={"classroom_id": classroom.pk}) + f"#sentence-{sentence.pk}")


@login_required
@require_POST
def settings_save(request: HttpRequest, classroom_id: int) -> HttpResponse:
    classroom = _own_class(request, classroom_id)
    form = ClassSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how unsupported sentences are shown.")
    else:
        try:
            classroom_settings_update(classroom=classroom, **form.cleaned_data)
        except ClassroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Settings saved.")
    return redirect(reverse("teacher-class", kwargs={"classroom_id": classroom.pk}) + "#settings-heading")


@login_required
@require_POST
def upload_create(request: HttpRequest, classroom_id: int) -> HttpResponse:
    """The upload form without JavaScript: queue the import and come back to the class page, whose
    upload list shows where it stands (with JavaScript the page posts to the REST API and polls it)."""
    classroom = _own_class(request, classroom_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
    else:
        upload = form.cleaned_data["file"]
        try:
            check_upload_size(filename=upload.name, size=upload.size)
            classroom_upload_create(
                teacher=request.user, classroom=classroom, filename=upload.name, content=upload.read()
            )
        except SyllabusImportError as exc:
            messages.error(request, str(exc))
        except ClassroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{upload.name} is being imported.")
    return redirect(reverse("teacher-class", kwargs={"classroom_id": classroom.pk}) + "#syllabus-heading")


@login_required
def join_class(request: HttpRequest) -> HttpResponse:
    form = JoinClassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = classroom_join(student=request.user, code=form.cleaned_data["code"])
        except ClassroomError as exc:
            form.add_error("code", exc.message)
        else:
            assert enrollment.classroom is not None
            messages.success(request, f"You joined {enrollment.classroom.name}.")
            return redirect("study", slug=enrollment.curriculum.slug)
    return render(
        request, "teacher/join.html", {"form": form, "classes": classroom_list_for_student(student=request.user)}
    )


@dataclass(frozen=True, kw_only=True)
class VerifierView:
    """The verifier's operating point as the settings explain it, in percent."""

    checker_version: str
    threshold_pct: float
    passed: int = 0
    precision_pct: float | None = None
    """None when this checker was never measured (or passed no claim)."""
    precision_low_pct: float | None = None
    recall_pct: float | None = None
    measured_on: str = ""
    date: str = ""


def _verifier_view() -> VerifierView:
    point = verifier_operating_point()
    measured = point.measured
    if measured is None or measured.precision is None:
        return VerifierView(checker_version=point.checker_version, threshold_pct=point.threshold * 100)
    return VerifierView(
        checker_version=point.checker_version,
        threshold_pct=point.threshold * 100,
        passed=measured.labelled_supported,
        precision_pct=round(measured.precision * 100, 1),
        precision_low_pct=round((measured.precision_lower_95 or 0.0) * 100, 1),
        recall_pct=round(measured.recall * 100, 1),
        measured_on=measured.measured_on,
        date=measured.date,
    )
