"""Curriculum REST API: catalogue, tree, search scoped to enrolment, teacher-only uploads with progress."""

import pytest
from rest_framework.authtoken.models import Token

from curriculum.models import IngestionJob, Topic, Unit
from tests.factories import (
    ChunkFactory,
    ClassroomFactory,
    CurriculumFactory,
    EnrollmentFactory,
    SyllabusDocumentFactory,
    TeacherFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PSYCHOLOGY_ATTRIBUTION = (
    "Psychology 2e by OpenStax (Rice University), licensed under the Creative Commons Attribution License "
    "(http://creativecommons.org/licenses/by/4.0/). Access for free at openstax.org."
)


def _auth(client, user):
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_anonymous_requests_are_refused_with_the_error_body(api_client):
    response = api_client.get("/api/v1/curricula/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_catalogue_and_tree(api_client, imported_mini_book):
    # given
    _auth(api_client, UserFactory())

    # when
    listing = api_client.get("/api/v1/curricula/").json()
    detail = api_client.get("/api/v1/curricula/mini-physics/").json()
    unit = Unit.objects.get(title="Motion")
    unit_detail = api_client.get(f"/api/v1/units/{unit.pk}/").json()
    topic = Topic.objects.get(title="Acceleration")
    topic_detail = api_client.get(f"/api/v1/topics/{topic.pk}/").json()

    # then
    assert [(c["slug"], c["unit_count"]) for c in listing["results"]] == [("mini-physics", 2)]
    assert [(u["title"], u["part"], u["topic_count"]) for u in detail["units"]] == [
        ("Motion", "Mechanics", 2),
        ("Thermodynamics", "", 1),
    ]
    assert [t["title"] for t in unit_detail["topics"]] == ["Velocity and Speed", "Acceleration"]
    assert (topic_detail["unit"], topic_detail["curriculum"]) == ("Motion", "mini-physics")


def test_search_needs_enrolment_and_returns_ranked_chunks(api_client, imported_mini_book):
    # given
    student = UserFactory()
    _auth(api_client, student)

    # when not enrolled
    refused = api_client.get("/api/v1/curricula/mini-physics/search/", {"q": "boiling point of water"})

    # then
    assert refused.status_code == 403

    # when enrolled
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    results = api_client.get("/api/v1/curricula/mini-physics/search/", {"q": "boiling point of water", "k": 2}).json()

    # then
    assert len(results) == 2
    assert results[0]["module"] == "m90003"
    assert "100 degrees Celsius" in results[0]["text"]
    assert results[0]["topic_path"] == "Thermodynamics › Heat and Temperature"
    assert results[0]["label"] == "2.1 Heat and Temperature"


def test_a_cited_passage_opens_with_its_section_and_attribution(api_client):
    # given a passage of a numbered section of an attributed book, and an enrolled student
    curriculum = CurriculumFactory(slug="psychology-2e", title="Psychology 2e", attribution=PSYCHOLOGY_ATTRIBUTION)
    topic = TopicFactory(
        unit=UnitFactory(curriculum=curriculum, number="6", title="Learning"),
        number="6.3",
        title="Operant Conditioning",
    )
    chunk = ChunkFactory(
        document=SyllabusDocumentFactory(topic=topic, source_id="m82201"),
        text="In operant conditioning, organisms learn to associate a behavior and its consequence.",
    )
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=curriculum)
    _auth(api_client, student)

    # when the student opens it
    response = api_client.get(f"/api/v1/passages/{chunk.pk}/")

    # then it reads as the book names it, with the licence's attribution
    assert response.status_code == 200
    assert response.json() == {
        "chunk_id": chunk.pk,
        "curriculum": "psychology-2e",
        "book": "Psychology 2e",
        "label": "6.3 Operant Conditioning",
        "section": "6.3",
        "topic": "Operant Conditioning",
        "unit": "Learning",
        "module": "m82201",
        "text": "In operant conditioning, organisms learn to associate a behavior and its consequence.",
        "attribution": PSYCHOLOGY_ATTRIBUTION,
    }


def test_a_passage_of_a_curriculum_the_student_does_not_study_is_not_found(api_client):
    # given a passage of a curriculum the student is not enrolled in
    chunk = ChunkFactory()
    _auth(api_client, UserFactory())

    # when / then: as absent as a passage that does not exist
    assert api_client.get(f"/api/v1/passages/{chunk.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/passages/{chunk.pk + 1000}/").status_code == 404


def test_search_rejects_a_bad_k_with_field_details(api_client, imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    _auth(api_client, student)
    response = api_client.get("/api/v1/curricula/mini-physics/search/", {"q": "heat", "k": 500})
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["k"]


def test_students_cannot_upload(api_client, imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    _auth(api_client, student)
    response = api_client.post(
        "/api/v1/curricula/mini-physics/documents/", {"file": _upload("notes.md", b"# A\n\ntext")}, format="multipart"
    )
    assert response.status_code == 403


def test_teacher_upload_runs_as_a_job_with_progress(api_client, imported_mini_book):
    # given the teacher who owns this syllabus
    _auth(api_client, _owner(imported_mini_book))
    content = b"# Optics\n\n## Lenses\n\nA convex lens converges light rays to a focal point.\n"

    # when (Celery runs eagerly in tests, after the request's transaction commits)
    accepted = api_client.post(
        "/api/v1/curricula/mini-physics/documents/", {"file": _upload("optics.md", content)}, format="multipart"
    )
    job = api_client.get(f"/api/v1/ingestion-jobs/{accepted.json()['job_id']}/").json()

    # then
    assert accepted.status_code == 202
    assert (job["status"], job["filename"], job["result"]["topics"]) == ("succeeded", "optics.md", 1)
    assert job["progress_done"] == job["progress_total"] > 0
    assert Topic.objects.filter(title="Lenses", unit__curriculum=imported_mini_book).exists()


def test_broken_upload_fails_the_job_with_a_clear_error(api_client, imported_mini_book):
    # given
    _auth(api_client, _owner(imported_mini_book))

    # when
    accepted = api_client.post(
        "/api/v1/curricula/mini-physics/documents/",
        {"file": _upload("slides.pdf", b"%PDF-1.4 garbage")},
        format="multipart",
    )
    job = IngestionJob.objects.get(pk=accepted.json()["job_id"])

    # then
    assert job.status == "failed"
    assert job.error.startswith("slides.pdf: ")


def test_wrong_file_type_is_refused_at_upload(api_client, imported_mini_book):
    _auth(api_client, _owner(imported_mini_book))
    response = api_client.post(
        "/api/v1/curricula/mini-physics/documents/", {"file": _upload("virus.exe", b"MZ")}, format="multipart"
    )
    assert response.status_code == 400
    assert "virus.exe: has an unsupported type" in response.json()["error"]["details"]["file"][0]
    assert IngestionJob.objects.count() == 0


def test_a_teacher_with_a_class_on_a_shared_book_cannot_upload_to_it(api_client, imported_mini_book):
    # given a catalogue book (no owner) and a teacher with a class on it
    classroom = ClassroomFactory(curriculum=imported_mini_book)
    _auth(api_client, classroom.teacher)
    topics_before = Topic.objects.filter(unit__curriculum=imported_mini_book).count()

    # when they upload a document to it
    response = api_client.post(
        "/api/v1/curricula/mini-physics/documents/", {"file": _upload("notes.md", b"# A\n\ntext")}, format="multipart"
    )

    # then it is refused and the book every other class shares is unchanged
    assert response.status_code == 403
    assert IngestionJob.objects.count() == 0
    assert Topic.objects.filter(unit__curriculum=imported_mini_book).count() == topics_before


def _owner(curriculum):
    """The syllabus made a teacher's own (uploads go only to a syllabus its teacher owns)."""
    teacher = TeacherFactory()
    curriculum.owner = teacher
    curriculum.save(update_fields=["owner"])
    return teacher


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_oversized_upload_is_refused_with_the_limit(api_client, imported_mini_book, settings):
    # given
    settings.MAX_UPLOAD_BYTES = 100_000
    _auth(api_client, _owner(imported_mini_book))

    # when
    response = api_client.post(
        "/api/v1/curricula/mini-physics/documents/",
        {"file": _upload("big.md", b"# A\n\n" + b"x" * 150_000)},
        format="multipart",
    )

    # then
    assert response.status_code == 400
    assert response.json()["error"]["details"]["file"] == ["big.md: is 0.2 MB; the limit is 0.1 MB"]
    assert IngestionJob.objects.count() == 0


def test_a_teachers_own_syllabus_is_absent_to_others_and_present_to_its_owner(api_client, imported_mini_book):
    # given the mini book made a teacher's own syllabus, one of its units and topics, and another teacher
    owner = _owner(imported_mini_book)
    unit = imported_mini_book.units.order_by("position").first()
    topic = unit.topics.order_by("position").first()
    paths = [
        "/api/v1/curricula/mini-physics/",
        f"/api/v1/units/{unit.pk}/",
        f"/api/v1/topics/{topic.pk}/",
        "/api/v1/curricula/mini-physics/search/?q=speed",
    ]

    # when the other teacher and then the owner read each
    _auth(api_client, TeacherFactory())
    others = [api_client.get(path).status_code for path in paths]
    _auth(api_client, owner)
    owners = [api_client.get(path).status_code for path in paths]

    # then it does not exist for the other teacher, and it does for its owner
    assert others == [404, 404, 404, 404]
    assert owners == [200, 200, 200, 200]
