"""Forms of the community pages (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from pipeline.community.models import CREDENTIALS, VISIBILITIES
from pipeline.community.moderation import REASONS

from .forms import no_markup

_SEE = [SelectChoice(v, {"public": "Everyone", "members": "Signed-in members", "private": "Only me"}[v])
        for v in VISIBILITIES]


class ProfileForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired("A name is required."), Length(max=120), no_markup])
    handle = StringField("Handle (others mention you as @handle)", validators=[Length(max=41)])
    credentials = SelectField("Credentials", choices=[SelectChoice("", "—")] + [SelectChoice(c, c) for c in CREDENTIALS])
    credentials_visibility = SelectField("Who sees it", choices=_SEE)
    specialty = StringField("Specialty", validators=[Length(max=120), no_markup])
    specialty_visibility = SelectField("Who sees it", choices=_SEE)
    practice = StringField("Practice", validators=[Length(max=160), no_markup])
    practice_visibility = SelectField("Who sees it", choices=_SEE)
    city = StringField("City", validators=[Length(max=120), no_markup])
    city_visibility = SelectField("Who sees it", choices=_SEE)
    bio = TextAreaField("Short bio", validators=[Length(max=1000, message="A bio may be at most 1000 characters."),
                                                 no_markup])
    avatar = FileField("Avatar (JPEG, PNG or WebP; resized to 256 px, metadata removed)")


class ReportForm(FlaskForm):
    reason = SelectField("Reason", choices=[SelectChoice(k, v) for k, v in REASONS.items()])
    details = TextAreaField("Details (optional)", validators=[Optional(), Length(max=1000), no_markup])


class ModerationNoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000), no_markup])


class MeetingForm(FlaskForm):
    name = StringField("Meeting name", validators=[DataRequired("A name is required."), Length(max=200), no_markup])
    place = StringField("Place", validators=[Length(max=200), no_markup])
    starts_on = StringField("First day (YYYY-MM-DD)", validators=[DataRequired("The first day is required.")])
    ends_on = StringField("Last day (YYYY-MM-DD)", validators=[DataRequired("The last day is required.")])
    url = StringField("Link", validators=[Optional(), Length(max=500)])
    sessions = TextAreaField("Sessions, one per line: 2027-03-14 09:00-10:30 Title (times in UTC)",
                             validators=[Length(max=40000), no_markup])
