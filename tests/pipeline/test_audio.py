"""Audio: validation, loudness, encoding. Real fixture files, real ffmpeg, no mocks.

Fixtures come from tests/fixtures/make_audio_fixtures.sh (committed, about 1.7 MB).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from mutagen.mp3 import MP3, BitrateMode

from pipeline.audio import (
    AudioOptions, LoudnessInfo, is_silent, measure_loudness, normalize_and_encode, probe,
    sniff_non_audio, validate_upload,
)
from pipeline.errors import AudioError, ConfigError, InvalidUpload
from pipeline.transcription.pcm import decode_pcm16k
from pipeline.audio.ffmpeg import configure_pydub, ffmpeg_binary, run_ffmpeg
from pipeline.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
LIMITS = dict(max_bytes=2 * 1024**3, max_duration=3 * 3600)

# name: (container, codec, sample rate, channels)
GOOD_FILES = {
    "speech.wav": ("wav", "pcm_s16le", 22050, 1),
    "speech.mp3": ("mp3", "mp3", 22050, 1),
    "speech.flac": ("flac", "flac", 22050, 1),
    "speech.ogg": ("ogg", "vorbis", 22050, 1),
    "speech.opus": ("ogg", "opus", 48000, 1),
    "speech.m4a": ("mov", "aac", 22050, 1),
    "speech_quiet.flac": ("flac", "flac", 22050, 1),
    "speech_hot_stereo.m4a": ("mov", "aac", 48000, 2),
    "webinar.mp4": ("mov", "aac", 22050, 1),
    "webinar.webm": ("matroska", "opus", 48000, 1),
    "tone_stereo.ogg": ("ogg", "vorbis", 44100, 2),
}

# Each bad input and a phrase of the one sentence the summarizer sees.
BAD_FILES = {
    "empty.mp3": "The file is empty",
    "notes_text.mp3": "This file is a text file, not an audio recording",
    "webpage_html.m4a": "This file is a web page (HTML), not an audio recording",
    "image_png.mp3": "This file is a PNG image, not an audio recording",
    "image_jpeg.mp3": "This file is a JPEG image, not an audio recording",
    "document_pdf.mp3": "This file is a PDF document, not an audio recording",
    "random_bytes.mp3": "not an audio or video recording that we can read",
    "truncated.mp3": "cut short or damaged",
    "truncated.flac": "cut short or damaged",
    "truncated.m4a": "cut short or damaged",
    "corrupt_header.m4a": "looks like an MP4/M4A file but is damaged or incomplete",
    "video_no_audio.mp4": "has no sound track",
    "silence.wav": "silent from start to end",
    "silence.mp3": "silent from start to end",
    "near_silence.flac": "silent from start to end",
    "header_only.wav": "contains no audio at all",
    "zero_duration.mp3": "contains no audio at all",
    "zero_frames.mp3": "contains no audio at all",
    "zero_frames.opus": "contains no audio at all",
}


def test_every_fixture_is_listed():
    assert sorted(p.name for p in GOOD.iterdir()) == sorted(GOOD_FILES)
    assert sorted(p.name for p in BAD.iterdir()) == sorted(BAD_FILES)
    assert sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file()) < 3 * 1024**2


# --------------------------------------------------------------------------- ffmpeg

def test_ffmpeg_binary_prefers_the_system_one():
    assert ffmpeg_binary() == shutil.which("ffmpeg")


def test_ffmpeg_binary_falls_back_to_imageio_and_still_works(monkeypatch, tmp_path):
    import imageio_ffmpeg

    monkeypatch.setenv("PATH", str(tmp_path))
    assert ffmpeg_binary() == imageio_ffmpeg.get_ffmpeg_exe()
    prepared = normalize_and_encode(GOOD / "speech.opus", tmp_path / "out", AudioOptions())
    monkeypatch.undo()
    assert prepared.info.codec == "mp3"
    assert abs(measure_loudness(prepared.path).integrated_lufs + 16) <= 1.0


def test_pydub_is_pointed_at_the_same_binary():
    from pydub import AudioSegment

    configure_pydub()
    assert AudioSegment.converter == ffmpeg_binary()


def test_run_ffmpeg_failure_carries_ffmpegs_reason(tmp_path):
    with pytest.raises(AudioError, match="No such file or directory"):
        run_ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"], what="read the file")


# --------------------------------------------------------------------------- probe and validation

@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_probe_reads_each_accepted_format(name):
    container, codec, rate, channels = GOOD_FILES[name]
    info = probe(GOOD / name)
    assert (info.container, info.codec, info.sample_rate, info.channels) == (container, codec, rate, channels)
    assert info.size == (GOOD / name).stat().st_size
    assert info.bitrate and info.bitrate > 0


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_validate_accepts_each_good_recording(name):
    info = validate_upload(GOOD / name, filename=name, **LIMITS)
    expected = 6.0 if name.startswith("tone") else 8.23
    assert info.duration == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_validate_refuses_each_bad_input_with_its_reason(name):
    with pytest.raises(InvalidUpload) as caught:
        validate_upload(BAD / name, filename=name, **LIMITS)
    message = str(caught.value)
    assert BAD_FILES[name] in message
    assert message.endswith(".") and message.count(". ") == 0  # one sentence


def test_too_large_and_too_long_are_refused():
    with pytest.raises(InvalidUpload, match=r"The file is 354\.5 KB and uploads are limited to 100 KB"):
        validate_upload(GOOD / "speech.wav", filename="a.wav", max_bytes=100 * 1024, max_duration=3600)
    with pytest.raises(InvalidUpload, match="The recording is 8 s long and recordings are limited to 5 s"):
        validate_upload(GOOD / "speech.mp3", filename="a.mp3", max_bytes=10**9, max_duration=5)


@pytest.mark.parametrize("filename", ["../../etc/passwd.mp3", "é" * 300 + ".wav", "talk.txt", ""])
def test_untrusted_filename_changes_nothing(tmp_path, filename):
    stored = tmp_path / "upload.bin"  # what a web upload leaves on disk: our name, not theirs
    shutil.copyfile(GOOD / "speech.flac", stored)
    info = validate_upload(stored, filename=filename, **LIMITS)
    assert info == validate_upload(GOOD / "speech.flac", filename="speech.flac", **LIMITS)
    shutil.copyfile(BAD / "notes_text.mp3", stored)
    with pytest.raises(InvalidUpload, match="text file"):
        validate_upload(stored, filename=filename, **LIMITS)


def test_sniffing_and_silence_rules():
    assert sniff_non_audio(b"\x89PNG\r\n\x1a\n....") == "a PNG image"
    assert sniff_non_audio(b"<!doctype html><html>") == "a web page (HTML)"
    assert sniff_non_audio((GOOD / "speech.mp3").read_bytes()[:4096]) is None
    assert sniff_non_audio((GOOD / "speech.wav").read_bytes()[:4096]) is None
    assert is_silent(-60.0, -75.0) and is_silent(-20.0, -80.0)
    assert not is_silent(-3.0, -25.0)


# --------------------------------------------------------------------------- loudness

def test_measure_loudness_of_the_level_fixtures():
    quiet = measure_loudness(GOOD / "speech_quiet.flac")
    hot = measure_loudness(GOOD / "speech_hot_stereo.m4a")
    assert isinstance(quiet, LoudnessInfo)
    assert quiet.integrated_lufs == pytest.approx(-35, abs=1.0)
    assert hot.integrated_lufs == pytest.approx(-8.5, abs=1.0)
    assert hot.true_peak_dbtp > 10  # overshoots 0 dBFS, as float exports do
    assert quiet.loudness_range is not None


# --------------------------------------------------------------------------- prepare

PREPARED_INPUTS = ["speech_quiet.flac", "speech_hot_stereo.m4a", "speech.mp3", "speech.wav",
                   "speech.ogg", "webinar.mp4", "webinar.webm", "tone_stereo.ogg"]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Each input prepared once with the defaults, with the progress it reported."""
    results = {}
    for name in PREPARED_INPUTS:
        seen: list[float] = []
        out = normalize_and_encode(GOOD / name, tmp_path_factory.mktemp("prepared"), AudioOptions(), seen.append)
        results[name] = (out, seen)
    return results


@pytest.mark.parametrize("name", PREPARED_INPUTS)
def test_prepared_audio_lands_on_target_without_clipping(prepared, name):
    out, _ = prepared[name]
    measured = measure_loudness(out.path)  # the reference: ebur128 with true peak
    assert measured.integrated_lufs == pytest.approx(-16.0, abs=1.0)
    assert measured.true_peak_dbtp <= -1.0
    # What normalize_and_encode stored for the media row agrees with the reference.
    assert out.output_loudness.integrated_lufs == pytest.approx(measured.integrated_lufs, abs=0.3)
    assert out.output_loudness.true_peak_dbtp == pytest.approx(measured.true_peak_dbtp, abs=0.3)
    # Input loudness is measured after the mono downmix (what the gain applies to): a stereo
    # file loses 3 LU when both sides are the same, up to 6 when they are unrelated.
    source = measure_loudness(GOOD / name).integrated_lufs
    drop = source - out.input_loudness.integrated_lufs
    assert drop == pytest.approx(0.0, abs=0.3) if GOOD_FILES[name][3] == 1 else 2.7 <= drop <= 6.3


@pytest.mark.parametrize("name", PREPARED_INPUTS)
def test_prepared_audio_is_mono_cbr_mp3_of_the_same_length(prepared, name):
    out, _ = prepared[name]
    assert (out.info.container, out.info.codec, out.info.sample_rate, out.info.channels) == ("mp3", "mp3", 44100, 1)
    assert out.info.bitrate == 64000
    assert (out.content_type, out.extension, out.path.suffix) == ("audio/mpeg", "mp3", ".mp3")
    mp3 = MP3(out.path)
    assert mp3.info.bitrate_mode == BitrateMode.CBR  # from the encoder's Info header
    assert mp3.info.bitrate == pytest.approx(64000, abs=100)  # mutagen divides bytes by time
    source = validate_upload(GOOD / name, filename=name, **LIMITS)
    assert out.info.duration == pytest.approx(source.duration, abs=0.1)
    assert validate_upload(out.path, filename="x", **LIMITS).duration == pytest.approx(source.duration, abs=0.1)


def test_prepare_reports_progress_from_0_to_1(prepared):
    _, seen = prepared["speech.mp3"]
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen) and len(seen) >= 3


def test_prepare_leaves_only_the_output(prepared):
    out, _ = prepared["speech.wav"]
    assert [p.name for p in out.path.parent.iterdir()] == ["prepared.mp3"]


def test_prepare_m4a_stereo_and_bitrate_options(tmp_path):
    options = AudioOptions(format="m4a", stereo=True, bitrate_kbps=96, loudness_target=-19.0, true_peak_limit=-2.0)
    out = normalize_and_encode(GOOD / "tone_stereo.ogg", tmp_path, options)
    assert (out.path.name, out.content_type) == ("prepared.m4a", "audio/mp4")
    assert (out.info.codec, out.info.channels, out.info.sample_rate) == ("aac", 2, 44100)
    assert out.info.bitrate == pytest.approx(96000, rel=0.15)
    measured = measure_loudness(out.path)
    assert measured.integrated_lufs == pytest.approx(-19.0, abs=1.0)
    assert measured.true_peak_dbtp <= -2.0


def test_prepare_refuses_non_audio_and_leaves_nothing(tmp_path):
    with pytest.raises(InvalidUpload, match="not an audio or video recording"):
        normalize_and_encode(BAD / "random_bytes.mp3", tmp_path / "out", AudioOptions())
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_options_from_settings_and_checks():
    settings = load_settings({"AUDIO_FORMAT": "m4a", "AUDIO_BITRATE": 96, "LOUDNESS_TARGET": -18,
                              "AUDIO_STEREO": "true", "TRUE_PEAK_LIMIT": -1.5}, environ={})
    assert AudioOptions.from_settings(settings) == AudioOptions(-18.0, -1.5, 96, True, "m4a")
    assert AudioOptions.from_settings(load_settings(environ={})) == AudioOptions()
    with pytest.raises(ConfigError):
        AudioOptions(format="wav")


# --------------------------------------------------------------------------- transcription input

def test_decode_pcm16k_gives_float_mono_16k():
    samples = decode_pcm16k(GOOD / "speech_hot_stereo.m4a")
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) / 16000 == pytest.approx(8.23, abs=0.1)
    assert 0.1 < float(np.abs(samples).max())


def test_decode_pcm16k_refuses_non_audio():
    with pytest.raises(InvalidUpload):
        decode_pcm16k(BAD / "image_png.mp3")
