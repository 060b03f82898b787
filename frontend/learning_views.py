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

from curriculum.models import Curriculum
from curriculum.selectors import curriculum_can_study, curriculum_get, topic_get
from learning.models import PracticeAnswer, SessionQuestion
from learning.selectors import (
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
    practice_session_finish,
    practice_session_start,
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
    upcoming = [day for day in days if day.day > today][:7]
    return render(
        request,
        "learning/plan.html",
        {
            "curriculum": curriculum,
            "plan": plan,
            "today": today,
            "today_items": [(item, plan_item_status(item=item, today=today)) for item in today_items],
            "upcoming": upcoming,
            "progress": progress_by_topic(student=request.user, curriculum=curriculum),
            "reviews_due": reviews_due(student=request.user, curriculum=curriculum).count(),
        },
    )


@login_required
@require_POST
def plan_save(request: HttpRequest, slug: str) -> HttpResponse:
    curriculum = _curriculum_for(request, slug)
    if curriculum is None:
        return redirect("home")
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
        session = practice_session_start(student=request.user, curriculum=curriculum, kind=kind, topic=topic)
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
    current = next((s for s in served if s.pk not in answers), None)
    last = None
    if "answered" in request.GET:
        last = next((s for s in served if str(s.position) == request.GET["answered"] and s.pk in answers), None)
    return render(
        request,
        "learning/practice.html",
        {
            "session": session,
            "curriculum": session.enrollment.curriculum,
            "current": current,
            "last": last,
            "last_answer": answers.get(last.pk) if last else None,
            "answered": len(answers),
            "total": len(served),
            "correct": sum(1 for a in answers.values() if a.correct),
        },
    )


@login_required
@require_POST
def practice_answer(request: HttpRequest, session_id: int) -> HttpResponse:
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such practice session.")
    try:
        position = int(request.POST.get("position", ""))
        option = int(request.POST.get("option", ""))
    except ValueError:
        messages.error(request, "Choose one of the options.")
        return redirect("learning-practice", session_id=session_id)
    try:
        practice_answer_submit(session=session, position=position, option=option)
    except LearningError as error:
        messages.error(request, error.message)
        return redirect("learning-practice", session_id=session_id)
    # Back to the session page, which shows this answer's feedback above the next question.
    return redirect(f"{reverse('learning-practice', kwargs={'session_id': session_id})}?answered={position}")


@login_required
@require_POST
def practice_finish(request: HttpRequest, session_id: int) -> HttpResponse:
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise Http404("No such practice session.")
    summary = practice_session_finish(session=session)
    messages.success(request, f"Session finished: {summary.correct} of {summary.answered} right.")
    return redirect("learning-plan", slug=session.enrollment.curriculum.slug)
