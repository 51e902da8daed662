"""Passwords are stored with werkzeug's scrypt at its full cost (the tests hash at a lower one,
tests/conftest.py)."""

from __future__ import annotations

import werkzeug.security

import surveyapp.models.users
import surveyapp.services.login
from surveyapp.models import User


def test_production_hashes_are_scrypt_at_full_cost(monkeypatch):
    for module in (surveyapp.models.users, surveyapp.services.login):
        monkeypatch.setattr(
            module, "generate_password_hash", werkzeug.security.generate_password_hash
        )
    user = User(username="cost", role="enumerator")
    user.set_password("Correct-Horse-2026!")
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password("Correct-Horse-2026!")
    assert not user.check_password("correct-horse-2026!")
    surveyapp.services.login._dummy_hash.cache_clear()
    try:
        # The unknown-name login checks a hash made the same way (same method and cost).
        assert surveyapp.services.login._dummy_hash().startswith("scrypt:32768:8:1$")
    finally:
        surveyapp.services.login._dummy_hash.cache_clear()


def test_the_tests_hash_at_a_lower_cost_of_the_same_method():
    user = User(username="cheap", role="enumerator")
    user.set_password("Correct-Horse-2026!")
    assert user.password_hash.startswith("scrypt:1024:8:1$")
    assert user.check_password("Correct-Horse-2026!")
