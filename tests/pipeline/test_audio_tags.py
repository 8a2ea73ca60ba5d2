"""ID3v2.3 and MP4 tags written with mutagen, read back from the real file."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from pipeline.audio import AudioOptions, normalize_and_encode, validate_upload
from pipeline.errors import AudioError
from pipeline.audio.id3 import ChapterFrame, EpisodeTags, read_tags, write_tags

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
COVER = (FIXTURES / "bad" / "image_jpeg.mp3").read_bytes()  # a real JPEG, renamed for the bad set


def episode_tags(**changes) -> EpisodeTags:
    tags = EpisodeTags(
        title="Tear-trough fillers: cannula or needle?",
        artist="Dr. Ana Müller, Dr. Kenji Sato",
        album="Aesthetic Medicine Congress 2024",
        date="2024-05-17",
        comment="Panel on mid-face anatomy, cannula technique and vascular occlusion.",
        cover=COVER,
        chapters=[ChapterFrame(0.0, 3.5, "Anatomy"), ChapterFrame(3.5, 8.2, "Hyaluronidase protocol — Q&A")],
        url="https://clinical-exchange.example/episodes/tear-trough",
    )
    for key, value in changes.items():
        setattr(tags, key, value)
    return tags


@pytest.fixture(scope="module")
def episode_mp3(tmp_path_factory) -> Path:
    return normalize_and_encode(FIXTURES / "good" / "speech.wav", tmp_path_factory.mktemp("ep"), AudioOptions()).path


def test_mp3_tags_are_id3v23_with_chapters_and_cover(episode_mp3, tmp_path):
    path = tmp_path / "episode.mp3"
    shutil.copyfile(episode_mp3, path)
    write_tags(path, episode_tags())
    tags = read_tags(path)
    assert tags["version"] == (2, 3, 0)
    assert {"TIT2", "TPE1", "TALB", "TYER", "TCON", "COMM", "APIC", "CHAP", "CTOC", "WXXX"} <= set(tags["frames"])
    assert "TDRC" not in tags["frames"]  # v2.4 only; v2.3 players want TYER
    assert tags["title"] == "Tear-trough fillers: cannula or needle?"
    assert tags["artist"] == "Dr. Ana Müller, Dr. Kenji Sato"
    assert tags["album"] == "Aesthetic Medicine Congress 2024"
    assert tags["genre"] == "Podcast"
    assert tags["date"].startswith("2024")
    assert tags["comment"].startswith("Panel on mid-face")
    assert tags["url"] == "https://clinical-exchange.example/episodes/tear-trough"
    assert tags["cover"] == COVER and tags["cover_mime"] == "image/jpeg"
    assert tags["chapters"] == [
        {"id": "chp0", "start": 0.0, "end": 3.5, "title": "Anatomy"},
        {"id": "chp1", "start": 3.5, "end": 8.2, "title": "Hyaluronidase protocol — Q&A"},
    ]
    assert tags["toc"] == [{"id": "toc", "children": ["chp0", "chp1"], "top_level": True, "ordered": True}]


def test_tagged_file_still_plays_and_its_length_is_what_is_served(episode_mp3, tmp_path):
    path = tmp_path / "episode.mp3"
    shutil.copyfile(episode_mp3, path)
    write_tags(path, episode_tags())
    data = path.read_bytes()
    # The enclosure length and hash are taken after tagging: tagging changes the bytes.
    assert len(data) > episode_mp3.stat().st_size + len(COVER)
    assert hashlib.sha256(data).hexdigest() != hashlib.sha256(episode_mp3.read_bytes()).hexdigest()
    info = validate_upload(path, filename="episode.mp3", max_bytes=10**9, max_duration=3600)
    assert info.duration == pytest.approx(8.23, abs=0.1)
    assert info.size == len(data)


def test_retagging_replaces_and_no_chapters_means_no_toc(episode_mp3, tmp_path):
    path = tmp_path / "episode.mp3"
    shutil.copyfile(episode_mp3, path)
    write_tags(path, episode_tags())
    write_tags(path, episode_tags(chapters=[], cover=None, date=None, url=None, title="Second"))
    tags = read_tags(path)
    assert tags["title"] == "Second"
    assert not {"CHAP", "CTOC", "APIC", "TYER", "WXXX"} & set(tags["frames"])
    assert len(ID3(path).getall("TIT2")) == 1


def test_m4a_tags(tmp_path):
    out = normalize_and_encode(FIXTURES / "good" / "speech.opus", tmp_path, AudioOptions(format="m4a"))
    write_tags(out.path, episode_tags(cover_mime="image/jpeg"))
    tags = read_tags(out.path)
    assert tags["title"] == "Tear-trough fillers: cannula or needle?"
    assert tags["artist"] == "Dr. Ana Müller, Dr. Kenji Sato"
    assert tags["genre"] == "Podcast" and tags["date"] == "2024-05-17"
    assert tags["cover"] == COVER


def test_other_formats_cannot_be_tagged(tmp_path):
    path = tmp_path / "x.wav"
    shutil.copyfile(FIXTURES / "good" / "speech.wav", path)
    with pytest.raises(AudioError, match="only MP3 and M4A"):
        write_tags(path, episode_tags())


# Titles of very different lengths: mutagen orders frames by size, which put "Complications"
# second in ffmpeg's chapter list before chapters were written in time order.
OUT_OF_SIZE_ORDER = [ChapterFrame(0.0, 1.5, "Introduction to the mid-face and its fat compartments"),
                     ChapterFrame(1.5, 3.0, "Cannula"), ChapterFrame(3.0, 4.5, "Needle technique around the orbit"),
                     ChapterFrame(4.5, 6.0, "Q&A"), ChapterFrame(6.0, 8.2, "Complications")]


def test_chapter_frames_are_stored_in_time_order(episode_mp3, tmp_path):
    path = tmp_path / "episode.mp3"
    shutil.copyfile(episode_mp3, path)
    # Handed over shuffled: the file must still list them by start time.
    write_tags(path, episode_tags(chapters=[OUT_OF_SIZE_ORDER[i] for i in (3, 0, 4, 2, 1)]))
    raw = [key for key in ID3(path) if key.startswith(("CHAP", "CTOC"))]  # keys come in file order
    assert raw == ["CTOC:toc"] + [f"CHAP:chp{n}" for n in range(5)]
    starts = [frame.start_time for frame in ID3(path).getall("CHAP")]
    assert [ID3(path)[f"CHAP:chp{n}"].start_time for n in range(5)] == sorted(starts)
    assert read_tags(path)["toc"][0]["children"] == [f"chp{n}" for n in range(5)]
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True)
    chapters = json.loads(probe.stdout)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in OUT_OF_SIZE_ORDER]
    assert [float(c["start_time"]) for c in chapters] == [c.start for c in OUT_OF_SIZE_ORDER]
    assert validate_upload(path, filename="episode.mp3", max_bytes=10**9, max_duration=3600).size \
        == path.stat().st_size
