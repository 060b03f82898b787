"""A teacher adds files to their class's own syllabus; the import runs as a job whose progress the class
page polls (``teacher/classes/<id>/uploads/<job_id>/``)."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from classrooms.selectors import upload_get
from classrooms.services import classroom_create_with_syllabus
from curriculum.indexing.index import drop_curriculum_index
from curriculum.models import Classroom, IngestionJob, Topic
from curriculum.services import _progress_key
from tests.factories import TeacherFactory

pytestmark = pytest.mark.django_db

OPTICS = b"# Optics\n\n## Lenses\n\nA convex lens converges light rays to a focal point.\n"


@pytest.fixture
def own_class():
    classroom = classroom_create_with_syllabus(teacher=TeacherFactory(), name="Physics 11", syllabus_title="Optics")
    yield classroom
    drop_curriculum_index(curriculum_id=classroom.curriculum_id)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def _job(classroom: Classroom, **fields) -> IngestionJob:
    return IngestionJob.objects.create(
        curriculum=classroom.curriculum, created_by=classroom.teacher, kind="upload", filename="optics.md", **fields
    )


def test_a_class_on_a_syllabus_of_ones_own_owns_an_unlisted_curriculum(own_class, as_user):
    # when the teacher reads the class
    data = as_user(own_class.teacher).get(f"/api/v1/teacher/classes/{own_class.pk}/").json()

    # then it is on their own syllabus, which the catalogue does not list
    assert (data["own_syllabus"], data["curriculum_title"]) == (True, "Optics")
    assert own_class.curriculum.owner_id == own_class.teacher.pk
    assert as_user(own_class.teacher).get("/api/v1/curricula/").json()["results"] == []


def test_a_running_imports_progress_is_read_live_from_the_cache(own_class):
    # given a running job that has indexed 12 of 40 passages (the worker writes that to the cache)
    job = _job(own_class, status=IngestionJob.Status.RUNNING)
    cache.set(_progress_key(job.pk), (12, 40))

    # when its progress is read
    progress = upload_get(classroom=own_class, teacher=own_class.teacher, job_id=job.pk)

    # then
    assert (progress.status, progress.done, progress.total, progress.percent) == ("running", 12, 40, 30)


def test_a_job_at_its_last_passage_is_not_100_before_it_has_succeeded(own_class):
    job = _job(own_class, status=IngestionJob.Status.RUNNING)
    cache.set(_progress_key(job.pk), (40, 40))

    progress = upload_get(classroom=own_class, teacher=own_class.teacher, job_id=job.pk)

    assert progress.percent == 99


def test_a_pending_job_is_at_0_and_a_finished_one_at_100(own_class):
    pending = _job(own_class)
    cache.set(_progress_key(pending.pk), (40, 40))  # left over from an earlier job with this id
    done = _job(own_class, status=IngestionJob.Status.SUCCEEDED, progress_done=7, progress_total=7)

    assert [
        upload_get(classroom=own_class, teacher=own_class.teacher, job_id=j.pk).percent for j in (pending, done)
    ] == [
        0,
        100,
    ]


def test_another_teachers_job_is_not_in_the_class(own_class):
    job = IngestionJob.objects.create(curriculum=own_class.curriculum, created_by=TeacherFactory(), kind="upload")

    assert upload_get(classroom=own_class, teacher=own_class.teacher, job_id=job.pk) is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_upload_over_the_api_runs_to_100_and_is_listed(own_class, as_user):
    # given the teacher of a class on their own syllabus
    client = as_user(own_class.teacher)
    base = f"/api/v1/teacher/classes/{own_class.pk}/uploads/"

    # when they upload a Markdown file (Celery runs eagerly once the request's transaction commits)
    accepted = client.post(base, {"file": SimpleUploadedFile("optics.md", OPTICS)}, format="multipart")
    polled = client.get(f"{base}{accepted.json()['job_id']}/").json()
    listed = client.get(base).json()

    # then the job succeeded at 100 %, its section is in the syllabus, and the list shows it
    assert accepted.status_code == 202
    assert (polled["status"], polled["percent"], polled["filename"], polled["result"]["topics"]) == (
        "succeeded",
        100,
        "optics.md",
        1,
    )
    assert polled["done"] == polled["total"] > 0
    assert Topic.objects.filter(title="Lenses", unit__curriculum=own_class.curriculum).exists()
    assert [u["job_id"] for u in listed] == [polled["job_id"]]


def test_a_file_of_the_wrong_type_is_400_with_the_reason(own_class, as_user):
    response = as_user(own_class.teacher).post(
        f"/api/v1/teacher/classes/{own_class.pk}/uploads/",
        {"file": SimpleUploadedFile("virus.exe", b"MZ")},
        format="multipart",
    )

    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_file")
    assert "virus.exe: has an unsupported type" in response.json()["error"]["message"]
    assert IngestionJob.objects.count() == 0


def test_a_file_over_the_limit_is_400_with_the_limit_and_nothing_is_queued(own_class, as_user, settings):
    # given an upload limit below the file's size
    settings.MAX_UPLOAD_BYTES = 100_000

    # when the teacher uploads it to the class
    response = as_user(own_class.teacher).post(
        f"/api/v1/teacher/classes/{own_class.pk}/uploads/",
        {"file": SimpleUploadedFile("big.md", OPTICS + b"x" * 150_000)},
        format="multipart",
    )

    # then it is refused from its size, with the limit named, and no job exists
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_file")
    assert response.json()["error"]["message"] == "big.md: is 0.2 MB; the limit is 0.1 MB"
    assert IngestionJob.objects.count() == 0


def test_the_page_without_javascript_queues_the_upload_and_lists_it(
    own_class, client, django_capture_on_commit_callbacks
):
    # given the teacher on their class page, with no JavaScript (the form posts to the page)
    client.force_login(own_class.teacher)

    # when they upload a file whose import fails (not a PDF inside)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/teach/classes/{own_class.pk}/uploads/", {"file": SimpleUploadedFile("slides.pdf", b"%PDF-1.4 garbage")}
        )
    page = client.get(response.url).content.decode()

    # then the page says it was queued and lists the failed import with its reason
    job = IngestionJob.objects.get()
    assert response.url == f"/teach/classes/{own_class.pk}/#syllabus-heading"
    assert "slides.pdf is being imported." in page
    assert job.status == "failed"
    assert f'<tr data-job="{job.pk}"><td>slides.pdf</td>' in page
    assert "0 % · failed" in page
    assert f"<td>{job.error}</td>" in page


def test_a_class_on_a_catalogue_syllabus_offers_no_upload_form(client):
    from classrooms.services import classroom_create
    from tests.factories import CurriculumFactory

    classroom = classroom_create(teacher=TeacherFactory(), curriculum=CurriculumFactory(title="Biology"), name="B")
    client.force_login(classroom.teacher)

    page = client.get(f"/teach/classes/{classroom.pk}/").content.decode()

    assert 'id="upload-form"' not in page
    assert "Biology is shared by every class on it" in page
