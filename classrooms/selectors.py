"""Reads for classes, always scoped to the asking teacher's own classes (or the student's own
enrolments): a class of another teacher reads as absent, never as forbidden."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek

from curriculum.models import Classroom, Curriculum, Enrollment, IngestionJob
from curriculum.selectors import chunk_map
from curriculum.services import ingestion_job_progress
from learning.models import MasteryState, PracticeAnswer
from learning.selectors import bkt_params_for, curriculum_topics
from tutor.models import AnswerSentence, SentenceReview
from verification.models import VerificationRecord

from .models import ClassroomSettings


def classroom_list_for_teacher(*, teacher: AbstractBaseUser) -> QuerySet[Classroom]:
    return (
        Classroom.objects.filter(teacher=teacher)
        .select_related("curriculum", "join_code")
        .annotate(student_count=Count("enrollments", distinct=True))
        .order_by("name", "id")
    )


def classroom_get_for_teacher(*, teacher: AbstractBaseUser, classroom_id: int) -> Classroom | None:
    """The teacher's own class; None for a class that does not exist or is someone else's."""
    return classroom_list_for_teacher(teacher=teacher).filter(pk=classroom_id).first()


def classroom_roster(*, classroom: Classroom) -> QuerySet[Enrollment]:
    """The class's students (their enrolments), by username."""
    return (
        Enrollment.objects.filter(classroom=classroom, curriculum_id=classroom.curriculum_id)
        .select_related("student")
        .order_by("student__username", "student_id")
    )


def classroom_list_for_student(*, student: AbstractBaseUser) -> QuerySet[Enrollment]:
    """The classes the student has joined (as their enrolments), by class name."""
    return (
        Enrollment.objects.filter(student=student, classroom__isnull=False)
        .select_related("classroom__teacher", "classroom__curriculum")
        .order_by("classroom__name", "classroom_id")
    )


# --- settings ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ClassSettings:
    unsupported_policy: str
    """"withhold" or "mark": how the class's students see a sentence the verifier could not support."""
    hint_first: bool
    """The tutor starts with a hint and gives the answer when asked again."""


def classroom_settings_get(*, classroom: Classroom) -> ClassSettings:
    """The class's settings; the defaults (the curriculum's policy, answers first) where none were saved."""
    saved = ClassroomSettings.objects.filter(classroom=classroom).first()
    if saved is None:
        return ClassSettings(unsupported_policy=classroom.curriculum.unsupported_policy, hint_first=False)
    return ClassSettings(unsupported_policy=saved.unsupported_policy, hint_first=saved.hint_first)


# --- syllabus uploads -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UploadProgress:
    job_id: int
    filename: str
    status: str
    """pending, running, succeeded or failed (``IngestionJob.Status``)."""
    done: int
    """Passages embedded and indexed so far."""
    total: int
    """Passages to index; 0 until the file is parsed."""
    error: str
    result: dict
    """Once succeeded: units, topics, chunks_indexed, questions."""
    created_at: datetime

    @property
    def percent(self) -> int:
        if self.status == IngestionJob.Status.SUCCEEDED:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


def _uploads(*, classroom: Classroom, teacher: AbstractBaseUser) -> QuerySet[IngestionJob]:
    return IngestionJob.objects.filter(curriculum_id=classroom.curriculum_id, created_by=teacher, kind="upload")


def upload_progress(*, job: IngestionJob) -> UploadProgress:
    """Where an upload's import stands: a running job's progress is read from the cache the worker
    writes it to (the job's row is only written when it ends)."""
    done, total = job.progress_done, job.progress_total
    if job.status == IngestionJob.Status.RUNNING:  # a pending job has made no progress, whatever is cached
        live = ingestion_job_progress(job_id=job.pk)
        if live is not None:
            done, total = live
    return UploadProgress(
        job_id=job.pk,
        filename=job.filename,
        status=job.status,
        done=done,
        total=total,
        error=job.error,
        result=job.result,
        created_at=job.created_at,
    )


def upload_list(*, classroom: Classroom, teacher: AbstractBaseUser, limit: int = 20) -> list[UploadProgress]:
    """The teacher's uploads to the class's syllabus, newest first."""
    jobs = _uploads(classroom=classroom, teacher=teacher).order_by("-created_at", "-id")[:limit]
    return [upload_progress(job=job) for job in jobs]


def upload_get(*, classroom: Classroom, teacher: AbstractBaseUser, job_id: int) -> UploadProgress | None:
    """One of the teacher's uploads to this class's syllabus; None for anyone else's job."""
    job = _uploads(classroom=classroom, teacher=teacher).filter(pk=job_id).first()
    return upload_progress(job=job) if job is not None else None


# --- mastery ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MasteryTopic:
    topic_id: int
    label: str
    chapter: str


@dataclass(frozen=True, kw_only=True)
class MasteryCell:
    mastery: float
    """The BKT estimate; the topic's prior when the student has not answered on it yet."""
    answers: int


@dataclass(frozen=True, kw_only=True)
class MasteryRow:
    student_id: int
    username: str
    cells: list[MasteryCell]
    """One per topic, in the table's topic order."""


@dataclass(frozen=True, kw_only=True)
class MasteryTable:
    topics: list[MasteryTopic]
    rows: list[MasteryRow]


def classroom_mastery(*, classroom: Classroom) -> MasteryTable:
    """Students × topics: each student's mastery of each topic of the class's curriculum (book order)."""
    topics = curriculum_topics(curriculum=classroom.curriculum)
    ids = [t.pk for t in topics]
    priors = bkt_params_for(curriculum=classroom.curriculum, topic_ids=ids)
    roster = list(classroom_roster(classroom=classroom))
    states: dict[tuple[int, int], tuple[float, int]] = {
        (student_id, topic_id): (mastery, answers)
        for student_id, topic_id, mastery, answers in MasteryState.objects.filter(
            student_id__in=[e.student_id for e in roster], topic__unit__curriculum_id=classroom.curriculum_id
        ).values_list("student_id", "topic_id", "mastery", "answers")
    }
    rows = []
    for enrollment in roster:
        cells = []
        for topic_id in ids:
            mastery, answers = states.get((enrollment.student_id, topic_id), (priors[topic_id].p_init, 0))
            cells.append(MasteryCell(mastery=mastery, answers=answers))
        rows.append(
            MasteryRow(student_id=enrollment.student_id, username=enrollment.student.get_username(), cells=cells)
        )
    return MasteryTable(
        topics=[MasteryTopic(topic_id=t.pk, label=t.label, chapter=t.unit.title) for t in topics], rows=rows
    )


def mastery_by_chapter(*, table: MasteryTable) -> MasteryTable:
    """The table with a column per chapter: the mean mastery of its topics and their answers summed
    (a whole book has hundreds of sections; a page shows its chapters). A column's ``topic_id`` is
    its first topic's."""
    chapters: dict[str, list[int]] = {}
    for position, topic in enumerate(table.topics):
        chapters.setdefault(topic.chapter, []).append(position)
    columns = [
        MasteryTopic(topic_id=table.topics[positions[0]].topic_id, label=chapter, chapter=chapter)
        for chapter, positions in chapters.items()
    ]
    rows = [
        MasteryRow(
            student_id=row.student_id,
            username=row.username,
            cells=[
                MasteryCell(
                    mastery=sum(row.cells[p].mastery for p in positions) / len(positions),
                    answers=sum(row.cells[p].answers for p in positions),
                )
                for positions in chapters.values()
            ],
        )
        for row in table.rows
    ]
    return MasteryTable(topics=columns, rows=rows)


# --- verification review ----------------------------------------------------------------------------

REVIEW_OPEN = "open"
REVIEW_REVIEWED = "reviewed"


def _class_sentences(*, classroom: Classroom) -> QuerySet[AnswerSentence]:
    """Answer sentences of the class's students, in conversations on the class's curriculum."""
    return AnswerSentence.objects.filter(
        message__conversation__curriculum_id=classroom.curriculum_id,
        message__student__enrollments__classroom=classroom,
        message__student__enrollments__curriculum_id=classroom.curriculum_id,
    )


def _flagged() -> Q:
    """What the verifier did not let through as drafted: withheld, marked, or replaced by a revision."""
    return ~Q(delivery=AnswerSentence.Delivery.RELEASED) | ~Q(original_text="")


@dataclass(frozen=True, kw_only=True)
class EvidencePassage:
    chunk_id: int
    label: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReviewItem:
    sentence: AnswerSentence
    """With ``message`` (its question, student) and ``review`` loaded."""
    evidence: list[EvidencePassage]
    """The passages the verifier checked the sentence against (citations first), deduplicated."""


def review_sentence_list(*, classroom: Classroom, state: str | None = None, limit: int = 200) -> list[ReviewItem]:
    """The class's flagged sentences, newest answer first, each with its evidence. ``state``: "open"
    (not reviewed yet), "reviewed", or None for both."""
    sentences = (
        _class_sentences(classroom=classroom)
        .filter(_flagged())
        .select_related("message__student", "review__teacher")
        .order_by("-message__created_at", "-message_id", "index")
    )
    if state == REVIEW_OPEN:
        sentences = sentences.filter(review__isnull=True)
    elif state == REVIEW_REVIEWED:
        sentences = sentences.filter(review__isnull=False)
    rows = list(sentences[:limit])
    return _with_evidence(rows)


def review_sentence_get(*, classroom: Classroom, sentence_id: int) -> AnswerSentence | None:
    """A flagged sentence of this class, or None (another class's, or one the verifier released)."""
    return _class_sentences(classroom=classroom).filter(_flagged()).filter(pk=sentence_id).first()


def _with_evidence(sentences: list[AnswerSentence]) -> list[ReviewItem]:
    run_ids = {s.message.verification_run_id for s in sentences if s.message.verification_run_id}
    checked: dict[tuple[int, int], list[int]] = defaultdict(list)
    for run_id, index, chunk_ids in VerificationRecord.objects.filter(run_id__in=run_ids).values_list(
        "run_id", "sentence_index", "evidence_chunk_ids"
    ):
        checked[(run_id, index)].extend(int(c) for c in chunk_ids)
    wanted: dict[int, list[int]] = {}
    for s in sentences:
        ids = [int(c["chunk_id"]) for c in s.citations if "chunk_id" in c]
        if s.message.verification_run_id:
            ids += checked.get((s.message.verification_run_id, s.index), [])
        wanted[s.pk] = list(dict.fromkeys(ids))
    chunks = chunk_map(chunk_ids={c for ids in wanted.values() for c in ids})
    return [
        ReviewItem(
            sentence=s,
            evidence=[
                EvidencePassage(chunk_id=c, label=chunks[c].document.topic.label, text=chunks[c].text)
                for c in wanted[s.pk]
                if c in chunks
            ],
        )
        for s in sentences
    ]


# --- hallucination rate -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WeekRate:
    week: date
    """The Monday the week starts on."""
    drafted: int
    """Sentences drafted and checked by the verifier."""
    withheld: int
    """Unsupported and withheld."""
    marked: int
    """Unsupported and shown marked."""
    replaced: int
    """Released after a revision rewrote the draft."""
    flagged: int
    """Withheld, marked or replaced (a sentence counts once)."""

    @property
    def rate(self) -> float:
        return self.flagged / self.drafted if self.drafted else 0.0


def hallucination_rate_by_week(
    *, curriculum: Curriculum, classroom: Classroom | None = None, since: datetime | None = None
) -> list[WeekRate]:
    """Per week, the share of the verifier-checked sentences drafted on this curriculum that the
    verifier found unsupported (withheld, or marked under the "mark" policy) or that a revision
    replaced; only the class's students' when ``classroom`` is given. A supported sentence held back
    by a composition rule is no hallucination and is not flagged; sentences with no verdict
    (verification off) were not checked and are not counted."""
    sentences = (
        _class_sentences(classroom=classroom)
        if classroom is not None
        else AnswerSentence.objects.filter(message__conversation__curriculum=curriculum)
    )
    sentences = sentences.filter(verdict__isnull=False)
    if since is not None:
        sentences = sentences.filter(message__created_at__gte=since)
    replaced = ~Q(original_text="")
    unsupported = ~Q(verdict=AnswerSentence.Verdict.SUPPORTED)
    rows = (
        sentences.annotate(week=TruncWeek("message__created_at"))
        .values("week")
        .annotate(
            drafted=Count("id"),
            withheld=Count("id", filter=unsupported & Q(delivery=AnswerSentence.Delivery.WITHHELD)),
            marked=Count("id", filter=unsupported & Q(delivery=AnswerSentence.Delivery.MARKED)),
            replaced=Count("id", filter=replaced),
            flagged=Count("id", filter=unsupported | replaced),
        )
        .order_by("week")
    )
    return [
        WeekRate(
            week=row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            drafted=row["drafted"],
            withheld=row["withheld"],
            marked=row["marked"],
            replaced=row["replaced"],
            flagged=row["flagged"],
        )
        for row in rows
    ]


# --- class progress over time ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class WeekProgress:
    week: date
    """The Monday the week starts on."""
    answers: int
    """Graded practice answers the class's students gave on the class's curriculum that week."""
    correct: int
    """Of those, right at the first try."""
    students: int
    """Students of the class who answered at least once that week."""

    @property
    def share_right(self) -> float:
        return self.correct / self.answers if self.answers else 0.0


def class_progress_by_week(*, classroom: Classroom, since: datetime | None = None) -> list[WeekProgress]:
    """Per week with any practice, how much the class's students practised the class's curriculum
    and how often they were right: the class's progress over time, oldest week first."""
    answers = PracticeAnswer.objects.filter(
        session_question__session__enrollment__classroom=classroom,
        session_question__session__enrollment__curriculum_id=classroom.curriculum_id,
    )
    if since is not None:
        answers = answers.filter(answered_at__gte=since)
    rows = (
        answers.annotate(week=TruncWeek("answered_at"))
        .values("week")
        .annotate(
            answers=Count("id"),
            correct=Count("id", filter=Q(correct=True)),
            students=Count("session_question__session__student", distinct=True),
        )
        .order_by("week")
    )
    return [
        WeekProgress(
            week=row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            answers=row["answers"],
            correct=row["correct"],
            students=row["students"],
        )
        for row in rows
    ]


# --- corrections export -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LabelledClaim:
    """One record of ../shared/eval/claims.jsonl: ``label`` 1 when the passage supports the claim."""

    id: str
    passage_id: str
    claim: str
    label: int
    source: str


@dataclass(frozen=True, kw_only=True)
class LabelledPassage:
    id: str
    text: str


def correction_pairs() -> tuple[list[LabelledClaim], list[LabelledPassage]]:
    """Every teacher review as labelled (claim, passage) pairs for the verifier's training data, in the
    dev set's format. The passage is the evidence the verifier checked the sentence against. A
    confirmed flag labels the draft 0 (and a revision that replaced it 1); a correction labels the
    draft 0 and the correction 1 — unless the correction restates the draft, which says the verifier
    was wrong: the draft is then labelled 1. Reviews of sentences with no stored evidence are skipped."""
    reviews = list(
        SentenceReview.objects.select_related("sentence__message__conversation__curriculum").order_by(
            "reviewed_at", "id"
        )
    )
    items = _with_evidence([r.sentence for r in reviews])
    claims: list[LabelledClaim] = []
    passages: list[LabelledPassage] = []
    for review, item in zip(reviews, items, strict=True):
        if not item.evidence:
            continue
        sentence = review.sentence
        source = f"teacher-{sentence.message.conversation.curriculum.slug}"
        passage_id = f"veritutor:sentence:{sentence.pk}"
        passages.append(LabelledPassage(id=passage_id, text="\n\n".join(e.text for e in item.evidence)))
        draft = sentence.original_text or sentence.text

        def claim(kind: str, text: str, label: int, *, passage_id: str = passage_id, source: str = source) -> None:
            claims.append(
                LabelledClaim(id=f"{passage_id}:{kind}", passage_id=passage_id, claim=text, label=label, source=source)
            )

        if review.outcome in (SentenceReview.Outcome.CONFIRMED, SentenceReview.Outcome.SYLLABUS_GAP):
            # A syllabus gap: true, but these passages do not say it, which is what the label is of.
            claim("draft", draft, 0)
            if sentence.original_text:
                claim("revision", sentence.text, 1)
        elif _same_text(review.correction, draft):
            claim("draft", draft, 1)
        else:
            claim("draft", draft, 0)
            claim("correction", review.correction, 1)
    return claims, passages


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold().rstrip(".") == " ".join(b.split()).casefold().rstrip(".")
