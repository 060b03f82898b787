"""The learner model's web pages: today's plan with progress, and practice one question at a time.

Server-rendered forms over the same services as the REST API (learning.services), so they work
without JavaScript.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from curriculum.models import Chunk, Curriculum
from curriculum.selectors import curriculum_can_study, curriculum_get, topic_get
from learning.models import ClassroomPlanDefault, PracticeAnswer, SessionQuestion, TextAnswer
from learning.selectors import (
    classroom_plan_default_get,
    enrollment_get,
    hint_first_for,
    plan_days,
    plan_item_status,
    practice_session_get,
    progress_by_topic,
    reviews_due,
    study_plan_get,
)
from learning.services import (
    LearningError,
    practice_answer_submit,
    practice_hint_show,
    practice_preference_set,
    practice_session_finish,
    practice_session_start,
    practice_text_answer_assess,
    practice_text_answer_submit,
    study_plan_enrol,
    study_plan_refresh,
    study_plan_reschedule,
)


def _curriculum_for(request: HttpRequest, slug: str) -> Curriculum | None:
    curriculum = curriculum_get(slug=slug)
    if curriculum is None:
        raise Http404("No such syllabus.")
    if not curriculum_can_study(user=request.user, curriculum=curriculum):
        messages.info(request, f"Enrol in {curriculum.title} to study it.")
        return None
    return curriculum


# A week of coming days on the page (a phone screen); the rest is counted, not listed.
UPCOMING_DAYS_SHOWN = 7


@login_required
def plan_page(request: HttpRequest, slug: str) -> HttpResponse:
    curriculum = _curriculum_for(request, slug)
    if curriculum is None:
        return redirect("home")
    plan = study_plan_get(student=request.user, curriculum=curriculum)
    if plan is not None:
        plan = study_plan_refresh(plan=plan)
    today = timezone.localdate()
    days = plan_days(plan=plan, start=today) if plan else []
    today_items = days[0].items if days and days[0].day == today else []
    coming = [day for day in days if day.day > today]
    upcoming = coming[:UPCOMING_DAYS_SHOWN]
    return render(
        request,
        "learning/plan.html",
        {
            "curriculum": curriculum,
            "plan": plan,
            "today": today,
            "today_items": [(item, plan_item_status(item=item, today=today)) for item in today_items],
            "upcoming": upcoming,
            "later_study_days": len(coming) - len(upcoming),
            "days_to_exam": (plan.enrollment.exam_date - today).days if plan and plan.enrollment.exam_date else None,
            "progress": progress_by_topic(student=request.user, curriculum=curriculum),
            "reviews_due": reviews_due(student=request.user, curriculum=curriculum).count(),
            "hint_first": hint_first_for(
                student=request.user, enrollment=enrollment_get(student=request.user, curriculum=curriculum)
            ),
            "class_default": _class_default(request, curriculum),
        },
    )


def _class_default(request: HttpRequest, curriculum: Curriculum) -> ClassroomPlanDefault | None:
    enrollment = enrollment_get(student=request.user, curriculum=curriculum)
    if enrollment is None or enrollment.classroom is None:
        return None
    return classroom_plan_default_get(classroom=enrollment.classroom)


@login_required
@require_POST
def plan_save(request: HttpRequest, slug: str) -> HttpResponse:
    curriculum = _curriculum_for(request, slug)
    if curriculum is None:
        return redirect("home")
    if request.POST.get("action") == "hint_first":
        # The student's hint-first switch: "1", "0", or "" for their class's setting.
        value = request.POST.get("hint_first", "")
        practice_preference_set(student=request.user, hint_first=None if value == "" else value == "1")
        messages.success(request, "Your practice setting is saved.")
        return redirect("learning-plan", slug=slug)
    try:
        exam_date = date.fromisoformat(request.POST.get("exam_date", ""))
        daily_minutes = int(request.POST.get("daily_minutes", ""))
    except ValueError:
        messages.error(request, "Give the exam date (YYYY-MM-DD) and the minutes a day you can study.")
        return redirect("learning-plan", slug=slug)
    plan = study_plan_get(student=request.user, curriculum=curriculum)
    try:
        if plan is None:
            study_plan_enrol(
                student=request.user, curriculum=curriculum, exam_date=exam_date, daily_minutes=daily_minutes
            )
        else:
            study_plan_reschedule(plan=plan, exam_date=exam_date, daily_minutes=daily_minutes)
    except LearningError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your plan is up to date.")
    return redirect("learning-plan", slug=slug)


@login_required
@require_POST
def practice_start(request: HttpRequest, slug: str) -> HttpResponse:
    curriculum = _curriculum_for(request, slug)
    if curriculum is None:
        return redirect("home")
    kind = request.POST.get("kind", "plan")
    topic = None
    if kind == "topic":
        try:
            topic = topic_get(topic_id=int(request.POST.get("topic_id", "")))
        except ValueError:
            topic = None
    try:
        session = practice_session_start(
            student=request.user,
            curriculum=curriculum,
            kind=kind,
            topic=topic,
            question_format=request.POST.get("question_format", "choice"),
        )
    except LearningError as error:
        messages.error(request, error.message)
        return redirect("learning-plan", slug=slug)
    return redirect("learning-practice", session_id=session.pk)


@login_required
def practice_page(request: HttpRequest, session_id: int) -> HttpResponse:
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such practice session.")
    served = list(SessionQuestion.objects.filter(session=session).select_related("question__topic__unit"))
    answers = {a.session_question_id: a for a in PracticeAnswer.objects.filter(session_question__session=session)}
    checks = {t.session_question_id: t for t in TextAnswer.objects.filter(session_question__session=session)}

    def open_question(s: SessionQuestion) -> bool:
        answer = answers.get(s.pk)
        if answer is None:
            return True
        # hint-first: a wrong first answer is tried once more before the key is shown
        return session.hint_first and not answer.correct and answer.retry_option is None

    current = next((s for s in served if open_question(s)), None)
    last = None
    if "answered" in request.GET:
        last = next((s for s in served if str(s.position) == request.GET["answered"] and s.pk in answers), None)
    last_answer = answers.get(last.pk) if last else None
    # A typed answer the verifier could not confirm waits for the student's own assessment.
    awaiting = checks.get(current.pk) if current is not None else None
    evidence = []
    if awaiting is not None:
        evidence = list(Chunk.objects.filter(pk__in=awaiting.evidence_chunk_ids).select_related("document__topic"))
    return render(
        request,
        "learning/practice.html",
        {
            "session": session,
            "curriculum": session.enrollment.curriculum,
            "current": current,
            "retrying": current is not None and current.pk in answers,
            "awaiting": awaiting,
            "evidence": evidence,
            "last": last,
            "last_answer": last_answer,
            "last_check": checks.get(last.pk) if last else None,
            "show_key": last_answer is not None
            and (not session.hint_first or last_answer.correct or last_answer.retry_option is not None),
            "answered": len(answers),
            "total": len(served),
            "correct": sum(1 for a in answers.values() if a.correct),
        },
    )


@login_required
@require_POST
def practice_answer(request: HttpRequest, session_id: int) -> HttpResponse:
    """One form target for a question: ``action`` is ``hint``, ``assess`` (a typed answer's own grade)
    or the answer itself (an ``option`` chosen, or ``text`` typed)."""
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such practice session.")
    here = reverse("learning-practice", kwargs={"session_id": session_id})
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        return redirect(here)
    action = request.POST.get("action", "answer")
    try:
        if action == "hint":
            hint = practice_hint_show(session=session, position=position)
            messages.info(request, f"Hint ({hint.section}): {hint.text}")
            return redirect(here)
        if action == "assess":
            practice_text_answer_assess(session=session, position=position, correct=request.POST.get("correct") == "1")
        elif "text" in request.POST:
            checked = practice_text_answer_submit(session=session, position=position, text=request.POST["text"])
            if checked.graded is None:
                return redirect(here)  # the page shows the key and the evidence to assess it against
        else:
            try:
                option = int(request.POST.get("option", ""))
            except ValueError:
                messages.error(request, "Choose one of the options.")
                return redirect(here)
            graded = practice_answer_submit(session=session, position=position, option=option)
            if graded.can_retry and graded.hint is not None:
                messages.info(request, f"Not quite. Hint ({graded.hint.section}): {graded.hint.text} Try once more.")
                return redirect(here)
    except LearningError as error:
        messages.error(request, error.message)
        return redirect(here)
    # Back to the session page, which shows this answer's feedback above the next question.
    return redirect(f"{here}?answered={position}")


@login_required
@require_POST
def practice_finish(request: HttpRequest, session_id: int) -> HttpResponse:
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such practice session.")
    summary = practice_session_finish(session=session)
    messages.success(request, f"Session finished: {summary.correct} of {summary.answered} right.")
    return redirect("learning-plan", slug=session.enrollment.curriculum.slug)
