"""Audio notes on this machine: a 1,000-word summary voiced, levelled, encoded and in review;
the voice's intelligibility through the project's own Whisper engine; clinical and brand terms
recovered with and without the pronunciation lexicon. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/tts.py [--notes benchmarks/data/tts_notes.md]
    .venv/bin/python benchmarks/tts.py --threads    # Piper synthesis alone: one run at a time or side by side

The notes (benchmarks/data/tts_notes.md, written for this benchmark) are ingested as a notes-only
episode and run through the real flow (voice -> prepare_audio -> analyze) in this process; the
listening file is then transcribed with the default engine and settings (glossary hotwords and
corrections as in production) and compared with the spoken text (Whisper's English normalizer).
The same notes are voiced once more with an empty lexicon for the "without" term recall.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTES = ROOT / "benchmarks" / "data" / "tts_notes.md"
TERMS = ["Sciton", "Juvederm", "Restylane", "Radiesse", "Lumenis", "Thermage", "Fraxel", "Cutera", "melasma",
         "telangiectasia", "Sculptra", "Candela", "Cynosure", "Ultherapy", "erythema", "hyaluronidase", "IPL",
         "Nd:YAG", "rosacea", "purpura", "subcision", "cryolipolysis", "Fitzpatrick", "tranexamic acid",
         "hyaluronic acid", "calcium hydroxylapatite", "microneedling", "alexandrite", "radiofrequency"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wer(reference: str, hypothesis: str) -> float:
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    def norm(text: str) -> str:
        # Whisper's normalizer drops words in brackets (meant for "(laughs)"); here they were spoken.
        return EnglishTextNormalizer()(re.sub(r"[()\[\]]", " ", text))

    return jiwer.wer(norm(reference), norm(hypothesis))


def occurrences(term: str, text: str) -> int:
    """Runs of up to four words that spell the term (spacing and hyphens are not pronunciation:
    "radio frequency" and "Nd-YAG" count)."""
    key = re.sub(r"[^a-z0-9]", "", term.lower())
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    return sum(any("".join(tokens[i:i + n]) == key for n in range(1, 5)) for i in range(len(tokens)))


def term_recall(reference: str, hypothesis: str) -> tuple[int, int, list[str]]:
    found = total = 0
    missed = []
    for term in TERMS:
        want, got = occurrences(term, reference), occurrences(term, hypothesis)
        total += want
        found += min(want, got)
        if got < want:
            missed.append(f"{term} {got}/{want}")
    return found, total, missed


def transcribe_back(settings, audio: Path, notes: str, unchecked: list | None = None) -> str:
    """The audio transcribed and corrected as the transcribe step does; ``unchecked`` gets the
    text before the speech model judged the corrections (for the same audio, with and without)."""
    from pipeline.transcription import TranscriptionOptions, load_glossary, transcribe
    from pipeline.transcription.acoustic import check_for
    from pipeline.transcription.engines import hotwords_prompt

    glossary = load_glossary()
    options = TranscriptionOptions.from_settings(settings, hotwords=glossary.hotwords_for(notes))
    segments = list(transcribe(audio, options)[0])
    corrected, corrections = glossary.correct(segments, active_terms=options.hotwords)
    if unchecked is not None:
        unchecked.append(" ".join(s.text.strip() for s in corrected))
    if settings.CORRECTION_CHECK:  # as the transcribe step does: rewrites the audio contradicts are undone
        check = check_for(audio, options, hotwords_prompt(options.hotwords))
        corrected, _ = check.confirm(segments, corrected, corrections)
    return " ".join(s.text.strip() for s in corrected)


def voiced_to_review(ctx, notes_text: str) -> dict:
    from pipeline.ingest import ingest_notes_only
    from pipeline.jobs import InlineDispatcher
    from pipeline.models import Episode, MediaKind
    from pipeline.notes import EpisodeMeta

    started = time.perf_counter()
    result = ingest_notes_only(ctx, meta=EpisodeMeta(), notes_text=notes_text)
    InlineDispatcher(ctx).dispatch(result.job_ids)
    wall = time.perf_counter() - started
    with ctx.sessions() as session:
        ep = session.get(Episode, result.episode_id)
        audio = ep.media_of(MediaKind.audio)
        steps = {j.kind: (j.finished_at - j.started_at).total_seconds() for j in ep.jobs}
        return {"wall": wall, "status": ep.status, "reason": ep.failure_reason, "duration": audio.duration,
                "lufs": audio.loudness_lufs, "peak": audio.true_peak_dbtp, "key": audio.storage_key, "steps": steps,
                "spoken": " ".join(s.text for s in ep.transcript.segments), "uuid": ep.uuid}


def voiced_without_lexicon(ctx, notes_text: str, folder: Path) -> tuple[Path, str]:
    from pipeline.notes import parse_notes
    from pipeline.voice import Lexicon, load_voice, script_for
    from pipeline.voice.compose import wav_bytes
    from pipeline.voice.speech_text import Credits
    from pipeline.voicing import voice_script

    notes = parse_notes(notes_text)
    script = script_for(notes.markdown, Credits("Clinical Exchange", notes.meta.title, None, notes.meta.source),
                        Lexicon([]))
    voiced = voice_script(ctx.storage, "benchmark-without-lexicon", script, load_voice(""), lambda _f: None)
    path = folder / "without.wav"
    path.write_bytes(wav_bytes(voiced.pcm, voiced.sample_rate))
    return path, " ".join(s.text for s in voiced.sentences)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def synthesis_alone(notes_text: str, workers: int) -> None:
    """The notes voiced by ``voice_script`` (the voice step's own loop, parts stored in a temporary
    folder) with ``workers`` threads: 1 is one run at a time on onnxruntime's own threads, as the
    voice ran before; more is that many runs side by side, a core each, within TEXT_IN_FLIGHT."""
    from pipeline.notes import parse_notes
    from pipeline.storage import LocalStorage
    from pipeline.voice import PiperTTS, bundled_lexicon, script_for
    from pipeline.voice.engine import DEFAULT_VOICE, voice_files
    from pipeline.voice.speech_text import Credits
    from pipeline.voicing import TEXT_IN_FLIGHT, voice_script

    notes = parse_notes(notes_text)
    script = script_for(notes.markdown, Credits("Clinical Exchange", notes.meta.title, None, notes.meta.source),
                        bundled_lexicon())
    before = rss_mb()
    voice = PiperTTS(*voice_files(DEFAULT_VOICE), DEFAULT_VOICE, workers=workers)
    voice.synthesize("A sentence to warm the session up.")
    cpu, started = cpu_seconds(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clinex-tts-") as tmp:
        voiced = voice_script(LocalStorage(tmp), "threads", script, voice, lambda _f: None)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    how = ("one run at a time, onnxruntime's threads" if workers == 1
           else f"{workers} runs side by side, a core each, <= {TEXT_IN_FLIGHT} characters in flight")
    print(f"   {how}: {len(voiced.sentences)} sentences, {voiced.duration:.0f} s of audio; wall {wall:.1f} s "
          f"({voiced.duration / wall:.0f}x real time), CPU {cpu:.1f} s ({voiced.duration / cpu:.0f}x per CPU "
          f"second); peak RSS +{rss_mb() - before:.0f} MB (voice loaded and speaking); "
          f"load average {os.getloadavg()[0]:.1f}")


def compare_threads(notes: Path) -> None:
    """Each way in its own process, so each peak RSS is its own."""
    from pipeline.voice.engine import usable_cores

    print(f"Piper synthesis alone ({usable_cores()} usable cores):")
    for workers in sorted({1, usable_cores()}):
        subprocess.run([sys.executable, __file__, "--notes", str(notes), "--synthesis-workers", str(workers)],
                       check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=NOTES)
    parser.add_argument("--noise", type=float, nargs=2, metavar=("SCALE", "W"),
                        help="Piper's noise_scale and noise_w_scale instead of the voice's own")
    parser.add_argument("--threads", action="store_true",
                        help="time Piper synthesis alone, one run at a time and side by side (no flow, no Whisper)")
    parser.add_argument("--synthesis-workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads or args.synthesis_workers:
        if args.synthesis_workers:
            synthesis_alone(args.notes.read_text(encoding="utf-8"), args.synthesis_workers)
        else:
            compare_threads(args.notes)
        return
    if args.noise:
        from pipeline.voice import engine

        engine.NOISE_SCALE, engine.NOISE_W_SCALE = args.noise
        print(f"noise_scale {args.noise[0]}, noise_w_scale {args.noise[1]}")
    from pipeline.jobs import job_context
    from pipeline.migrate import upgrade_database
    from pipeline.settings import ensure_instance, load_settings
    from pipeline.storage import local_copy
    from pipeline.voice import load_voice
    from pipeline.voicing import TEXT_IN_FLIGHT

    notes_text = args.notes.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="clinex-tts-") as tmp:
        settings = ensure_instance(load_settings({"INSTANCE_PATH": f"{tmp}/instance", "SECRET_KEY": "bench"}))
        upgrade_database(settings.DATABASE_URL)
        ctx = job_context(settings)
        run = voiced_to_review(ctx, notes_text)
        words = len(run["spoken"].split())
        print(f"1. notes -> in review: {run['status']} {run['reason'] or ''}")
        print(f"   {words} spoken words, {run['duration']:.0f} s of audio; wall {run['wall']:.1f} s "
              f"({run['duration'] / run['wall']:.1f}x real time); steps "
              + ", ".join(f"{k} {v:.1f} s" for k, v in run["steps"].items()))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime + sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
        voice = load_voice(settings.TTS_VOICE)
        share = {k: f"{100 * v / run['wall']:.0f}%" for k, v in run["steps"].items()}
        print(f"   voice: {voice.workers} runs side by side (a core each, <= {TEXT_IN_FLIGHT} characters in flight); "
              "share of the wall time " + ", ".join(f"{k} {v}" for k, v in share.items()))
        print(f"   CPU {cpu:.1f} s over both cores (this process and its ffmpeg children): on a quiet 2-core "
              f"machine the wall time is about half of that; load average now {os.getloadavg()[0]:.1f}")
        print(f"   peak RSS {rss_mb():.0f} MB (voice, ffmpeg pipes and the flow; before Whisper is loaded); "
              f"output {run['lufs']:.1f} LUFS / {run['peak']:.1f} dBTP   targets <= 20 s, <= 500 MB")
        with local_copy(ctx.storage, run["key"]) as mp3:
            unchecked = []
            heard = transcribe_back(settings, Path(mp3), notes_text, unchecked)
        print(f"2. round trip (tiny.en, default settings): WER {100 * wer(run['spoken'], heard):.1f}% "
              f"over {words} words   target <= 5%")
        print(f"   the same audio without the correction check: WER {100 * wer(run['spoken'], unchecked[0]):.1f}%, "
              f"term recall {100 * term_recall(run['spoken'], unchecked[0])[0] / max(1, term_recall(run['spoken'], unchecked[0])[1]):.0f}%")
        found, total, missed = term_recall(run["spoken"], heard)
        without_wav, without_text = voiced_without_lexicon(ctx, notes_text, Path(tmp))
        heard_without = transcribe_back(settings, without_wav, notes_text)
        found0, total0, missed0 = term_recall(without_text, heard_without)
        print(f"3. term recall: without lexicon {100 * found0 / total0:.0f}% ({found0}/{total0}), "
              f"with {100 * found / total:.0f}% ({found}/{total})   target >= 95% with")
        print(f"   WER without the lexicon {100 * wer(without_text, heard_without):.1f}%")
        print(f"   missed with lexicon: {', '.join(missed) or 'none'}")
        print(f"   missed without: {', '.join(missed0) or 'none'}")
        print("4. intro shift: see benchmarks/spoken_extras.py (a recorded episode with a spoken introduction)")


if __name__ == "__main__":
    main()
