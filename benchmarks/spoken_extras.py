"""Spoken extras on the sample lecture: does every chapter and "listen at" time still land on the
same words once a spoken introduction goes before the recording? Prints figures; asserts nothing.

    .venv/bin/python benchmarks/spoken_extras.py

The bundled lecture and its notes run through the real flow to review; then the editor's choice
(introduction and summary read aloud) runs the ``spoken_extras`` step. The final listening file
is transcribed again with the default engine, and for each chapter and anchor of the recording
the words it lands on in the stored (moved) transcript are looked for in that new transcription:
the difference between where they are stored and where Whisper hears them in the final file is
the shifting error (target: within 0.3 s for every one). For scale, the same comparison between
the original transcript and a fresh transcription of the recording alone is printed too: that
part of the difference is Whisper's own timing noise, not the shift.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOW = 3.0  # seconds around the stored time searched for the same words


def words_of(segments) -> list[tuple[float, str]]:
    out = []
    for seg in segments:
        for w in seg.words:
            start, word = (w["start"], w["word"]) if isinstance(w, dict) else (w.start, w.word)
            token = re.sub(r"[^a-z0-9]", "", word.lower())
            if token:
                out.append((float(start), token))
    return out


def landing_words(stored: list[tuple[float, str]], t: float, n: int = 3) -> list[tuple[float, str]]:
    """The first ``n`` stored words at or after ``t`` (what a chapter or anchor at ``t`` lands on)."""
    after = [i for i, (start, _w) in enumerate(stored) if start >= t - 0.05]
    return stored[after[0]:after[0] + n] if after else []


def find_again(heard: list[tuple[float, str]], wanted: list[tuple[float, str]]) -> float | None:
    """Where the run of ``wanted`` words starts in ``heard`` near the stored time (None: not heard)."""
    tokens = [w for _t, w in wanted]
    best = None
    for i in range(len(heard) - len(tokens) + 1):
        if [w for _t, w in heard[i:i + len(tokens)]] == tokens and abs(heard[i][0] - wanted[0][0]) <= WINDOW:
            if best is None or abs(heard[i][0] - wanted[0][0]) < abs(best - wanted[0][0]):
                best = heard[i][0]
    return best


def errors(stored, heard, times) -> tuple[list[float], int]:
    found, missing = [], 0
    for t in times:
        wanted = landing_words(stored, t)
        at = find_again(heard, wanted) if wanted else None
        if at is None:
            missing += 1
        else:
            found.append(at - wanted[0][0])
    return found, missing


def pcm(path, start: float, seconds: float):
    """16 kHz mono samples of ``path`` from ``start`` (ffmpeg decodes)."""
    import numpy as np

    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{max(0.0, start):.3f}", "-t", f"{seconds:.3f}", "-i", str(path),
                          "-ac", "1", "-ar", "16000", "-f", "s16le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32)


def audio_errors(plain, final, times, shift: float) -> list[float]:
    """For each time of the final file: where the recording's 2 s from that moment really are in
    the final file (normalised cross-correlation over +-0.5 s), minus where the times say."""
    import numpy as np

    out = []
    for t in times:
        needle = pcm(plain, t - shift, 2.0)
        hay = pcm(final, t - 0.5, 3.0)
        if needle.size < 16000 or hay.size <= needle.size or not needle.any():
            continue
        scores = np.correlate(hay, needle, mode="valid")
        energy = np.sqrt(np.convolve(hay ** 2, np.ones(needle.size), mode="valid")) + 1e-9
        out.append(float(np.argmax(scores / energy)) / 16000 - 0.5)
    return out


def describe(name: str, diffs: list[float], missing: int) -> None:
    if not diffs:
        print(f"{name}: nothing matched ({missing} not heard again)")
        return
    absolute = [abs(d) for d in diffs]
    print(f"{name}: {len(diffs)} matched, {missing} not heard again; |error| median {statistics.median(absolute):.3f} s, "
          f"max {max(absolute):.3f} s, mean signed {statistics.fmean(diffs):+.3f} s, "
          f"within 0.3 s {sum(a <= 0.3 for a in absolute)}/{len(absolute)}")


def main() -> None:
    from pipeline.ingest import ingest_recording
    from pipeline.jobs import InlineDispatcher, job_context
    from pipeline.migrate import upgrade_database
    from pipeline.models import Anchor, ChapterSource, Episode, MediaKind
    from pipeline.notes import EpisodeMeta, parse_notes
    from pipeline.review import choose_extras
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.storage import local_copy
    from pipeline.transcription import TranscriptionOptions, transcribe

    sample = ROOT / "pipeline" / "sample"
    with tempfile.TemporaryDirectory(prefix="clinex-bench-") as tmp:
        settings = ensure_instance(load_settings({"INSTANCE_PATH": tmp, "BASE_URL": "http://bench.test"}))
        upgrade_database(settings.DATABASE_URL)
        ctx = job_context(settings)
        with ctx.sessions() as session:
            result = ingest_recording(session, ctx.storage, settings, sample / "lecture.mp3", filename="lecture.mp3",
                                      meta=EpisodeMeta(), notes=parse_notes((sample / "lecture.md").read_text()))
        InlineDispatcher(ctx).dispatch(result.job_ids)
        with ctx.sessions() as session:
            ep = session.get(Episode, result.episode_id)
            plain_key = ep.media_of(MediaKind.audio).storage_key
            before_words = words_of(ep.transcript.segments)
            before_times = [c.start for c in ep.chapters] + [a.start for a in session.query(Anchor).filter_by(
                episode_id=ep.id) if a.start is not None]

        started, cpu = time.perf_counter(), time.process_time()
        InlineDispatcher(ctx).dispatch(choose_extras(ctx, result.episode_id, None, intro=True, summary=True))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu

        with ctx.sessions() as session:
            ep = session.get(Episode, result.episode_id)
            assert ep.status == "in_review", ep.failure_reason
            shift, summary_start = ep.audio_notes.intro_seconds, ep.audio_notes.summary_start
            stored = words_of(ep.transcript.segments)
            times = [c.start for c in ep.chapters if c.source != ChapterSource.voice.value]
            times += [a.start for a in session.query(Anchor).filter_by(episode_id=ep.id) if a.start is not None]
            final_key, duration = ep.media_of(MediaKind.audio).storage_key, ep.duration
        options = TranscriptionOptions.from_settings(settings)
        with local_copy(ctx.storage, final_key) as final, local_copy(ctx.storage, plain_key) as plain:
            heard_final = words_of(transcribe(final, options)[0])
            heard_plain = words_of(transcribe(plain, options)[0])
            by_audio = audio_errors(plain, final, times, shift)

    print(f"spoken extras on the sample lecture: introduction {shift:.2f} s, summary from {summary_start:.1f} s, "
          f"listening file {duration:.1f} s; step wall {wall:.1f} s, CPU in this process {cpu:.1f} s")
    print(f"{len(times)} chapter and anchor times of the recording")
    describe("the recording's audio found in the final file at each time (cross-correlation)", by_audio, 0)
    describe("words transcribed from the final file vs stored times", *errors(stored, heard_final, times))
    describe("for scale: the recording alone vs its own transcript", *errors(before_words, heard_plain, before_times))


if __name__ == "__main__":
    main()
