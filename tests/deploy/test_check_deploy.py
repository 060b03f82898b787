"""`manage.py check --deploy` on the production settings: no warnings with the defaults."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(**overrides: str) -> subprocess.CompletedProcess[str]:
    """Run the check in a fresh interpreter on config.settings.production, as a server would start."""
    # The caller's own DJANGO_* settings (the suite's test settings, a developer's shell) stay out.
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="tutor.example.org",
        **overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_production_settings_pass_the_deploy_check_with_no_warning():
    # given the production settings with only the required secret and hosts set
    # when Django's deployment check runs on them, failing on any warning
    result = _check_deploy()
    # then it reports no issue at all
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_loosening_the_security_settings_for_a_plain_http_trial_is_reported():
    # given HSTS and the HTTPS redirect switched off from the environment
    # when the deployment check runs
    result = _check_deploy(DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_HSTS_SECONDS="0")
    # then it fails and names both (the check above is live, not silenced)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "security.W004" in output and "security.W008" in output
