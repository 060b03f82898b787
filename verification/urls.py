from django.urls import path

from . import apis

urlpatterns = [
    path("curricula/<slug:slug>/verify/", apis.VerificationBatchCreateApi.as_view(), name="verification-batch-create"),
    path("verification-runs/<int:run_id>/", apis.VerificationRunDetailApi.as_view(), name="verification-run-detail"),
    path("verifier/operating-point/", apis.VerifierOperatingPointApi.as_view(), name="verifier-operating-point"),
]
