"""Test settings: the same as base, with fast password hashing, short test passwords, no login lockout and no
API rate limit (the hardening tests switch each back on to prove the production setting), and an isolated data folder."""

from smarketing.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = []
AXES_ENABLED = False
SMARKETING_API_RATE = "1000000/s"
SMARKETING_API_BAD_TOKEN_LIMIT = 1_000_000

# A file-based SQLite test database, so subprocesses (the task worker in tests) see what a test commits.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# Tests group themes with TF-IDF unless a test asks for embeddings: loading the model takes seconds per process.
SMARKETING = {**SMARKETING, "THEME_BACKEND": "tfidf"}  # noqa: F405
