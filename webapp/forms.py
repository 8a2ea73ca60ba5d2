"""Forms (Flask-WTF: CSRF on every one). Each validator's message tells a person what to fix."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from pipeline.accounts import MIN_PASSWORD, normalize_email
from pipeline.errors import ClinexError
from pipeline.models import Role
from pipeline.text import parse_timestamp, strip_bidi_controls

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|<\s*(script|style|svg|iframe)", re.I)
# CommonMark autolinks in the schemes the sanitiser keeps; any other <scheme:...> is still refused
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^\s<>\x00-\x1f]+>", re.I)
MAX_COMMENT = 5000
MAX_NOTES = 200_000


def no_markup(_form, field) -> None:
    """Names and titles are plain text, and Markdown fields take Markdown, not HTML tags."""
    if field.data and isinstance(field.data, str) and _TAG.search(_AUTOLINK.sub("", field.data)):
        raise ValidationError("HTML tags are not allowed here; write plain text (Markdown for notes and comments).")


def email_address(_form, field) -> None:
    """The same rule accounts use (wtforms' Email() needs the email_validator package)."""
    try:
        normalize_email(field.data or "")
    except ClinexError:
        raise ValidationError("That is not an email address.") from None


def empty_honeypot(_form, field) -> None:
    if field.data:
        raise ValidationError("Leave the “website” field empty; it is there to catch spam robots.")


def timestamp(_form, field) -> None:
    if field.data and field.data.strip():
        try:
            parse_timestamp(field.data)
        except ValueError:
            raise ValidationError("Write the moment as minutes:seconds, like 12:34 (or 1:02:03).") from None
        if any(int(part) > 59 for part in field.data.strip().split(":")[1:]):
            # "99:99" parses, but nobody means 100 min 39 s by it: a typo, not a moment
            raise ValidationError("Minutes and seconds after a colon go up to 59: write 12:34 or 1:02:03.")


def _without_bidi_controls(value):
    return strip_bidi_controls(value) if isinstance(value, str) else value


class Form(FlaskForm):
    """Every form here: text fields lose bidirectional override characters as they are read
    (passwords are left as typed: they are compared, never shown)."""

    class Meta(FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, (StringField, TextAreaField)) and \
                    not issubclass(unbound_field.field_class, PasswordField):
                filters = [*unbound_field.kwargs.get("filters", ()), _without_bidi_controls]
                return unbound_field.bind(form=form, **{**options, "filters": filters})
            return unbound_field.bind(form=form, **options)


def _required(what: str):
    return DataRequired(message=f"{what} is required.")


class ActionForm(Form):
    """A button that changes something: only the CSRF token."""


class LoginForm(Form):
    email = EmailField("Email", validators=[_required("Your email"), email_address,
                                            Length(max=254)])
    password = PasswordField("Password", validators=[_required("Your password"), Length(max=200)])


class SignupForm(Form):
    display_name = StringField("Name shown with your comments",
                               validators=[_required("A name"), Length(max=120), no_markup])
    email = EmailField("Email", validators=[_required("An email"), email_address,
                                            Length(max=254)])
    password = PasswordField("Password", validators=[
        _required("A password"), Length(min=MIN_PASSWORD, max=200,
                                        message=f"Passwords must be {MIN_PASSWORD} to 200 characters long.")])
    confirm = PasswordField("Password again", validators=[EqualTo("password", "The two passwords differ.")])
    website = StringField("Website (leave empty)", validators=[empty_honeypot])


class ForgotForm(Form):
    email = EmailField("Email", validators=[_required("Your email"), email_address,
                                            Length(max=254)])


class ResetForm(Form):
    password = PasswordField("New password", validators=[
        _required("A password"), Length(min=MIN_PASSWORD, max=200,
                                        message=f"Passwords must be {MIN_PASSWORD} to 200 characters long.")])
    confirm = PasswordField("New password again", validators=[EqualTo("password", "The two passwords differ.")])


class ChangePasswordForm(ResetForm):
    current = PasswordField("Current password", validators=[_required("Your current password"), Length(max=200)])


class CommentForm(Form):
    body = TextAreaField("Comment", validators=[_required("A comment"), Length(
        max=MAX_COMMENT, message=f"Comments may be at most {MAX_COMMENT} characters."), no_markup])
    timestamp = StringField("At moment (optional, e.g. 12:34)", validators=[Optional(), Length(max=12), timestamp])
    parent_id = HiddenField()
    website = StringField("Website (leave empty)", validators=[empty_honeypot])


class CommentEditForm(Form):
    body = CommentForm.body
    timestamp = CommentForm.timestamp


class EpisodeFieldsForm(Form):
    title = StringField("Title", validators=[Length(max=300), no_markup])
    event = StringField("Event", validators=[Length(max=200), no_markup])
    speakers = StringField("Speakers (comma-separated)", validators=[Length(max=2000), no_markup])
    recorded_on = StringField("Date (YYYY-MM-DD)", validators=[Optional(), Length(max=10)])
    tags = StringField("Tags (comma-separated)", validators=[Length(max=2000), no_markup])
    notes = TextAreaField("Summary notes (Markdown)", validators=[Length(
        max=MAX_NOTES, message=f"Notes may be at most {MAX_NOTES // 1000} thousand characters."), no_markup])


class UploadForm(EpisodeFieldsForm):
    audio = FileField("Recording (MP3, M4A, WAV, FLAC, OGG/Opus)")
    upload_id = HiddenField()
    call_session = StringField("Session these notes summarize (calls for summaries)", validators=[Length(max=12)])


class SegmentForm(Form):
    text = TextAreaField("Corrected text", validators=[_required("The text"), Length(max=2000), no_markup])


class ReviewForm(Form):
    note = TextAreaField("Note to the summarizer", validators=[Length(max=5000), no_markup])


class ChaptersForm(Form):
    chapters = TextAreaField("Chapters, one per line: 12:34 Title",
                             validators=[Length(max=20000), no_markup])


class GlossaryForm(Form):
    term = StringField("Term", validators=[_required("The term"), Length(max=120), no_markup])
    category = StringField("Category", default="term", validators=[_required("A category"), Length(max=40), no_markup])
    mishearings = StringField("Heard as (comma-separated)", validators=[Length(max=1000), no_markup])


class PronunciationForm(Form):
    """How the voice says a term (audio notes): IPA phonemes, words to say instead, or letters."""

    term = StringField("Term", validators=[_required("The term"), Length(max=120), no_markup])
    phonemes = StringField("Phonemes (IPA, e.g. sˈaɪtɑːn)", validators=[Length(max=200), no_markup])
    say = StringField("Or say instead", validators=[Length(max=200), no_markup])
    letters = BooleanField("Or read it letter by letter")


class TagForm(Form):
    name = StringField("Name", validators=[_required("A name"), Length(max=100), no_markup])
    category = StringField("Category", default="topic", validators=[_required("A category"), Length(max=40), no_markup])
    description = TextAreaField("Description", validators=[Length(max=2000), no_markup])


class UserForm(Form):
    role = SelectField("Role", choices=[r.value for r in Role],
                       validate_choice=True)
    trusted = BooleanField("Trusted (comments appear without moderation)")
    active = BooleanField("Active")
