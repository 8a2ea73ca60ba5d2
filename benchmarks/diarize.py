"""Who is speaking: diarization accuracy and cost on this machine. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/diarize.py

- The four-voice round table (tests/fixtures/roundtable: the Piper voice as moderator and three
  espeak-ng voices of different pitch and variant, 17 turns with exact reference times): voices
  found, turns, and DER with a 0.25-s collar, scored on the transcript's segments as stored (cut
  where the voice changes), once unbounded and once bounded by the notes' four speakers.
- The bundled one-speaker sample lecture: voices found with no bound from the notes.
- Real speech: the 30-s two-person telephone call in benchmarks/data (no reference turns: the
  count of voices only).
- Cost: diarization time (the better of two runs, encoder loaded, as in a busy worker) as a share of transcription
  time with the default options, and the one-off encoder load.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.transcription import TranscriptionOptions, transcribe  # noqa: E402
from pipeline.transcription.der import diarization_error_rate  # noqa: E402
from pipeline.transcription.diarize import DiarizationOptions, diarize, split_by_speaker  # noqa: E402
from pipeline.transcription.voiceprint import shared_encoder  # noqa: E402

ROUND_TABLE = ROOT / "tests" / "fixtures" / "roundtable"
CASES = [("round table (4 voices)", ROUND_TABLE / "roundtable.mp3"),
         ("sample lecture (1 voice)", ROOT / "pipeline" / "sample" / "lecture.mp3"),
         ("real phone call (2 voices)", ROOT / "benchmarks" / "data" / "real_speech.flac")]


def transcribed(path: Path):
    began = time.perf_counter()
    segments, info = transcribe(path, TranscriptionOptions())
    segments = list(segments)
    return segments, info.duration, time.perf_counter() - began


def main() -> None:
    began = time.perf_counter()
    shared_encoder().embed([np.zeros(25600, np.float32)])  # loaded and warmed, as in a worker after its first job
    print(f"voice encoder load (once per worker): {time.perf_counter() - began:.2f} s")
    reference = json.loads((ROUND_TABLE / "reference.json").read_text())
    ref_turns = [(t["start"], t["end"], t["speaker"]) for t in reference["turns"]]
    total_asr = total_diar = 0.0
    print(f"{'recording':28} {'audio s':>8} {'ASR s':>7} {'diar s':>7} {'share':>6} {'voices':>6} {'turns':>6} "
          f"{'DER':>6}")
    for name, path in CASES:
        segments, duration, asr = transcribed(path)
        words = [w for s in segments for w in s.words]
        turns, info = min((diarize(path, words, DiarizationOptions()) for _ in range(2)), key=lambda r: r[1].seconds)
        total_asr, total_diar = total_asr + asr, total_diar + info.seconds
        der = ""
        if path.parent == ROUND_TABLE:
            stored = split_by_speaker(segments, turns)
            der = f"{diarization_error_rate(ref_turns, [(s.start, s.end, s.voice) for s in stored]).der:.1%}"
        print(f"{name:28} {duration:8.1f} {asr:7.1f} {info.seconds:7.2f} {info.seconds / asr:6.1%} "
              f"{info.speakers:6d} {len(turns):6d} {der:>6}")
        if path.parent == ROUND_TABLE:
            bounded, binfo = diarize(path, words, DiarizationOptions(max_speakers=len(reference["speakers"])))
            scored = diarization_error_rate(ref_turns, [(s.start, s.end, s.voice)
                                                        for s in split_by_speaker(segments, bounded)])
            print(f"{'  bounded by the notes (4)':28} {'':8} {'':7} {binfo.seconds:7.2f} {'':6} {binfo.speakers:6d} "
                  f"{len(bounded):6d} {scored.der:6.1%}   (missed {scored.missed:.1f} s, false alarm "
                  f"{scored.false_alarm:.1f} s, confusion {scored.confusion:.1f} s of {scored.scored:.1f} s; "
                  f"reference turns {len(ref_turns)})")
    print(f"diarization cost, all recordings: {total_diar:.1f} s for {total_asr:.1f} s of transcription "
          f"({total_diar / total_asr:.1%})")


if __name__ == "__main__":
    main()
