"""Included under /api/v1/ (config/urls.py): the signed-in student's whole account, under ``me/``."""

from django.urls import path

from . import apis

urlpatterns = [
    path("me/export/", apis.MeExportApi.as_view(), name="me-export"),
    path("me/delete/", apis.MeDeleteApi.as_view(), name="me-delete"),
]
