"""Follows (button, Following page, personal feed, new-episode notices, review outcomes) and calls
for summaries (listing, claims, reminders, notes linked from the studio, the .ics feed)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from pipeline.community.calls import send_reminders
from pipeline.community.models import Follow, Meeting, MeetingSession, Notification
from pipeline.community.notifications import notify_review_outcome
from pipeline.models import Episode, Tag, User
from pipeline.private_feeds import issue_feed_token

from tests.conftest import require_module

from .conftest import csrf_from
from .factories import make_episode

GOOD = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "good"


def _form(client, path, action, **fields):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **fields})


def _kinds(session, user_id):
    session.expire_all()
    return [(n.kind, n.text) for n in session.query(Notification).filter_by(user_id=user_id).order_by(Notification.id)]


def test_follow_a_topic_then_a_new_episode_is_announced(app, ctx, as_role, episode, session, users):
    listener = as_role("listener")
    tag = session.query(Tag).filter_by(slug="melasma").one()
    page = listener.get("/tags/melasma").get_data(as_text=True)
    assert "Follow this topic" in page
    assert _form(listener, "/tags/melasma", f"/follow/tag/{tag.id}?next=/tags/melasma").status_code == 302
    assert "Unfollow" in listener.get("/tags/melasma").get_data(as_text=True)
    _form(listener, "/tags/melasma", f"/follow/summarizer/{users['summarizer']}")  # two routes, one notice
    new = make_episode(ctx, session, title="Tranexamic acid in melasma", status="in_review",
                       author=session.get(User, users["summarizer"]))
    new.status, new.published_at = "published", datetime.now(timezone.utc)
    notify_review_outcome(session, new, "approved")
    notify_review_outcome(session, new, "approved")  # a second approval announces nothing new
    session.commit()
    assert _kinds(session, users["listener"]) == [("new_episode", "New episode from Aesthetic Lasers Summit: "
                                                                  "“Tranexamic acid in melasma”")]
    assert ("review", "Your summary “Tranexamic acid in melasma” is published") in _kinds(session, users["summarizer"])
    following = listener.get("/following").get_data(as_text=True)
    assert "Tranexamic acid in melasma" in following and "Topic: <bdi>Melasma</bdi>" in following, following[following.find("<main>"):][:3000]
    token = issue_feed_token(session, session.get(User, users["listener"]))
    session.commit()
    feed = as_role(None).get(f"/feeds/private/{token}/following.xml")
    titles = etree.fromstring(feed.data).xpath("//item/title/text()")
    assert feed.status_code == 200 and "Tranexamic acid in melasma" in titles
    from pipeline.models import SiteValue

    assert not [v.key for v in session.query(SiteValue) if token in v.key + v.value]  # never stored in the clear
    assert as_role(None).get("/feeds/private/cxf_nope/following.xml").status_code == 404
    assert _form(listener, "/following", f"/follow/tag/{tag.id}", undo="1").status_code == 302
    assert session.query(Follow).filter_by(target_kind="tag").count() == 0


@pytest.mark.parametrize("path, status, message", [
    ("/follow/planet/1", 400, "topics, events or summarizers"),
    ("/follow/tag/999999", 404, "no such topic"),
    ("/follow/event/999999", 404, "no such event"),
])
def test_bad_follows_are_refused(as_role, episode, session, path, status, message):
    response = _form(as_role("listener"), "/following", path)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert session.query(Follow).count() == 0


def test_following_oneself_and_the_rate_limit(app, as_role, episode, session, users):
    me = as_role("summarizer")
    response = _form(me, "/following", f"/follow/summarizer/{users['summarizer']}")
    assert response.status_code == 400 and "yourself" in response.get_data(as_text=True)
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "follow": (2, 3600)}  # the refused one counts too
    tag = session.query(Tag).filter_by(slug="melasma").one()
    assert _form(me, "/following", f"/follow/tag/{tag.id}").status_code == 302
    assert _form(me, "/following", "/follow/event/1").status_code == 429


def test_sent_back_tells_the_summarizer_with_the_note(app, ctx, as_role, session, users):
    ep = make_episode(ctx, session, status="in_review", author=session.get(User, users["summarizer"]))
    response = _form(as_role("editor"), f"/review/{ep.id}", f"/review/{ep.id}/request-changes",
                     note="Please add the dosing table.")
    assert response.status_code == 302
    [(kind, text)] = _kinds(session, users["summarizer"])
    assert kind == "review" and "sent back: Please add the dosing table." in text
    page = as_role("summarizer").get("/notifications/").get_data(as_text=True)
    assert "Please add the dosing table." in page and "/notifications/" in page


def test_members_only_new_episodes_reach_members_only(ctx, session, users):
    tag = session.query(Tag).first() or Tag(name="Fillers", slug="fillers")
    session.add(tag)
    session.flush()
    session.add_all([Follow(user_id=users["listener"], target_kind="summarizer", target_id=users["summarizer"]),
                     Follow(user_id=users["editor"], target_kind="summarizer", target_id=users["summarizer"])])
    session.get(User, users["editor"]).active = False
    ep = make_episode(ctx, session, title="Members briefing", author=session.get(User, users["summarizer"]))
    ep.members_only = True
    notify_review_outcome(session, ep, "approved")
    session.commit()
    assert [k for k, _ in _kinds(session, users["listener"])] == ["new_episode"]
    assert _kinds(session, users["editor"]) == []  # a disabled account hears nothing


SESSIONS = "{d} 09:00-10:30 Picosecond lasers for melasma\n{d} 11:00-12:00 Fillers: complications"


def _meeting(client, **changes):
    day = (date.today() + timedelta(days=10)).isoformat()
    fields = {"name": "Aesthetic Lasers Summit", "place": "Lisbon", "starts_on": day, "ends_on": day,
              "url": "https://summit.example/programme", "sessions": SESSIONS.format(d=day), **changes}
    return _form(client, "/calls/new", "/calls/new", **fields)


def test_list_a_meeting_claim_and_calendar(app, as_role, session, users):
    icalendar = require_module("icalendar")
    summarizer = as_role("summarizer")
    response = _meeting(summarizer)
    assert response.status_code == 302
    meeting = session.query(Meeting).one()
    first, second = meeting.sessions
    page = as_role(None).get(f"/calls/{meeting.slug}").get_data(as_text=True)
    assert page.count("needs a volunteer") == 2
    assert _form(summarizer, f"/calls/{meeting.slug}", f"/calls/sessions/{first.id}/claim").status_code == 302
    taken = _form(as_role("editor"), f"/calls/{meeting.slug}", f"/calls/sessions/{first.id}/claim")
    assert taken.status_code == 400 and "Someone else" in taken.get_data(as_text=True)
    assert _form(as_role("listener"), "/calls/", f"/calls/sessions/{second.id}/claim").status_code == 403
    page = as_role(None).get(f"/calls/{meeting.slug}").get_data(as_text=True)
    assert "claimed by" in page and page.count("needs a volunteer") == 1
    listing = as_role(None).get("/calls/").get_data(as_text=True)
    assert "Aesthetic Lasers Summit" in listing and "1 needs a volunteer" in listing
    response = as_role(None).get("/calls/meetings.ics")
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 3 and str(calendar["VERSION"]) == "2.0"
    talk = next(e for e in events if "Picosecond" in str(e["SUMMARY"]))
    assert talk.decoded("DTSTART").hour == 9 and talk.decoded("DTEND").minute == 30
    assert str(talk["LOCATION"]) == "Lisbon" and "Claimed" in str(talk["DESCRIPTION"])
    assert len({str(e["UID"]) for e in events}) == 3


@pytest.mark.parametrize("changes, message", [
    ({"sessions": "tomorrow morning Lasers"}, "Session line 1: write"),
    ({"sessions": "2020-01-01 09:00-10:00 Old"}, "outside the meeting"),
    ({"starts_on": "2020-01-01", "ends_on": "2020-01-02", "sessions": ""}, "upcoming"),
    ({"ends_on": "2000-01-01"}, "end on or after"),
    ({"url": "javascript:alert(1)"}, "http(s) address"),
    ({"name": "<script>x</script>"}, "HTML tags are not allowed"),
    ({"starts_on": "14/03/2027"}, "a date like"),
])
def test_bad_meetings_store_nothing(as_role, session, changes, message):
    response = _meeting(as_role("summarizer"), **changes)
    assert response.status_code in (400, 422) and message in response.get_data(as_text=True)
    assert session.query(Meeting).count() == 0 and session.query(MeetingSession).count() == 0


def test_reminder_after_the_session_ends_once(ctx, session, users):
    meeting = Meeting(name="Webinar", slug="webinar", starts_on=date.today(), ends_on=date.today())
    ended = MeetingSession(title="Botulinum toxin dosing", starts_at=datetime.now(timezone.utc) - timedelta(hours=2),
                           ends_at=datetime.now(timezone.utc) - timedelta(hours=1), claimed_by_id=users["summarizer"])
    later = MeetingSession(title="Later talk", starts_at=datetime.now(timezone.utc) + timedelta(hours=1),
                           ends_at=datetime.now(timezone.utc) + timedelta(hours=2), claimed_by_id=users["summarizer"])
    meeting.sessions = [ended, later]
    session.add(meeting)
    session.commit()
    assert send_reminders(session) == 1 and send_reminders(session) == 0
    session.commit()
    [(kind, text)] = _kinds(session, users["summarizer"])
    assert kind == "reminder" and "Botulinum toxin dosing" in text


class Recorder:
    """Keeps the job ids an upload queues; the tests here need the stored upload, not processing."""

    def __init__(self):
        self.ids = []

    def dispatch(self, job_ids):
        self.ids += list(job_ids)


def _upload(client, **fields):
    token = csrf_from(client.get("/studio/upload").get_data(as_text=True))
    data = {"csrf_token": token, "title": "Lasers", "event": "", "speakers": "", "recorded_on": "", "tags": "",
            "notes": "# Lasers\n- gently\n", "upload_id": "", **fields,
            "audio": (open(GOOD / "speech.mp3", "rb"), "speech.mp3")}
    return client.post("/studio/upload", data=data, content_type="multipart/form-data")


def test_notes_uploaded_for_a_claimed_session_are_linked(app, as_role, session, users):
    app.extensions["clinex_dispatcher"] = Recorder()
    summarizer = as_role("summarizer")
    _meeting(summarizer)
    first, second = session.query(Meeting).one().sessions
    _form(summarizer, "/calls/", f"/calls/sessions/{first.id}/claim")
    form = summarizer.get(f"/studio/upload?session={first.id}").get_data(as_text=True)
    assert f'<option value="{first.id}" selected>' in form
    _form(as_role("editor"), "/calls/", f"/calls/sessions/{second.id}/claim")
    refused = _upload(summarizer, call_session=str(second.id))
    assert refused.status_code == 422 and "Someone else claimed" in refused.get_data(as_text=True)
    assert session.query(Episode).count() == 0  # nothing stored for a refused choice
    response = _upload(summarizer, call_session=str(first.id))
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    session.expire_all()
    [ep] = session.query(Episode).all()
    assert session.get(MeetingSession, first.id).episode_id == ep.id
    page = as_role(None).get(f"/calls/{first.meeting.slug}").get_data(as_text=True)
    assert "notes submitted by" in page


def test_a_members_only_summary_is_not_linked_for_visitors(ctx, as_role, session, users):
    ep = make_episode(ctx, session, title="Members briefing", author=session.get(User, users["summarizer"]))
    ep.members_only = True
    meeting = Meeting(name="Webinar", slug="webinar", starts_on=date.today(), ends_on=date.today())
    meeting.sessions = [MeetingSession(title="Briefing", starts_at=datetime.now(timezone.utc),
                                       ends_at=datetime.now(timezone.utc), claimed_by_id=users["summarizer"],
                                       episode_id=ep.id)]
    session.add(meeting)
    session.commit()
    visitor = as_role(None).get("/calls/webinar").get_data(as_text=True)
    assert "summarized (for members" in visitor and ep.slug not in visitor
    assert f"/episodes/{ep.slug}" in as_role("listener").get("/calls/webinar").get_data(as_text=True)


def test_the_notes_front_matter_can_name_the_session(app, as_role, session, users):
    app.extensions["clinex_dispatcher"] = Recorder()
    summarizer = as_role("summarizer")
    _meeting(summarizer)
    first, _second = session.query(Meeting).one().sessions
    bad = _upload(summarizer, notes="---\nsession: 99999\n---\n# Lasers\n")
    assert bad.status_code == 422 and "No such session" in bad.get_data(as_text=True)
    assert session.query(Episode).count() == 0
    response = _upload(summarizer, notes=f"---\nsession: {first.id}\n---\n# Lasers\n- gently\n")
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    session.expire_all()
    assert session.get(MeetingSession, first.id).episode_id == session.query(Episode).one().id
