"""Benchmark: normalize_and_encode on a long speech recording, against a plain two-pass loudnorm.

    .venv/bin/python benchmarks/audio.py            # 60 minutes (the README figures)
    .venv/bin/python benchmarks/audio.py --minutes 5

Generates a speech recording with espeak-ng (varied text and voices, looped with ffmpeg to the
length asked), then in the same run times normalize_and_encode and the baseline, each with wall time,
CPU time including child processes, and peak memory. Prints figures and ratios; asserts nothing.
Targets on the 2-core machine for 60 minutes: <= 40 s wall, peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.audio import AudioOptions, measure_loudness, normalize_and_encode, validate_upload  # noqa: E402
from pipeline.audio.ffmpeg import ffmpeg_binary  # noqa: E402

PARAGRAPHS = [
    ("en-us", 160, "Good morning, colleagues. Today we review hyaluronic acid fillers in the mid face, "
     "the tear trough and the lips, starting with the superficial and deep fat compartments."),
    ("en-gb", 150, "Vascular occlusion remains the complication we fear most. Keep hyaluronidase in the "
     "room, know the protocol by heart, and document capillary refill after every bolus."),
    ("en-us+f3", 170, "Intense pulsed light for rosacea and photodamage: we compared filters of five hundred "
     "and sixty and five hundred and ninety nanometres over three sessions a month apart."),
    ("en-gb+m3", 145, "Botulinum toxin for the glabella: twenty units in five points. Watch the frontalis, "
     "and ask about previous brow ptosis before you inject."),
    ("en-us+f2", 165, "Questions from the audience covered skin boosters, poly-L-lactic acid, and combining "
     "radiofrequency microneedling with fillers in the same session. Thank you all for joining."),
]


@dataclass
class Usage:
    wall: float
    cpu: float
    peak_rss_mb: float


class TreeMemory:
    """Samples the summed RSS of this process and all its descendants (ffmpeg runs side by side,
    so the largest single child understates what the machine must hold)."""

    def __init__(self, period: float = 0.1):
        self.period, self.peak, self._stop = period, 0, threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(self.period):
            self.peak = max(self.peak, _tree_rss(os.getpid()))


def _tree_rss(root: int) -> int:
    """RSS of ``root`` and its descendants, following /proc/<pid>/task/<tid>/children (cheap:
    no scan of every process, so the sampler does not load the machine it measures)."""
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        try:
            fields = Path(f"/proc/{pid}/statm").read_text().split()
            total += int(fields[1]) * os.sysconf("SC_PAGE_SIZE")
            for tid in os.listdir(f"/proc/{pid}/task"):
                frontier.extend(int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def measured(work) -> tuple[object, Usage]:
    """Run ``work()`` and return its result with wall time, CPU (self + children) and peak RSS."""
    before_self, before_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with TreeMemory() as memory:
        result = work()
    wall = time.perf_counter() - start
    after_self, after_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(a, f) - getattr(b, f) for a, b in ((after_self, before_self), (after_children, before_children))
              for f in ("ru_utime", "ru_stime"))
    return result, Usage(wall, cpu, memory.peak / 1024**2)


def make_recording(folder: Path, minutes: float, rate: int) -> Path:
    """espeak-ng paragraphs in several voices, joined, then looped to ``minutes``."""
    parts = []
    for index, (voice, speed, text) in enumerate(PARAGRAPHS):
        part = folder / f"part{index}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(part), text], check=True)
        parts.append(part)
    listing = folder / "parts.txt"
    listing.write_text("".join(f"file '{p}'\nfile '{folder / 'pause.wav'}'\n" for p in parts))
    ff = ffmpeg_binary()
    quiet = [ff, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*quiet, "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "0.8", "-c:a", "pcm_s16le",
                    str(folder / "pause.wav")], check=True)
    base = folder / "base.wav"
    subprocess.run([*quiet, "-f", "concat", "-safe", "0", "-i", str(listing), "-ar", "22050", "-ac", "1",
                    "-c:a", "pcm_s16le", str(base)], check=True)
    long = folder / f"speech_{minutes:g}min_{rate}.wav"
    subprocess.run([*quiet, "-stream_loop", "-1", "-i", str(base), "-t", str(minutes * 60), "-ar", str(rate),
                    "-ac", "1", "-c:a", "pcm_s16le", str(long)], check=True)
    return long


def loudnorm_two_pass(src: Path, out: Path, options: AudioOptions) -> None:
    """The baseline: ffmpeg loudnorm, measured then linear, encoded to the same MP3."""
    ff = ffmpeg_binary()
    target = f"I={options.loudness_target}:TP={options.true_peak_limit}:LRA=11"
    first = subprocess.run([ff, "-nostdin", "-hide_banner", "-i", str(src), "-af",
                            f"loudnorm={target}:print_format=json", "-f", "null", "-"],
                           capture_output=True, text=True, check=True)
    stats = json.loads(re.search(r"\{[^{}]*\}\s*$", first.stderr).group(0))
    second = (f"loudnorm={target}:measured_I={stats['input_i']}:measured_TP={stats['input_tp']}:"
              f"measured_LRA={stats['input_lra']}:measured_thresh={stats['input_thresh']}:"
              f"offset={stats['target_offset']}:linear=true,aresample=44100")
    subprocess.run([ff, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), "-af", second,
                    "-ac", "1", "-c:a", "libmp3lame", "-b:a", f"{options.bitrate_kbps}k", str(out)], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=22050, choices=[22050, 44100])
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    options = AudioOptions()
    print(f"ffmpeg: {ffmpeg_binary()}  cores: {os.cpu_count()}  load before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="clinex-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        src = make_recording(folder, args.minutes, args.rate)
        print(f"input: {args.minutes:g} min, {args.rate} Hz mono WAV, {src.stat().st_size / 1024**2:.0f} MB "
              f"(made in {time.perf_counter() - started:.1f} s)")

        info, valid = measured(lambda: validate_upload(src, filename=src.name, max_bytes=2 * 1024**3, max_duration=3 * 3600))
        report("validate_upload", valid, args.minutes, f"decoded {info.duration:.1f} s")

        prepared, ours = measured(lambda: normalize_and_encode(src, folder / "ours", options))
        ref = measure_loudness(prepared.path)
        report("normalize_and_encode", ours, args.minutes,
               f"output {ref.integrated_lufs:.1f} LUFS, true peak {ref.true_peak_dbtp:.1f} dBTP "
               f"(input {prepared.input_loudness.integrated_lufs:.1f} LUFS, gain {prepared.gain_db:+.1f} dB)")
        if args.skip_baseline:
            return
        _, base = measured(lambda: loudnorm_two_pass(src, folder / "loudnorm.mp3", options))
        ref = measure_loudness(folder / "loudnorm.mp3")
        report("two-pass loudnorm", base, args.minutes,
               f"output {ref.integrated_lufs:.1f} LUFS, true peak {ref.true_peak_dbtp:.1f} dBTP")
        print(f"ratio loudnorm/normalize_and_encode: wall {base.wall / ours.wall:.2f}x, CPU {base.cpu / ours.cpu:.2f}x")
    print(f"load after: {os.getloadavg()[0]:.1f}")


def report(name: str, usage: Usage, minutes: float, extra: str) -> None:
    print(f"{name:18s} wall {usage.wall:6.1f} s ({minutes * 60 / usage.wall:5.0f}x real time)  "
          f"CPU {usage.cpu:6.1f} s  peak RSS {usage.peak_rss_mb:5.0f} MB  {extra}")


if __name__ == "__main__":
    main()
