"""Test settings: the same as base, with fast password hashing and an isolated data folder."""

from smarketing.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
