"""Who is speaking, on the web: editors name the diarized voices on the review page (suggested
from the notes' speakers), the names reach the page, the VTT/SRT/JSON files and search."""

from __future__ import annotations

import json

import pytest

from pipeline.keys import transcript_key
from pipeline.models import Episode, EpisodePerson, Person, User, Voice
from pipeline.speakers import rename_segments
from pipeline.steps import heard_segments, write_transcript_files

from .conftest import csrf_from, token_for
from .factories import make_episode


def diarized(ctx, session, status: str, author=None) -> Episode:
    """An episode whose transcript alternates two voices, as diarization stores it."""
    ep = make_episode(ctx, session, status=status, author=author)
    ep.people.append(EpisodePerson(person=Person(name="Dr. Tom Hale", slug="tom-hale"), role="speaker", position=1))
    transcript = ep.transcript
    for seg in transcript.segments:
        seg.voice = 0 if seg.index < 4 or seg.index % 2 == 0 else 1
    transcript.voices = [Voice(number=0, name="Dr. Ana Ribeiro", first_start=0.0, seconds=30.0),
                         Voice(number=1, name="Dr. Tom Hale", first_start=24.0, seconds=20.0)]
    rename_segments(transcript)
    session.flush()
    write_transcript_files(ctx, ep, transcript.id, heard_segments(transcript.segments))
    session.commit()
    return ep


@pytest.fixture
def queued(ctx, session, users):
    return diarized(ctx, session, "in_review", session.get(User, users["summarizer"])).id


def name(editor, episode_id: int, **fields):
    token = csrf_from(editor.get(f"/review/{episode_id}").get_data(as_text=True))
    return editor.post(f"/review/{episode_id}/voices", data={"csrf_token": token, **fields})


def stored(ctx, ep: Episode, ext: str) -> str:
    return ctx.storage.get_bytes(transcript_key(ep.uuid, ep.transcript.id, ext)).decode("utf-8")


def test_review_page_suggests_the_notes_speakers_in_order_of_first_speaking(as_role, queued):
    page = as_role("editor").get(f"/review/{queued}").get_data(as_text=True)
    assert 'id="voices"' in page
    assert page.index('name="voice-0" value="Dr. Ana Ribeiro"') < page.index('name="voice-1" value="Dr. Tom Hale"')
    assert page.count("· suggested") == 2
    assert '<b class="speaker"><bdi>Dr. Tom Hale</bdi>:</b>' in page


def test_named_voices_reach_segments_page_and_every_file(ctx, as_role, session, queued):
    editor = as_role("editor")
    answer = name(editor, queued, **{"voice-0": "  Dr. Ana   Ribeiro ", "voice-1": "Prof. Lee <Chan>"})
    assert answer.status_code == 302 and answer.location.endswith("#voices")
    session.expire_all()
    ep = session.get(Episode, queued)
    assert [(v.name, v.named) for v in ep.transcript.voices] == [("Dr. Ana Ribeiro", True), ("Prof. Lee <Chan>", True)]
    assert {s.speaker for s in ep.transcript.segments if s.voice == 1} == {"Prof. Lee <Chan>"}
    vtt, srt = stored(ctx, ep, "vtt"), stored(ctx, ep, "srt")
    assert "<v Prof. Lee &lt;Chan&gt;>" in vtt and "<v Dr. Ana Ribeiro>" in vtt
    assert "\nProf. Lee <Chan>: " in srt
    cues = json.loads(stored(ctx, ep, "json"))["segments"]
    assert [c["speaker"] for c in cues[:6]] == ["Dr. Ana Ribeiro"] * 4 + ["Dr. Ana Ribeiro", "Prof. Lee <Chan>"]
    page = editor.get(f"/review/{queued}").get_data(as_text=True)
    assert "<bdi>Prof. Lee &lt;Chan&gt;</bdi>:" in page and "· suggested" not in page


def test_an_empty_name_goes_back_to_speaker_n(ctx, as_role, session, queued):
    assert name(as_role("editor"), queued, **{"voice-1": "   "}).status_code == 302
    session.expire_all()
    ep = session.get(Episode, queued)
    assert {s.speaker for s in ep.transcript.segments if s.voice == 1} == {"Speaker 2"}
    assert "<v Speaker 2>" in stored(ctx, ep, "vtt")


@pytest.mark.parametrize("fields, status, reason", [
    ({"voice-0": "x" * 201}, 400, "at most 200 characters"),
    ({"voice-7": "Dr. Nobody"}, 409, "no voice 8"),
    ({"voice-x": "Dr. Nobody"}, 400, "voice-&lt;number&gt;"),
])
def test_bad_names_are_refused_with_the_reason_and_change_nothing(ctx, as_role, session, queued, fields, status,
                                                                  reason):
    before = stored(ctx, session.get(Episode, queued), "vtt")
    answer = name(as_role("editor"), queued, **{"voice-1": "Prof. Lee Chan", **fields})
    assert answer.status_code == status and reason in answer.get_data(as_text=True)
    session.expire_all()
    ep = session.get(Episode, queued)
    assert [v.name for v in ep.transcript.voices] == ["Dr. Ana Ribeiro", "Dr. Tom Hale"]
    assert stored(ctx, ep, "vtt") == before


def test_voices_need_a_diarized_transcript_and_an_editor(as_role, episode):
    answer = name(as_role("editor"), episode["id"], **{"voice-0": "Dr. Ana Ribeiro"})
    assert answer.status_code == 409 and "not diarized" in answer.get_data(as_text=True)
    summarizer = as_role("summarizer")
    token = token_for(summarizer, "/studio/")
    answer = summarizer.post(f"/review/{episode['id']}/voices", data={"csrf_token": token, "voice-0": "x"})
    assert answer.status_code == 403


def test_public_page_and_search_by_speaker(ctx, client, session):
    ep = diarized(ctx, session, "published")
    page = client.get(f"/episodes/{ep.slug}").get_data(as_text=True)
    assert '<b class="speaker"><bdi>Dr. Tom Hale</bdi>:</b>' in page
    everyone = client.get("/search?q=rosacea").get_data(as_text=True)
    tom = client.get("/search?q=rosacea&speaker=dr.+tom+hale").get_data(as_text=True)
    ana = client.get("/search?q=rosacea&speaker=Dr.%20Ana%20Ribeiro").get_data(as_text=True)
    # rosacea is said in lines 3, 7 and 11 (4.8 s apart): line 3 by Ana, 7 and 11 by Tom
    assert everyone.count("?t=") == 3
    assert tom.count("?t=") == 2 and "?t=3" in tom and "?t=5" in tom
    assert ana.count("?t=") == 1 and "?t=1" in ana
    by_slug = client.get("/search?q=rosacea&speaker=tom-hale").get_data(as_text=True)  # the filter's list
    assert by_slug.count("?t=") == 2
    nobody = client.get("/search?q=rosacea&speaker=Dr.+Nobody")
    assert nobody.status_code == 400 and "no speaker called" in nobody.get_data(as_text=True)


@pytest.mark.slow
def test_the_sample_lecture_is_diarized_as_its_one_speaker(published_sample):
    """The whole flow (real model, real encoder): one voice, named from the notes, in every file."""
    from webapp import create_app

    app = create_app(dict(published_sample["values"]))
    ctx = app.extensions["clinex"]
    with ctx.sessions() as session:
        ep = session.get(Episode, published_sample["episode_id"])
        transcript = ep.transcript
        assert [(v.number, v.name, v.named) for v in transcript.voices] == [(0, "Dr. Ana Ribeiro", False)]
        assert transcript.options["diarization"]["speakers"] == 1
        assert {(s.voice, s.speaker) for s in transcript.segments} == {(0, "Dr. Ana Ribeiro")}
        assert [s.index for s in transcript.segments] == list(range(len(transcript.segments)))
        vtt = stored(ctx, ep, "vtt")
    assert vtt.count("<v Dr. Ana Ribeiro>") == len(transcript.segments)
    client = app.test_client()
    hits = client.get("/search?q=melasma&speaker=Dr.+Ana+Ribeiro").get_data(as_text=True)
    assert hits.count("?t=") >= 1


def test_postgresql_search_by_speaker(pg_url, tmp_path):
    from pipeline.migrate import upgrade_database
    from webapp import create_app
    from webapp.search import search

    upgrade_database(pg_url)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "pg"), "DATABASE_URL": pg_url, "SECRET_KEY": "s",
                      "BASE_URL": "http://clinex.test"})
    ctx = app.extensions["clinex"]
    with ctx.sessions() as session:
        diarized(ctx, session, "published")
        tom = search(session, "rosacea", speaker="DR. TOM HALE")
        assert [h.kind for h in tom] == ["segment", "segment"] and {round(h.start) for h in tom} == {36, 56}  # on the word "rosacea"
        assert [h.kind for h in search(session, "rosacea")].count("segment") == 3
        assert search(session, "rosacea", speaker="Dr. Nobody") == []


def test_without_diarization_a_one_speaker_episode_is_credited_to_that_speaker(ctx, session):
    from dataclasses import replace as copy

    from pipeline.speakers import assign_speakers

    off = copy(ctx, settings=ctx.settings.replace(DIARIZATION="off"))
    ep = diarized(ctx, session, "processing")
    transcript = ep.transcript
    both = assign_speakers(off, session, ep, transcript, heard_segments(transcript.segments), audio_path=None)
    assert {s.speaker for s in both} == {None} and not transcript.voices  # two speakers: nobody is guessed
    ep.people.pop()
    session.flush()
    one = assign_speakers(off, session, ep, transcript, heard_segments(transcript.segments), audio_path=None)
    session.commit()
    assert {s.speaker for s in one} == {"Dr. Ana Ribeiro"}
    stored_rows = session.get(Episode, ep.id).transcript.segments
    assert {(s.voice, s.speaker) for s in stored_rows} == {(None, "Dr. Ana Ribeiro")}


@pytest.mark.slow
def test_a_round_table_gets_four_voices_named_from_its_notes(settings):
    """Ingest (real model, real encoder): the notes list the moderator first, then the
    panellists in the order they first speak, so each voice is suggested the right name."""
    from pathlib import Path

    from pipeline.migrate import upgrade_database
    from pipeline.models import Episode
    from webapp import ops

    upgrade_database(settings.DATABASE_URL)
    fixtures = Path(__file__).resolve().parent.parent / "fixtures" / "roundtable"
    row = ops.ingest_file(fixtures / "roundtable.mp3", notes_path=fixtures / "notes.md", wait=True, quiet=True,
                          settings=settings)
    assert row["status"] == "in_review"
    reference = json.loads((fixtures / "reference.json").read_text())["turns"]
    names = {"moderator": "Dr. Maya Stone", "anna": "Dr. Anna Berg", "bruno": "Dr. Bruno Costa", "chen": "Dr. Chen Wei"}
    ctx = ops.context(settings)
    with ctx.sessions() as session:
        transcript = session.get(Episode, row["id"]).transcript
        assert [v.name for v in transcript.voices] == list(names.values())
        def said_by_them(s) -> bool:
            middle = (s.start + s.end) / 2
            return any(t["start"] - 0.3 <= middle <= t["end"] + 0.3 and names[t["speaker"]] == s.speaker
                       for t in reference)

        right = sum(s.end - s.start for s in transcript.segments if said_by_them(s))
        assert right >= 0.9 * sum(s.end - s.start for s in transcript.segments)
