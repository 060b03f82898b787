"""The student web app's pages: accounts, catalogue and enrolment, and the study page shell.

The study page's script talks to the tutor over the websocket; these tests stop at the HTML it
gets (no model is loaded).
"""

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.messages import get_messages
from django.contrib.staticfiles import finders

from curriculum.models import Enrollment
from tests.factories import CurriculumFactory, EnrollmentFactory, UserFactory
from tutor.models import LearnerProfile

pytestmark = pytest.mark.django_db

OPENSTAX_LINE = "Biology 2e by OpenStax, CC BY 4.0 (https://openstax.org/details/books/biology-2e)."


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- home ------------------------------------------------------------------------------------------


def test_anonymous_home_pitches_and_links_to_login_and_signup(client):
    # given a catalogue of one curriculum
    CurriculumFactory(title="Biology 2e", attribution=OPENSTAX_LINE)

    # when a visitor opens the home page
    response = client.get("/")

    # then it shows the pitch, the login and sign-up links, and the catalogue with its attribution
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/accounts/login/">Log in</a>' in html
    assert '<a href="/signup/">Sign up</a>' in html
    assert "<h3>Biology 2e</h3>" in html
    assert OPENSTAX_LINE in html
    assert 'action="/enrol/"' not in html


def test_signed_in_home_lists_enrolled_curricula_and_offers_the_rest(client, student):
    # given a student enrolled in one of two curricula
    mine = CurriculumFactory(slug="biology-2e", title="Biology 2e")
    CurriculumFactory(slug="chemistry-2e", title="Chemistry 2e")
    EnrollmentFactory(student=student, curriculum=mine)
    client.force_login(student)

    # when they open the home page
    response = client.get("/")

    # then the enrolled one links to its study page and only the other has an Enrol button
    html = response.content.decode()
    assert list(response.context["enrolled"]) == [mine]
    assert '<a class="button" href="/study/biology-2e/">Study Biology 2e</a>' in html
    assert html.count('name="curriculum"') == 1
    assert '<input type="hidden" name="curriculum" value="chemistry-2e">' in html


# --- accounts --------------------------------------------------------------------------------------


def test_signup_creates_the_student_and_logs_them_in(client):
    # given the sign-up form
    assert client.get("/signup/").status_code == 200

    # when a visitor signs up
    response = client.post(
        "/signup/",
        {
            "username": "ada",
            "email": "ada@example.org",
            "level": "beginner",
            "password": "a-long-unusual-passphrase",
            "password_again": "a-long-unusual-passphrase",
        },
    )

    # then the student exists with a learner profile, is signed in and lands on the home page
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(username="ada")
    assert user.email == "ada@example.org"
    assert user.is_staff is False
    assert user.check_password("a-long-unusual-passphrase")
    assert LearnerProfile.objects.get(student=user).level == "beginner"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert flash(response) == ["Welcome, ada! Pick a syllabus to study."]


def test_signup_with_a_taken_username_shows_the_services_error_and_keeps_the_input(client):
    # given an existing student "ada"
    UserFactory(username="ada")

    # when someone signs up as "ADA"
    response = client.post(
        "/signup/",
        {
            "username": "ADA",
            "email": "other@example.org",
            "level": "intermediate",
            "password": "a-long-unusual-passphrase",
            "password_again": "a-long-unusual-passphrase",
        },
    )

    # then the form is shown again with the registration service's message and their input
    assert response.status_code == 200
    assert response.context["form"].errors == {"username": ["That username is taken."]}
    assert 'value="other@example.org"' in response.content.decode()
    assert get_user_model().objects.count() == 1
    assert SESSION_KEY not in client.session


def test_signup_applies_the_password_validators(client):
    # when a visitor picks a common password
    response = client.post(
        "/signup/",
        {"username": "ada", "level": "intermediate", "password": "password", "password_again": "password"},
    )

    # then no account is created and the validator's message is shown against the password
    assert response.status_code == 200
    assert "This password is too common." in response.context["form"].errors["password"]
    assert not get_user_model().objects.filter(username="ada").exists()


def test_signup_refuses_mismatched_passwords(client):
    response = client.post(
        "/signup/",
        {
            "username": "ada",
            "level": "intermediate",
            "password": "a-long-unusual-passphrase",
            "password_again": "a-long-unusual-passphrasf",
        },
    )

    assert response.context["form"].errors == {"password_again": ["The two passwords differ."]}
    assert not get_user_model().objects.filter(username="ada").exists()


def test_login_page_signs_in_and_goes_home(client, student):
    # given the login page
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert '<a href="/signup/">Sign up</a>' in page.content.decode()

    # when the student logs in with their password
    response = client.post("/accounts/login/", {"username": student.username, "password": "correct-horse-battery"})

    # then they are signed in and sent home
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(student.pk)


def test_login_with_a_wrong_password_says_so_and_keeps_the_username(client, student):
    response = client.post("/accounts/login/", {"username": student.username, "password": "wrong"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Please enter a correct username and password." in html
    assert f'value="{student.username}"' in html
    assert SESSION_KEY not in client.session


def test_logout_signs_out_and_returns_home(client, student):
    # given a signed-in student
    client.force_login(student)

    # when they press "Log out" (a POST form)
    response = client.post("/accounts/logout/")

    # then the session is gone and the home page offers to log in again
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_KEY not in client.session
    assert '<a href="/accounts/login/">Log in</a>' in client.get("/").content.decode()


# --- enrolment -------------------------------------------------------------------------------------


def test_enrol_form_enrols_the_student_and_opens_the_study_page(client, student):
    # given a signed-in student and a curriculum they are not enrolled in
    curriculum = CurriculumFactory(slug="biology-2e", title="Biology 2e")
    client.force_login(student)

    # when they press "Enrol"
    response = client.post("/enrol/", {"curriculum": "biology-2e"})

    # then they are enrolled, once, and sent to its study page
    assert response.status_code == 302
    assert response["Location"] == "/study/biology-2e/"
    assert list(Enrollment.objects.filter(student=student).values_list("curriculum_id", flat=True)) == [curriculum.pk]
    assert flash(response) == ["You are enrolled in Biology 2e."]
    client.post("/enrol/", {"curriculum": "biology-2e"})
    assert Enrollment.objects.filter(student=student).count() == 1


def test_enrol_in_an_unknown_curriculum_goes_home_with_a_message(client, student):
    client.force_login(student)

    response = client.post("/enrol/", {"curriculum": "no-such-course"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert flash(response) == ["That syllabus does not exist (any more)."]
    assert Enrollment.objects.filter(student=student).count() == 0


def test_enrol_needs_a_signed_in_student_and_a_post(client):
    CurriculumFactory(slug="biology-2e")

    anonymous = client.post("/enrol/", {"curriculum": "biology-2e"})
    by_get = client.get("/enrol/")

    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/"
    assert by_get.status_code == 405
    assert Enrollment.objects.count() == 0


# --- study page ------------------------------------------------------------------------------------


def test_study_page_requires_login(client):
    CurriculumFactory(slug="biology-2e")

    response = client.get("/study/biology-2e/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/study/biology-2e/"


def test_study_page_requires_enrolment(client, student):
    # given a signed-in student not enrolled in the curriculum
    CurriculumFactory(slug="biology-2e", title="Biology 2e")
    client.force_login(student)

    # when they open its study page
    response = client.get("/study/biology-2e/")

    # then they are sent home, told to enrol
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert flash(response) == ["Enrol in Biology 2e to study it."]


def test_study_page_of_an_unknown_curriculum_is_404(client, student):
    client.force_login(student)

    assert client.get("/study/no-such-course/").status_code == 404


def test_study_page_renders_the_curriculum_socket_and_attribution(client, student):
    # given a student enrolled in an OpenStax curriculum
    curriculum = CurriculumFactory(slug="biology-2e", title="Biology 2e", attribution=OPENSTAX_LINE)
    EnrollmentFactory(student=student, curriculum=curriculum)
    client.force_login(student)

    # when they open its study page
    response = client.get("/study/biology-2e/")

    # then it names the curriculum, tells the script where the socket, the answer lookup and the
    # cited passages are, announces the answer politely, and credits the source in the footer
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Biology 2e</h1>" in html
    assert 'data-curriculum="biology-2e"' in html
    assert 'data-socket-path="/ws/tutor/"' in html
    assert 'data-message-url="/api/v1/messages/by-client-id/CLIENT_MSG_ID/"' in html
    assert 'data-message-url-placeholder="CLIENT_MSG_ID"' in html
    assert 'data-passage-url="/api/v1/passages/987654321/"' in html
    assert 'data-passage-url-placeholder="987654321"' in html
    assert '<dialog id="passage" class="passage" aria-labelledby="passage-label">' in html
    assert '<ol id="transcript" class="transcript" aria-live="polite"></ol>' in html
    assert '<label for="question">Your question</label>' in html
    assert f'<p class="attribution">{OPENSTAX_LINE}</p>' in html
    assert '<script src="/static/frontend/study.js" defer></script>' in html


def test_pages_link_an_icon_that_is_served(client):
    # when a visitor opens a page, and their browser asks for /favicon.ico as browsers do
    html = client.get("/").content.decode()
    icon = client.get("/favicon.ico")

    # then the page links the icon, /favicon.ico leads to it, and the file is there to serve
    assert '<link rel="icon" href="/static/frontend/favicon.svg" type="image/svg+xml">' in html
    assert (icon.status_code, icon["Location"]) == (301, "/static/frontend/favicon.svg")
    assert finders.find("frontend/favicon.svg") is not None
