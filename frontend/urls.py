from django.urls import path

from . import learning_views, teacher_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("signup/", views.signup, name="signup"),
    path("enrol/", views.enrol, name="enrol"),
    path("study/<slug:slug>/", views.study, name="study"),
    path("learn/<slug:slug>/", learning_views.plan_page, name="learning-plan"),
    path("learn/<slug:slug>/plan/", learning_views.plan_save, name="learning-plan-save"),
    path("learn/<slug:slug>/practice/", learning_views.practice_start, name="learning-practice-start"),
    path("learn/practice/<int:session_id>/", learning_views.practice_page, name="learning-practice"),
    path("learn/practice/<int:session_id>/answer/", learning_views.practice_answer, name="learning-practice-answer"),
    path("learn/practice/<int:session_id>/finish/", learning_views.practice_finish, name="learning-practice-finish"),
    path("teach/", teacher_views.class_list, name="teacher-classes"),
    path("teach/classes/<int:classroom_id>/", teacher_views.class_detail, name="teacher-class"),
    path(
        "teach/classes/<int:classroom_id>/review/<int:sentence_id>/",
        teacher_views.review_save,
        name="teacher-review",
    ),
    path("teach/classes/<int:classroom_id>/settings/", teacher_views.settings_save, name="teacher-settings"),
    path("teach/classes/<int:classroom_id>/uploads/", teacher_views.upload_create, name="teacher-upload"),
    path("classes/join/", teacher_views.join_class, name="join-class"),
]
