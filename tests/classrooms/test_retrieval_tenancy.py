"""Tenancy of the vector store: a teacher's upload lands in a syllabus of their own, with a Chroma
collection of its own, and only the owner and the students of the owner's classes can query it.

Real MiniLM embeddings and a real (embedded) Chroma store; the upload runs as the Celery job it is
(eagerly, once the request's transaction commits).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from classrooms.services import classroom_create, classroom_join
from curriculum.indexing.index import drop_curriculum_index
from curriculum.models import Chunk, Classroom, Curriculum, IngestionJob
from curriculum.retrieval import search_chunks
from tests.factories import EnrollmentFactory, TeacherFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NOTES = (
    b"# Ring theory\n\n## Noetherian rings\n\n"
    b"A Noetherian ring satisfies the ascending chain condition on its ideals, so every ideal is finitely "
    b"generated. Hilbert's basis theorem says a polynomial ring over a Noetherian ring is Noetherian too.\n"
)
QUERY = "Which rings satisfy the ascending chain condition on ideals?"


def _client(api_client, user):
    token, _ = Token.objects.get_or_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


@pytest.fixture
def tenants(api_client, imported_mini_book):
    """Teacher A uploads notes to a class on a syllabus of their own; teacher B teaches the catalogue's
    mini physics book; a student in each class, and one who enrolled in A's syllabus without the code."""
    teacher_a, teacher_b = TeacherFactory(), TeacherFactory()
    created = _client(api_client, teacher_a).post(
        "/api/v1/teacher/classes/", {"name": "Algebra 12A", "syllabus_title": "Ring notes"}, format="json"
    )
    class_a = Classroom.objects.select_related("curriculum").get(pk=created.json()["id"])
    upload = api_client.post(
        f"/api/v1/teacher/classes/{class_a.pk}/uploads/",
        {"file": SimpleUploadedFile("rings.md", NOTES)},
        format="multipart",
    )
    class_b = classroom_create(teacher=teacher_b, curriculum=imported_mini_book, name="Physics 9")
    student_a, student_b, sneak = UserFactory(), UserFactory(), UserFactory()
    classroom_join(student=student_a, code=class_a.join_code.code)
    classroom_join(student=student_b, code=class_b.join_code.code)
    EnrollmentFactory(student=sneak, curriculum=class_a.curriculum)
    yield {
        "upload": upload,
        "own": class_a.curriculum,
        "catalogue": imported_mini_book,
        "users": {
            "teacher_a": teacher_a,
            "teacher_b": teacher_b,
            "student_a": student_a,
            "student_b": student_b,
            "sneak": sneak,
        },
    }
    drop_curriculum_index(curriculum_id=class_a.curriculum_id)


def test_the_upload_lands_in_the_teachers_own_syllabus(tenants):
    # given teacher A's upload (it ran as a job)
    own: Curriculum = tenants["own"]

    # then it succeeded, its passages belong to A's syllabus only, and that syllabus is A's and unlisted
    assert tenants["upload"].status_code == 202
    job = IngestionJob.objects.get(pk=tenants["upload"].json()["job_id"])
    assert (job.status, job.curriculum_id, job.result["topics"]) == ("succeeded", own.pk, 1)
    assert set(Chunk.objects.filter(document__topic__unit__curriculum=own).values_list("curriculum_id", flat=True)) == {
        own.pk
    }
    assert own.owner_id == tenants["users"]["teacher_a"].pk


def test_a_search_of_another_curriculum_never_returns_the_uploaded_text(tenants):
    # given A's uploaded passages
    uploaded = set(Chunk.objects.filter(curriculum=tenants["own"]).values_list("pk", flat=True))

    # when the catalogue book is searched with the upload's own words, and A's syllabus with them
    elsewhere = search_chunks(curriculum_id=tenants["catalogue"].pk, query=QUERY, k=10)
    at_home = search_chunks(curriculum_id=tenants["own"].pk, query=QUERY, k=10)

    # then none of A's passages comes back from the other collection; A's own search finds them
    assert uploaded
    assert {hit.chunk_id for hit in elsewhere}.isdisjoint(uploaded)
    assert [hit.label for hit in at_home][:1] == ["Noetherian rings"]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("teacher_a", True), ("student_a", True), ("teacher_b", False), ("student_b", False), ("sneak", False)],
)
def test_only_the_owner_and_their_students_search_the_own_syllabus(tenants, api_client, who, allowed):
    # given a user of either class, or the student who enrolled without the code
    client = _client(api_client, tenants["users"][who])

    # when they search A's syllabus over the API
    response = client.get(f"/api/v1/curricula/{tenants['own'].slug}/search/", {"q": QUERY, "k": 3})

    # then only A and A's students get its passages; to the others it does not exist (404, as an
    # unknown slug), and they get no text of it at all
    if allowed:
        assert (response.status_code, response.json()[0]["label"]) == (200, "Noetherian rings")
    else:
        assert response.status_code == 404
        assert "Noetherian" not in response.content.decode()


@pytest.mark.parametrize("who", ["teacher_b", "student_b", "sneak"])
def test_a_cited_passage_of_the_own_syllabus_is_404_to_others(tenants, api_client, who):
    chunk = Chunk.objects.filter(curriculum=tenants["own"]).first()

    response = _client(api_client, tenants["users"][who]).get(f"/api/v1/passages/{chunk.pk}/")

    assert response.status_code == 404


def test_the_own_syllabus_is_not_in_the_catalogue_and_no_one_else_can_put_a_class_on_it(tenants, api_client):
    # given teacher B
    client = _client(api_client, tenants["users"]["teacher_b"])

    # when they read the catalogue and try to open a class on A's syllabus
    catalogue = client.get("/api/v1/curricula/").json()["results"]
    created = client.post(
        "/api/v1/teacher/classes/", {"name": "Stolen", "curriculum": tenants["own"].slug}, format="json"
    )

    # then it is not listed, and it does not exist for them
    assert [c["slug"] for c in catalogue] == ["mini-physics"]
    assert created.status_code == 404
    assert not Classroom.objects.filter(name="Stolen").exists()


def test_a_class_on_a_catalogue_syllabus_takes_no_upload(tenants, api_client):
    # given teacher B's class on the catalogue's book, shared with every class on it
    class_b = Classroom.objects.get(teacher=tenants["users"]["teacher_b"])
    jobs_before = IngestionJob.objects.count()

    # when B uploads notes to it through the class
    response = _client(api_client, tenants["users"]["teacher_b"]).post(
        f"/api/v1/teacher/classes/{class_b.pk}/uploads/",
        {"file": SimpleUploadedFile("notes.md", b"# Notes\n\nText.")},
        format="multipart",
    )

    # then it is refused: the text would reach every class on the book
    assert (response.status_code, response.json()["error"]["code"]) == (403, "shared_syllabus")
    assert IngestionJob.objects.count() == jobs_before
