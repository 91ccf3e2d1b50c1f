"""The words of notification emails: one notification, or a day's digest (pure: plain data in, subject and body out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Why a bound: a digest is read in one sitting; the inbox has the rest.
DIGEST_MAX_ITEMS = 50


@dataclass(frozen=True)
class Note:
    """A notification as an email needs it."""

    kind_label: str
    title: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class Email:
    subject: str
    body: str


FOOTER = ("\n\n--\nsmarketing: your notifications are also in the app's inbox (the bell). Change how you get them by "
          "email on your profile page.\n")


def notification_email(note: Note, *, recipient_name: str) -> Email:
    """The email for one notification, sent as it happens."""
    lines = [f"Hello {recipient_name},", "", f"{note.kind_label}: {note.title}"]
    if note.body:
        lines += ["", note.body]
    lines += ["", f"({note.created_at:%Y-%m-%d %H:%M} UTC)"]
    return Email(subject=f"[smarketing] {note.title}", body="\n".join(lines) + FOOTER)


def digest_email(notes: list[Note], *, day: date, recipient_name: str) -> Email:
    """The daily digest of a user's notifications of one day, oldest first; at most DIGEST_MAX_ITEMS listed."""
    count = len(notes)
    noun = "notification" if count == 1 else "notifications"
    lines = [f"Hello {recipient_name},", "", f"{count} {noun} on {day:%A %d %B %Y}:", ""]
    for note in notes[:DIGEST_MAX_ITEMS]:
        lines.append(f"- {note.created_at:%H:%M} UTC  {note.kind_label}: {note.title}")
        if note.body:
            lines.append(f"    {note.body}")
    if count > DIGEST_MAX_ITEMS:
        lines += ["", f"… and {count - DIGEST_MAX_ITEMS} more in the inbox."]
    return Email(subject=f"[smarketing] Your digest for {day:%Y-%m-%d}: {count} {noun}", body="\n".join(lines) + FOOTER)
