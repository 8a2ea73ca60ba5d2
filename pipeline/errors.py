"""One family of errors whose messages a summarizer or editor can act on.

Web views map them to 4xx pages (``webapp.errors.STATUS``), the CLI to one line and a
non-zero exit.
"""


class ClinexError(Exception):
    """Base class: ``str(error)`` is a complete sentence meant for a person."""


class InvalidUpload(ClinexError):
    """The upload is not something we can turn into an episode.

    ``field`` names the form field the problem is about (None: the recording itself), so a
    form can show the message beside what has to change."""

    field: str | None = None


class InvalidNotes(InvalidUpload):
    """The summary notes cannot be used (not UTF-8, too long, broken front matter...)."""

    field = "notes"


class AudioError(ClinexError):
    """ffmpeg could not decode, measure or encode the audio."""


class TranscriptionError(ClinexError):
    """The speech recognizer could not produce a transcript."""


class StorageError(ClinexError):
    """The media store refused or failed an operation (may be transient)."""


class NotFound(ClinexError):
    """A thing asked for by id or slug does not exist."""


class WorkflowError(ClinexError):
    """An episode cannot make the requested state change from where it is."""


class ConfigError(ClinexError):
    """A setting has a value we cannot use."""
