"""The community in the site: notifications (bell, mail, settings, signed links), helpful marks
and standing, profiles and avatars, follows, reports and moderation."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from pipeline.community.mail import list_mailbox
from pipeline.community.models import HelpfulMark, ModerationAction, Notification, Profile, Report
from pipeline.models import Comment, CommentState, Episode, User

from .conftest import csrf_from
from .test_discussion import _post


def _page(client, path):
    response = client.get(path)
    return response, response.get_data(as_text=True)


def _form(client, path, action, **fields):
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **fields})


def _trust(session, *user_ids):
    for uid in user_ids:
        session.get(User, uid).trusted = True
    session.commit()


def _notes(session, user_id):
    session.expire_all()
    return session.query(Notification).filter_by(user_id=user_id).order_by(Notification.id).all()


def _last_comment(session):
    session.expire_all()
    return session.query(Comment).order_by(Comment.id.desc()).first()


def test_reply_rings_the_bell_mails_and_links_back(app, as_role, episode, session, users, settings):
    _trust(session, users["listener"])
    listener, editor = as_role("listener"), as_role("editor")
    _post(listener, episode["slug"], body="Which fluence for type IV?")
    parent = _last_comment(session)
    _post(editor, episode["slug"], body="Start low, 2 J/cm².", parent_id=str(parent.id))
    reply = _last_comment(session)
    [note] = _notes(session, users["listener"])
    assert note.kind == "reply" and "Editor replied to you" in note.text and note.read_at is None
    _, home = _page(listener, "/")
    assert re.search(r'id="unread-count">1<', home)
    [mail] = [m for m in list_mailbox(settings) if m.to == "listener@example.org"]
    assert "Editor replied to you" in mail.subject
    link = re.search(r"http://clinex.test(/notifications/\d+/open)", mail.body).group(1)
    assert as_role(None).get(link).status_code == 302  # to sign in: mail links need the member
    opened = listener.get(link)
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"#c{reply.id}")
    assert _notes(session, users["listener"])[0].read_at is not None
    assert as_role("summarizer").get(link).status_code == 404  # another member's notification


def test_mentions_notify_once_and_pending_comments_wait(app, as_role, episode, session, users):
    listener = as_role("listener")
    listener.get("/account/profile")  # makes the profile and its handle
    handle = session.get(Profile, users["listener"]).handle
    _post(as_role("summarizer"), episode["slug"], body=f"Agree with @{handle} here, and @nobody_at_all")
    pending = _last_comment(session)
    assert pending.state == CommentState.pending.value and _notes(session, users["listener"]) == []
    _form(as_role("editor"), "/moderation/", f"/moderation/comments/{pending.id}/restore")
    _form(as_role("editor"), "/moderation/", f"/moderation/comments/{pending.id}/restore")
    [note] = _notes(session, users["listener"])
    assert note.kind == "mention" and note.comment_id == pending.id


def test_members_only_and_unpublished_episodes_stay_unnamed(app, as_role, episode, session, users, settings):
    _trust(session, users["listener"])
    ep = session.get(Episode, episode["id"])
    ep.members_only = True
    session.commit()
    _post(as_role("listener"), episode["slug"], body="First")
    _post(as_role("editor"), episode["slug"], body="Reply", parent_id=str(_last_comment(session).id))
    [mail] = [m for m in list_mailbox(settings) if m.to == "listener@example.org"]
    assert ep.title not in mail.subject + mail.body and "members-only episode" in mail.body
    _, page = _page(as_role("listener"), "/notifications/")
    assert ep.title in page  # the member may see it on the site
    ep.members_only, ep.status = False, "unpublished"
    session.commit()
    _, page = _page(as_role("listener"), "/notifications/")
    assert ep.title not in page and "Nothing yet" in page


def test_signed_links_change_only_their_own_account(app, as_role, episode, session, users, settings):
    from pipeline.community.delivery import change_url
    from pipeline.community.prefs import prefs_of

    url = change_url(settings, users["listener"], "reply", "off").removeprefix("http://clinex.test")
    anonymous = as_role(None)
    assert "will be not sent any more" in anonymous.get(url).get_data(as_text=True)
    assert prefs_of(session, users["listener"])["reply"].email == "instant"  # a GET changes nothing
    assert anonymous.post(url).status_code == 200
    session.expire_all()
    assert prefs_of(session, users["listener"])["reply"].email == "off"
    assert prefs_of(session, users["summarizer"])["reply"].email == "instant"
    token = url.rsplit("/", 1)[1]
    forged = token.replace(token[3], "A" if token[3] != "A" else "B", 1)
    response = anonymous.post(f"/notifications/unsubscribe/{forged}")
    assert response.status_code == 400 and "damaged" in response.get_data(as_text=True)
    other_secret = change_url(settings.replace(SECRET_KEY="another"), users["summarizer"], "*", "off")
    assert anonymous.post(other_secret.removeprefix("http://clinex.test")).status_code == 400
    assert prefs_of(session, users["summarizer"])["mention"].email == "instant"


def test_settings_page_and_mail_off(app, as_role, episode, session, users, settings):
    _trust(session, users["listener"])
    listener = as_role("listener")
    fields = {f"site_{k}": "on" for k in ("reply", "mention", "new_episode", "review", "reminder", "moderation")}
    fields.update({f"email_{k}": "weekly" for k in ("reply", "mention", "new_episode", "review", "reminder",
                                                    "moderation")})
    fields["email_reply"] = "off"
    assert _form(listener, "/notifications/settings", "/notifications/settings", **fields).status_code == 302
    _post(listener, episode["slug"], body="Q")
    _post(as_role("editor"), episode["slug"], body="A", parent_id=str(_last_comment(session).id))
    [note] = _notes(session, users["listener"])
    assert note.email == "none" and not [m for m in list_mailbox(settings) if m.to == "listener@example.org"]
    bad = _form(listener, "/notifications/settings", "/notifications/settings", email_reply="hourly")
    assert bad.status_code == 400 and "Email can be" in bad.get_data(as_text=True)


def test_helpful_marks_standing_and_sort(app, as_role, episode, session, users):
    _trust(session, users["listener"], users["summarizer"])
    _post(as_role("listener"), episode["slug"], body="older comment")
    _post(as_role("summarizer"), episode["slug"], body="newer comment")
    second = _last_comment(session)
    path = f"/episodes/{episode['slug']}"
    for role in ("editor", "admin", "editor"):  # the editor's second mark is the same mark
        assert _form(as_role(role), path, f"/comments/{second.id}/helpful").status_code == 302
    own = _form(as_role("summarizer"), path, f"/comments/{second.id}/helpful")
    assert own.status_code == 400 and "your own comment" in own.get_data(as_text=True)
    assert session.query(HelpfulMark).count() == 2
    _, page = _page(as_role(None), path + "?sort=helpful")
    assert page.index("newer comment") < page.index("older comment")
    assert "2 found this helpful" in page and "standing 12" in page  # 1 summary (10) + 2 marks
    _, page = _page(as_role(None), path)
    assert page.index("older comment") < page.index("newer comment")
    _, profile = _page(as_role(None), f"/members/{users['summarizer']}")
    assert "Standing 12" in profile and "Picosecond lasers for melasma" in profile
    _, top = _page(as_role(None), "/tags/melasma/contributors")
    assert "Summarizer" in top and "standing 12" in top
    undo = _form(as_role("admin"), path, f"/comments/{second.id}/helpful", undo="1")
    assert undo.status_code == 302 and session.query(HelpfulMark).count() == 1
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "helpful": (1, 3600)}
    limited = as_role("listener")
    assert _form(limited, path, f"/comments/{second.id}/helpful").status_code == 302
    assert _form(limited, path, f"/comments/{second.id}/helpful", undo="1").status_code == 429


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (800, 400), (200, 120, 90))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"patient Jane Doe")
    return out.getvalue()


def _profile_fields(**changes):
    fields = {"display_name": "Dr. Lee", "handle": "drlee", "credentials": "MD", "credentials_visibility": "public",
              "specialty": "Dermatology", "specialty_visibility": "public", "practice": "Lee Skin Clinic",
              "practice_visibility": "members", "city": "Porto", "city_visibility": "private",
              "bio": "Lasers and *pigment*."}
    return {**fields, **changes}


def test_profile_fields_visibility_and_avatar(app, ctx, as_role, session, users):
    me = as_role("listener")
    token = csrf_from(me.get("/account/profile").get_data(as_text=True))
    response = me.post("/account/profile", data={"csrf_token": token, **_profile_fields(),
                                                  "avatar": (io.BytesIO(_jpeg_with_exif()), "me.jpg")},
                       content_type="multipart/form-data")
    assert response.status_code == 302
    path = f"/members/{users['listener']}"
    _, anonymous = _page(as_role(None), path)
    _, member = _page(as_role("summarizer"), path)
    _, own = _page(me, path)
    assert "Dermatology" in anonymous and "Lee Skin Clinic" not in anonymous and "Porto" not in anonymous
    assert "Lee Skin Clinic" in member and "Porto" not in member
    assert "Porto" in own and "<em>pigment</em>" in own and "@drlee" in own
    avatar = as_role(None).get(f"{path}/avatar.png")
    assert avatar.status_code == 200 and avatar.mimetype == "image/png"
    with Image.open(io.BytesIO(avatar.data)) as img:
        assert img.size == (256, 256) and not img.getexif() and "exif" not in img.info
    assert b"SecretCam" not in avatar.data and b"Jane" not in avatar.data


@pytest.mark.parametrize("changes, message", [
    ({"bio": "<script>alert(1)</script>"}, "HTML tags are not allowed"),
    ({"display_name": ""}, "A name is required"),
    ({"handle": "a b"}, "Handle: 2 to 40"),
    ({"bio": "x" * 1001}, "at most 1000"),
    ({"city": "Porto\u202e"}, "control characters"),
    ({"credentials_visibility": "friends"}, "Not a valid choice"),
])
def test_bad_profile_input_saves_nothing(as_role, session, users, changes, message):
    me = as_role("listener")
    response = _form(me, "/account/profile", "/account/profile", **_profile_fields(**changes))
    assert response.status_code in (400, 422) and message in response.get_data(as_text=True)
    session.expire_all()
    profile = session.get(Profile, users["listener"])
    assert profile.bio is None and profile.city is None and session.get(User, users["listener"]).display_name == "Listener"


def test_a_file_that_is_not_an_image_is_refused_whole(ctx, as_role, session, users):
    me = as_role("listener")
    token = csrf_from(me.get("/account/profile").get_data(as_text=True))
    response = me.post("/account/profile", data={"csrf_token": token, **_profile_fields(),
                                                  "avatar": (io.BytesIO(b"%PDF-1.4 not an image"), "me.png")},
                       content_type="multipart/form-data")
    assert response.status_code == 422 and "not an image we can read" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Profile, users["listener"]).bio is None
    assert list(ctx.storage.keys("avatars/")) == []


def test_handle_taken_is_refused(as_role, session, users):
    assert _form(as_role("listener"), "/account/profile", "/account/profile", **_profile_fields()).status_code == 302
    response = _form(as_role("summarizer"), "/account/profile", "/account/profile",
                     **_profile_fields(display_name="Other"))
    assert response.status_code == 422 and "@drlee is taken" in response.get_data(as_text=True)


def test_report_reaches_the_queue_and_editors_act(app, as_role, episode, session, users, settings):
    _trust(session, users["listener"])
    _post(as_role("listener"), episode["slug"], body="Buy cheap filler at spam.example")
    comment = _last_comment(session)
    path = f"/episodes/{episode['slug']}"
    for role in ("summarizer", "admin", "summarizer"):
        response = _form(as_role(role), f"/comments/{comment.id}/report", f"/comments/{comment.id}/report",
                         reason="spam", details="advert")
        assert response.status_code == 302
    assert session.query(Report).count() == 2
    bad = _form(as_role("editor"), f"/comments/{comment.id}/report", f"/comments/{comment.id}/report",
                reason="boring")
    assert bad.status_code == 400 and session.query(Report).count() == 2
    editor = as_role("editor")
    _, queue = _page(editor, "/moderation/reports")
    assert "2 reports" in queue and "Spam or advertising" in queue
    assert _form(editor, "/moderation/reports", f"/moderation/reports/{comment.id}/warn",
                 note="No adverts, please.").status_code == 302
    assert _form(editor, "/moderation/reports", f"/moderation/reports/{comment.id}/hide").status_code == 302
    assert _form(editor, "/moderation/reports", f"/moderation/members/{users['listener']}/suspend",
                 note="spam").status_code == 302
    session.expire_all()
    assert session.get(Comment, comment.id).state == "hidden" and not session.get(User, users["listener"]).active
    assert [a.action for a in session.query(ModerationAction).order_by(ModerationAction.id)] == ["warn", "hide",
                                                                                                 "suspend"]
    assert "No adverts, please." in [n.text for n in _notes(session, users["listener"])][0]
    assert as_role("listener").get("/account").status_code == 302  # suspended: signed out
    _, queue = _page(editor, "/moderation/reports")
    assert "No open reports" in queue and "suspend" in queue
    assert as_role(None).get(path).get_data(as_text=True).count("Buy cheap filler") == 0
    own = _form(as_role("editor"), "/moderation/reports", f"/moderation/members/{users['editor']}/suspend")
    assert own.status_code == 400 and "your own account" in own.get_data(as_text=True)


def test_report_rate_limit(app, as_role, episode, session, users):
    _trust(session, users["listener"])
    for n in range(2):
        _post(as_role("listener"), episode["slug"], body=f"comment {n}")
    ids = [c.id for c in session.query(Comment).order_by(Comment.id)]
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "report": (1, 3600)}
    reporter = as_role("summarizer")
    assert _form(reporter, f"/comments/{ids[0]}/report", f"/comments/{ids[0]}/report", reason="spam").status_code == 302
    assert _form(reporter, f"/comments/{ids[1]}/report", f"/comments/{ids[1]}/report", reason="spam").status_code == 429
