from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("enrol/", views.enrol, name="enrol"),
    path("study/<slug:slug>/", views.study, name="study"),
]
