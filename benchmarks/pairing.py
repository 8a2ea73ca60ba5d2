"""How well the notes are paired with a recording whose section boundaries are known.

Run: ``.venv/bin/python benchmarks/pairing.py [--fresh]``. Prints figures, asserts nothing.

A seven-part clinical lecture (below) is spoken part by part with espeak-ng, the parts are
joined with ffmpeg (a second of silence between them) so each part's true start is known, and
the whole is transcribed by the real pipeline (bundled tiny.en, glossary hotwords from the
notes and ``episode_vocabulary``, then glossary post-correction), as the transcribe job does.
The notes paraphrase each part in a clinician's shorthand rather than repeating it.

Figures (targets from issue 7): median absolute error of section anchors (<= 10 s), share of
sections anchored with confidence (>= 90%), chapter count and placement, topic chapters found
without the notes, and tag precision/recall against the lecture's intended tags. The
transcript is cached in the system temp directory (keyed by the script and the options) so
re-runs measure the pairing alone; ``--fresh`` re-synthesizes and re-transcribes.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.pairing import (  # noqa: E402 - the path above makes the checkout importable
    MIN_CONFIDENCE, align_notes, suggest_chapters, suggest_soundbite, suggest_tags,
    topic_chapters,
)
from pipeline.text import format_timestamp, slugify  # noqa: E402
from pipeline.transcription import TranscriptionOptions, load_glossary, transcribe  # noqa: E402
from pipeline.transcription.vocabulary import episode_vocabulary  # noqa: E402

PARTS = [
    "Good afternoon everyone. Thank you to the organisers for the invitation. This talk is about "
    "treating rosacea with light and lasers, and it reflects ten years of practice in a busy "
    "dermatology clinic. I will cover how we classify patients, the two devices we rely on, how we "
    "set them, what we combine them with, what goes wrong, and how we keep results over time.",

    "Let us start with assessment. Rosacea is not one disease. Some patients mostly flush, some have "
    "fixed redness, and some have papules and pustules. We separate these subtypes at the first "
    "visit, because light treats vessels and redness, not inflammation. We photograph every patient "
    "in the same room with the same lighting, we ask about triggers such as heat, alcohol and spicy "
    "food, and we look for ocular symptoms, which need an ophthalmologist. Visible telangiectasia on "
    "the nose and cheeks is the best predictor of a good response.",

    "Now the first device, intense pulsed light. IPL is a broad spectrum flash lamp, and a cutoff "
    "filter removes the shorter wavelengths. For redness we use a filter around five hundred and "
    "sixty nanometres, sometimes five hundred and ninety for darker skin. The IPL treats the whole "
    "face in a few minutes, and it improves background redness and fine vessels together. Patients "
    "like that there is little downtime, but it usually takes three to five IPL sessions, a month apart.",

    "The second device is the pulsed dye laser at five hundred and ninety five nanometres. The "
    "pulsed dye laser is the gold standard for discrete vessels. With long pulse durations it "
    "heats the vessel without bursting it. With short pulses it causes purpura, a bruise that lasts "
    "about ten days, which works well but keeps patients at home. We now use purpura free settings "
    "for almost everyone and accept one or two extra sessions. Dynamic cooling spray protects the "
    "epidermis with every pulse.",

    "Treatments work better together. Before the first session we start topical ivermectin for "
    "papules and pustules, because light does little for the inflammatory lesions. Brimonidine gel "
    "can calm flushing for a social event, but it may cause rebound redness, so we warn patients. "
    "Oral doxycycline at a low dose is reserved for severe papulopustular disease. Every patient "
    "uses a mineral sunscreen every day, and a gentle cleanser without fragrance.",

    "What about complications? The most common problem is swelling for two or three days, "
    "especially under the eyes. Blistering and crusting mean the fluence was too high or the "
    "cooling failed. In darker skin we see post inflammatory hyperpigmentation, so we test a small "
    "area first and lower the energy. Rarely, we see a stripe pattern from the edges of the IPL "
    "crystal. Purpura after the pulsed dye laser is expected and not a complication if the patient "
    "was warned.",

    "Finally, maintenance. Rosacea comes back. After the initial course we offer one maintenance "
    "session of IPL or pulsed dye laser every six to twelve months. We review triggers, sunscreen "
    "and the topical regimen at each visit. Most patients keep their improvement for years if they "
    "stay on this plan. Thank you, and I am happy to take questions.",
]

NOTES = """---
title: Light and lasers for rosacea
event: Vascular Lasers Day 2026
speakers: [Dr. Maria Okafor]
---
Ten years of treating rosacea with light-based devices in a dermatology clinic.

## Patient assessment
- Split subtypes: flushing, fixed redness, papulopustular; light helps redness and vessels, not inflammation.
- Standardised photographs; ask about heat, alcohol and spicy food as triggers.
- Eye symptoms go to ophthalmology; nasal and malar telangiectasia predicts a good response.

## Intense pulsed light
- Flash lamp with a cutoff filter: 560 nm for redness, 590 nm in darker skin.
- Full face in minutes; background redness and fine vessels improve together.
- Three to five sessions a month apart, little downtime.

## Pulsed dye laser
- 595 nm PDL is the gold standard for discrete vessels.
- Long pulses heat vessels without purpura; short pulses bruise for ten days.
- Purpura-free settings for most, with dynamic cooling spray.

## Combination treatment
- Topical ivermectin first for papules and pustules.
- Brimonidine for flushing before events; warn about rebound redness.
- Low-dose doxycycline for severe disease; daily mineral sunscreen.

## Complications
- Swelling for a few days, mostly periorbital.
- Blistering and crusting: fluence too high or cooling failure.
- Post-inflammatory hyperpigmentation in darker skin: test spot, lower energy; IPL crystal-edge stripes.

## Maintenance
- Relapse is the rule: a session every six to twelve months.
- Review triggers, sun protection and topicals at each visit.
"""

INTENDED_TAGS = ["rosacea", "IPL", "pulsed dye laser", "telangiectasia", "purpura", "ivermectin",
                 "brimonidine", "blistering"]
GAP_SECONDS = 1.0
CACHE = Path(tempfile.gettempdir()) / "clinex-bench-pairing"


def synthesize(parts: list[str], out: Path) -> list[float]:
    """One WAV of all parts with a short silence between them; returns each part's true start."""
    starts, files, t = [], [], 0.0
    for n, text in enumerate(parts):
        wav = out.parent / f"part{n}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True)
        files.append(wav)
        starts.append(t)
        t += _duration(wav) + GAP_SECONDS
    inputs, chain = [], ""
    for n, wav in enumerate(files):
        inputs += ["-i", str(wav)]
        chain += f"[{n}:a]aresample=16000,apad=pad_dur={GAP_SECONDS}[a{n}];"
    chain += "".join(f"[a{n}]" for n in range(len(files))) + f"concat=n={len(files)}:v=0:a=1"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex", chain,
                    "-ac", "1", "-ar", "16000", str(out)], check=True)
    return starts


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def transcript(glossary, fresh: bool) -> tuple[list[tuple[float, float, str]], list[float], float, float]:
    """(segments, true part starts, audio duration, transcription seconds), cached."""
    vocabulary = episode_vocabulary(NOTES, ["Dr. Maria Okafor"], "Vascular Lasers Day 2026", [], glossary)
    options = TranscriptionOptions(hotwords=glossary.hotwords_for(NOTES, extra=vocabulary))
    key = hashlib.sha256(json.dumps([PARTS, options.as_dict()]).encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.json"
    if cached.exists() and not fresh:
        data = json.loads(cached.read_text())
        return [tuple(s) for s in data["segments"]], data["starts"], data["duration"], data["seconds"]
    CACHE.mkdir(parents=True, exist_ok=True)
    audio = CACHE / f"{key}.wav"
    starts = synthesize(PARTS, audio)
    began = time.perf_counter()
    stream, info = transcribe(audio, options)
    fixed, _corrections = glossary.correct(list(stream), active_terms=options.hotwords)
    seconds = time.perf_counter() - began
    segments = [(round(s.start, 2), round(s.end, 2), s.text) for s in fixed]
    cached.write_text(json.dumps({"segments": segments, "starts": starts, "duration": info.duration,
                                  "seconds": seconds}))
    return segments, starts, info.duration, seconds


def main() -> None:
    glossary = load_glossary()
    segments, starts, duration, seconds = transcript(glossary, "--fresh" in sys.argv)
    print(f"lecture: {len(PARTS)} parts, {duration:.1f} s audio, {len(segments)} segments; "
          f"transcribed in {seconds:.1f} s ({duration / seconds:.1f}x real time)")

    began = time.perf_counter()
    anchors = align_notes(NOTES, segments, glossary)
    align_ms = (time.perf_counter() - began) * 1000
    sections = [a for a in anchors if a.kind == "section"]
    # Section k of the notes (0 = the untitled introduction) paraphrases part k of the lecture.
    errors, anchored = [], 0
    print("\nsection                     true      anchor    error   confidence")
    for a, truth in zip(sections, starts):
        ok = a.start is not None and a.confidence >= MIN_CONFIDENCE
        anchored += ok
        err = abs(a.start - truth) if a.start is not None else None
        if ok:
            errors.append(err)
        where = format_timestamp(a.start) if a.start is not None else "-"
        print(f"{a.text[:26]:<26}  {format_timestamp(truth):>6}  {where:>8}  "
              f"{(f'{err:5.1f} s' if err is not None else '    -'):>8}   {a.confidence:.2f}")
    print(f"\nmedian absolute anchor error: {statistics.median(errors):.1f} s (target <= 10 s); "
          f"max {max(errors):.1f} s")
    print(f"sections anchored: {anchored}/{len(sections)} = {anchored / len(sections):.0%} (target >= 90%)")
    bullets = [a for a in anchors if a.kind == "bullet"]
    placed = [a for a in bullets if a.start is not None and a.confidence >= MIN_CONFIDENCE]
    bounds = starts[1:] + [duration]
    inside = 0
    position = 0
    for k, part_start in enumerate(starts[1:], start=1):  # bullets of notes section k belong to part k
        count = NOTES.split("\n## ")[k].count("\n- ")
        for a in bullets[position:position + count]:
            if a in placed and part_start - 5 <= a.start < bounds[k]:
                inside += 1
        position += count
    print(f"bullets anchored: {len(placed)}/{len(bullets)}, inside their part: {inside}/{len(placed)}; "
          f"alignment took {align_ms:.0f} ms")

    chapters = suggest_chapters(NOTES, segments, duration, glossary)
    print(f"\nchapters from notes ({len(chapters)}): " +
          "; ".join(f"{format_timestamp(s)} {t}" for s, t, _c, _src in chapters))
    topics = topic_chapters(segments, duration, glossary)
    hits = sum(any(abs(s - t) <= 15 for s, *_ in topics) for t in starts[1:])
    print(f"topic chapters without notes ({len(topics)}), true boundaries within 15 s: {hits}/{len(starts) - 1}")
    for s, t, c, _src in topics:
        print(f"  {format_timestamp(s):>6}  {t}  ({c:.2f})")

    intended = {slugify(t) for t in INTENDED_TAGS}
    for label, extra in (("glossary tags only", 0), ("with free keyphrases", 2)):
        tags = suggest_tags(glossary, segments, NOTES, limit=8, keyphrases=extra)
        got = {slugify(n) for n, _c, _s in tags}
        right = len(got & intended)
        print(f"\ntags, {label}: precision {right}/{len(got)} = {right / max(len(got), 1):.0%}, "
              f"recall {right}/{len(intended)} = {right / len(intended):.0%}")
        print("  " + ", ".join(f"{n} [{c} {s:.2f}]" for n, c, s in tags))

    bite = suggest_soundbite(segments, NOTES, glossary)
    if bite:
        text = " ".join(t for s, e, t in segments if s >= bite[0] and e <= bite[0] + bite[1] + 0.01)
        print(f"\nsoundbite: {format_timestamp(bite[0])} for {bite[1]:.0f} s: {text[:160]}...")
    print("\nvocabulary: " + ", ".join(episode_vocabulary(NOTES, ["Dr. Maria Okafor"], "Vascular Lasers Day 2026",
                                                           [], glossary)[:25]))


if __name__ == "__main__":
    main()
