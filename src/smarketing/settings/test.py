"""Test settings: the same as base, with fast password hashing and an isolated data folder."""

from smarketing.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file-based SQLite test database, so subprocesses (the task worker in tests) see what a test commits.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
