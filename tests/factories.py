"""factory_boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from curriculum.models import Chunk, Classroom, Curriculum, Enrollment, SyllabusDocument, Topic, Unit
from curriculum.selectors import TEACHER_GROUP


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"student{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")


class TeacherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"teacher{n}")

    @factory.post_generation
    def teacher_group(self, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=TEACHER_GROUP)
            self.groups.add(group)


class CurriculumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Curriculum

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.Sequence(lambda n: f"Course {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    curriculum = factory.SubFactory(CurriculumFactory)
    title = factory.Sequence(lambda n: f"Unit {n}")
    position = factory.Sequence(lambda n: n + 1)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    unit = factory.SubFactory(UnitFactory)
    title = factory.Sequence(lambda n: f"Topic {n}")
    position = factory.Sequence(lambda n: n + 1)


class SyllabusDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyllabusDocument

    topic = factory.SubFactory(TopicFactory)
    source_id = factory.Sequence(lambda n: f"m{10000 + n}")
    title = factory.LazyAttribute(lambda d: d.topic.title)
    text = "Placeholder text."
    content_hash = factory.Sequence(lambda n: f"{n:064x}")


class ChunkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chunk

    document = factory.SubFactory(SyllabusDocumentFactory)
    curriculum = factory.LazyAttribute(lambda c: c.document.topic.unit.curriculum)
    position = factory.Sequence(lambda n: n)
    text = "Placeholder chunk."


class ClassroomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Classroom

    teacher = factory.SubFactory(TeacherFactory)
    curriculum = factory.SubFactory(CurriculumFactory)
    name = factory.Sequence(lambda n: f"Class {n}")


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    student = factory.SubFactory(UserFactory)
    curriculum = factory.SubFactory(CurriculumFactory)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tutor.Conversation"

    student = factory.SubFactory(UserFactory)
    curriculum = factory.SubFactory(CurriculumFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tutor.Message"

    conversation = factory.SubFactory(ConversationFactory)
    student = factory.SelfAttribute("conversation.student")
    question = factory.Sequence(lambda n: f"Question {n}?")


class AnswerSentenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tutor.AnswerSentence"

    message = factory.SubFactory(MessageFactory)
    index = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Sentence {n}.")
    verdict = "supported"
    delivery = "released"


class VerificationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "verification.VerificationRun"

    kind = "answer"
    status = "done"


class VerificationRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "verification.VerificationRecord"

    run = factory.SubFactory(VerificationRunFactory)
    sentence_index = 0
    claim = "A claim."
    verdict = "unsupported"
    score = 0.1
    evidence_chunk_ids = factory.LazyFunction(list)
    latency_ms = 1.0


class TeachingClassroomFactory(ClassroomFactory):
    """A class made as a teacher makes one: with its join code."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def join_code(self, create, extracted, **kwargs):
        if create:
            from classrooms.services import join_code_issue

            join_code_issue(classroom=self)


class MasteryStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "learning.MasteryState"

    student = factory.SubFactory(UserFactory)
    topic = factory.SubFactory(TopicFactory)
    mastery = 0.5
    answers = 1


class IngestionJobFactory(factory.django.DjangoModelFactory):
    """An upload job as ``ingestion_job_create`` leaves it: pending, its file stored under ``upload``."""

    class Meta:
        model = "curriculum.IngestionJob"

    curriculum = factory.SubFactory(CurriculumFactory)
    kind = "upload"
    filename = "notes.md"
    status = "pending"
    upload = factory.django.FileField(filename="notes.md", data=b"# Notes\n\n## Osmosis\n\nWater crosses membranes.\n")
