"""Deployment and set-up tooling that runs before the project's dependencies exist (stdlib only)."""
