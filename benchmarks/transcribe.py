"""Transcription speed, memory and accuracy on this machine. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/transcribe.py [--minutes 10] [--real PATH] [--modes ...] [--long 120]

The clinical lecture is generated with espeak-ng from sentences dense in glossary terms, so its
reference text is exact. Each engine/mode runs in a fresh subprocess so its peak RSS is its own.
Real human speech: 30 s of a telephone conversation that the PyPI package pyannote.audio ships
as its sample (benchmarks/data/README.md), or any recording passed with --real.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: 30 s of a real telephone conversation with its reference (see benchmarks/data/README.md).
REAL_SPEECH = ROOT / "benchmarks" / "data" / "real_speech.flac"
MODES = {
    "fw-batched": dict(engine="faster-whisper"),  # the defaults: two blocks side by side, batch 2, beam 3
    "fw-b8-beam5": dict(engine="faster-whisper", batch_size=8, beam_size=5, parallel=1),  # the earlier defaults
    "fw-beam5": dict(engine="faster-whisper", batch_size=0, beam_size=5),
    "fw-greedy": dict(engine="faster-whisper", batch_size=0, beam_size=1),
    "openai-beam5": dict(engine="openai-whisper", batch_size=0, beam_size=5),
}

TEMPLATES = [
    "In {indication}, we start with {platform} at a low fluence, and we review after four weeks.",
    "Our group compared {platform} from {maker} with {platform2} in Fitzpatrick type four skin.",
    "For the glabella we use {toxin}, and we warn every patient about {complication}.",
    "When {filler} causes a vascular occlusion, we give hyaluronidase at once.",
    "{maker} makes {platform}, which we combine with {procedure} for {indication}.",
    "A superficial filler such as {filler} can show a Tyndall effect under thin skin.",
    "The main risks of {procedure} are {complication} and post-inflammatory hyperpigmentation.",
    "We treat {indication} with {platform} every month, and add {toxin} for the upper face.",
]
SLOTS = {
    "platform": ["BBL", "IPL", "Halo", "Moxi", "PicoSure", "PicoWay", "Morpheus8", "Ultherapy", "Fraxel",
                 "Thermage", "Clear + Brilliant", "CoolSculpting", "Sofwave", "VBeam", "Lumecca", "excel V"],
    "maker": ["Sciton", "Lumenis", "Candela", "Cutera", "Alma Lasers", "InMode", "Cynosure", "Fotona", "Solta Medical"],
    "toxin": ["Botox", "Dysport", "Xeomin", "Daxxify", "Jeuveau"],
    "filler": ["Juvederm Voluma", "Volbella", "Restylane Lyft", "Restylane Kysse", "RHA", "Radiesse", "Sculptra"],
    "procedure": ["microneedling", "subcision", "sclerotherapy", "dermaplaning", "a TCA peel"],
    "indication": ["melasma", "rosacea", "telangiectasia", "poikiloderma", "acne scars", "lentigines"],
    "complication": ["ptosis", "skin necrosis", "granuloma", "bruising", "blistering"],
}


def make_lecture(minutes: float, folder: Path) -> tuple[Path, str, str]:
    """(mp3, reference text, summary notes) for a generated lecture of about ``minutes``."""
    rng = random.Random(4)
    sentences, seconds = [], 0.0
    while seconds < minutes * 60:
        slots = {k: rng.choice(v) for k, v in SLOTS.items()}
        slots["platform2"] = rng.choice(SLOTS["platform"])
        sentences.append(rng.choice(TEMPLATES).format(**slots))
        seconds += len(sentences[-1].split()) * 0.42  # espeak-ng at 165 words a minute
    text = " ".join(sentences)
    wav, mp3 = folder / "lecture.wav", folder / "lecture.mp3"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-g", "4", "-w", str(wav), text], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-b:a", "48k", str(mp3)], check=True)
    # The summarizer's notes name the devices and drugs discussed, as real notes do.
    notes = "Topics: " + ", ".join(sorted({v for vs in SLOTS.values() for v in vs if v.lower() in text.lower()}))
    return mp3, text, notes


def run_mode(audio: str, mode: str, hotwords: list[str]) -> dict:
    """Transcribe in this process (called in a child); returns text, timings and peak RSS."""
    from pipeline.transcription import TranscriptionOptions, probe_duration, transcribe

    options = TranscriptionOptions(hotwords=hotwords, **MODES[mode])
    started = time.perf_counter()
    segments, info = transcribe(audio, options, cache_dir=tempfile.gettempdir())
    segments = list(segments)
    elapsed = time.perf_counter() - started
    return dict(seconds=elapsed, duration=probe_duration(audio), segments=[s.as_dict() for s in segments],
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def in_child(audio: Path, mode: str, hotwords: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(audio), mode, json.dumps(hotwords)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def wer(reference: str, hypothesis: str) -> float:
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    return jiwer.wer(norm(reference), norm(hypothesis))


def recall(terms: list[str], text: str) -> tuple[int, int]:
    """(found, total) over the distinct spoken forms of ``terms``: "Radiesse (+)" is said
    "Radiesse", so the two count once."""
    from pipeline.transcription.glossary import _phrase

    spoken = {_phrase(t) for t in terms} - {""}
    said = f" {_phrase(text)} "
    return sum(1 for t in spoken if f" {t} " in said), len(spoken)


def report(name: str, audio: Path, reference: str | None, notes: str, modes: list[str]) -> None:
    from pipeline.transcription import Segment, Word, load_glossary

    glossary = load_glossary()
    hot = glossary.hotwords_for(notes)
    terms = [t.term for t in glossary.terms_in(reference or "") if t.category != "abbreviation"]
    print(f"\n== {name}: {audio.name}; {len(terms)} distinct glossary terms in the reference")
    speeds = {}
    for mode in modes:
        for use_glossary in ([False, True] if mode.startswith("fw") else [False]):
            r = in_child(audio, mode, hot if use_glossary else [])
            segs = [Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in r["segments"]]
            text = " ".join(s.text for s in segs)
            if use_glossary:
                segs, _ = glossary.correct(segs, active_terms=hot)
                text = " ".join(s.text for s in segs)
            rtf = r["duration"] / r["seconds"]
            speeds[(mode, use_glossary)] = rtf
            line = f"{mode:13s} glossary={'yes' if use_glossary else 'no ':3s} {rtf:6.1f}x real time  peak RSS {r['peak_rss_mb']:6.0f} MB"
            if reference:
                line += f"  WER {100 * wer(reference, text):5.1f}%"
            if terms:
                found, total = recall(terms, text)
                line += f"  term recall {found}/{total} = {100 * found / total:.0f}%"
            print(line, flush=True)
    if ("fw-beam5", False) in speeds and ("openai-beam5", False) in speeds:
        print(f"faster-whisper/openai-whisper speed, beam 5, same weights: "
              f"{speeds[('fw-beam5', False)] / speeds[('openai-beam5', False)]:.1f}x")
    if ("fw-batched", False) in speeds and ("openai-beam5", False) in speeds:
        print(f"default (batched) / openai-whisper: {speeds[('fw-batched', False)] / speeds[('openai-beam5', False)]:.1f}x")


def long_form(lecture: Path, notes: str, minutes: float, folder: Path) -> None:
    """Speed and peak memory of the default mode on a long recording: the lecture, repeated."""
    from pipeline.transcription import load_glossary, probe_duration

    times = max(1, round(minutes * 60 / probe_duration(lecture)))
    listing, audio = folder / "repeat.txt", folder / "long.mp3"
    listing.write_text(f"file '{lecture}'\n" * times)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                    str(audio)], check=True)
    r = in_child(audio, "fw-batched", load_glossary().hotwords_for(notes))
    print(f"\n== long recording: the lecture {times} times, {r['duration'] / 60:.0f} min\n"
          f"fw-batched    glossary=yes {r['duration'] / r['seconds']:6.1f}x real time  peak RSS "
          f"{r['peak_rss_mb']:6.0f} MB  ({r['seconds']:.1f} s, {len(r['segments'])} segments)", flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_mode(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--real", type=Path, help="a recording of real speech, with PATH.txt as reference if any "
                                                  "(default: benchmarks/data/real_speech.flac)")
    parser.add_argument("--modes", nargs="*", default=list(MODES))
    parser.add_argument("--long", type=float, default=120.0, metavar="MINUTES",
                        help="also time the default mode on the lecture repeated to this length (0: skip)")
    args = parser.parse_args()
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]} on {__import__('os').cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        audio, reference, notes = make_lecture(args.minutes, Path(tmp))
        report(f"generated clinical lecture ({args.minutes:g} min)", audio, reference, notes, args.modes)
        if args.long:
            long_form(audio, notes, args.long, Path(tmp))
    real = args.real or REAL_SPEECH
    ref = real.with_suffix(".txt")
    report("real speech", real, ref.read_text() if ref.exists() else None, "", args.modes)


if __name__ == "__main__":
    main()
