"""Shared test set-up: hypothesis profiles (bounded in CI, long locally with HICCUP_FUZZ=long)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HICCUP_FUZZ", "ci"))
