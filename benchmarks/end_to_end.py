"""One lecture from upload to ready-for-review through the real job path, beside the plain way.

    .venv/bin/python benchmarks/end_to_end.py [--minutes 60] [--skip-baseline] [--scaling 10,30,60,120]

Ours: `clinex ingest` queues the jobs on the SQLite broker; two `clinex worker` processes (one job
slot each) run audio preparation and transcription side by side, then analysis. Baseline, same
file, same run: two-pass ffmpeg loudnorm + pydub MP3 export + openai-whisper on the same tiny.en
weights (beam 5). Prints wall and CPU time, peak RSS per process, real-time factors, WER and the
ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (ffmpeg), in kB, from /proc."""
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        kids = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return kids + [g for k in kids for g in _children(k)]


class PeakWatcher(threading.Thread):
    """Samples RSS of each worker tree every 0.2 s; keeps the peak of each."""

    def __init__(self, pids: list[int]):
        super().__init__(daemon=True)
        self.pids, self.peaks, self.stop = pids, {p: 0 for p in pids}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in self.pids:
                self.peaks[pid] = max(self.peaks[pid], tree_rss_kb(pid))
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks  # utime, stime, cutime, cstime


def run_ours(audio: Path, notes: Path, work: Path) -> dict:
    from webapp import ops
    from pipeline.settings import ensure_instance, load_settings

    values = {"INSTANCE_PATH": str(work / "instance"), "SECRET_KEY": "bench"}
    settings = ensure_instance(load_settings(values))
    ops.upgrade(settings)
    env = {**os.environ, **{f"CLINEX_{k}": v for k, v in values.items()}}
    workers = [subprocess.Popen([sys.executable, "-m", "webapp", "worker", "--loglevel", "WARNING"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    time.sleep(8)  # workers connect to the broker and load before the clock starts
    watcher = PeakWatcher([w.pid for w in workers])
    watcher.start()
    started = time.monotonic()
    row = ops.ingest_file(audio, notes_path=notes, settings=settings)
    while (current := ops.episode_row(ops.context(settings), row["id"]))["status"] == "processing":
        time.sleep(0.5)
    wall = time.monotonic() - started
    cpu = sum(cpu_seconds(w.pid) for w in workers)
    watcher.stop.set()
    jobs = {j["kind"]: j for j in ops.list_jobs(settings=settings) if j["episode_id"] == row["id"]}
    text = _transcript_text(settings, row["id"])
    for w in workers:
        w.terminate()
        w.wait(30)
    steps = {k: (j["finished_at"] - j["started_at"]).total_seconds() for k, j in jobs.items()}
    return {"status": current["status"], "reason": current["failure_reason"], "wall": wall, "cpu": cpu,
            "peaks_mb": [p / 1024 for p in watcher.peaks.values()], "steps": steps, "text": text}


def _transcript_text(settings, episode_id: int) -> str:
    from webapp import ops
    from pipeline.models import Episode

    with ops.context(settings).sessions() as session:
        transcript = session.get(Episode, episode_id).transcript
        return transcript.text if transcript else ""


def run_baseline(audio: Path, work: Path) -> dict:
    """The plain way, in a child process so its CPU and peak RSS are its own."""
    code = f"""
import json, resource, subprocess, time, whisper
from pydub import AudioSegment
from pipeline.transcription import bundled_model_path, convert_ct2_to_openai_whisper
t0 = time.monotonic()
first = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", {str(audio)!r}, "-af",
    "loudnorm=I=-16:TP=-1:LRA=11:print_format=json", "-f", "null", "-"], capture_output=True, text=True).stderr
m = json.loads(first[first.rindex("{{"):first.rindex("}}") + 1])
f = f"loudnorm=I=-16:TP=-1:LRA=11:measured_I={{m['input_i']}}:measured_TP={{m['input_tp']}}:measured_LRA={{m['input_lra']}}:measured_thresh={{m['input_thresh']}}:offset={{m['target_offset']}}:linear=true"
subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", {str(audio)!r}, "-af", f, "-ar", "44100", {str(work / 'norm.wav')!r}], check=True)
AudioSegment.from_wav({str(work / 'norm.wav')!r}).set_channels(1).export({str(work / 'base.mp3')!r}, format="mp3", bitrate="64k")
t_audio = time.monotonic() - t0
model = whisper.load_model(str(convert_ct2_to_openai_whisper(bundled_model_path(), cache_dir={str(work)!r})), device="cpu")
result = model.transcribe({str(audio)!r}, language="en", beam_size=5, fp16=False)
wall = time.monotonic() - t0
self, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": wall, "audio": t_audio, "cpu": self.ru_utime + self.ru_stime + kids.ru_utime + kids.ru_stime,
                  "peak_mb": max(self.ru_maxrss, kids.ru_maxrss) / 1024, "text": result["text"]}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def wer(reference: str, hypothesis: str) -> float:
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    norm = EnglishTextNormalizer()
    return jiwer.wer(norm(reference), norm(hypothesis))


def lecture(minutes: float, work: Path) -> tuple[Path, Path, str, float]:
    """(audio, notes, reference text, duration in seconds) of a generated lecture."""
    from transcribe import make_lecture

    audio, reference, notes_text = make_lecture(minutes, work)
    notes = work / "notes.md"
    notes.write_text(f"---\ntitle: Benchmark lecture\n---\n{notes_text}\n")
    seconds = float(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                                    str(audio)], capture_output=True, text=True, check=True).stdout)
    return audio, notes, reference, seconds


def scaling(lengths: list[float]) -> None:
    """Ours on several lengths: the table, docs/scaling.png, and the table inside docs/scaling.md."""
    rows = []
    for minutes in lengths:
        with tempfile.TemporaryDirectory(prefix="clinex-e2e-") as tmp:
            audio, notes, reference, seconds = lecture(minutes, Path(tmp))
            ours = run_ours(audio, notes, Path(tmp))
        rows.append({"minutes": seconds / 60, "wall": ours["wall"], "cpu": ours["cpu"], "peak": max(ours["peaks_mb"]),
                     "status": ours["status"], "wer": wer(reference, ours["text"])})
        r = rows[-1]
        print(f"{r['minutes']:6.1f} min  {r['wall']:7.1f} s wall  {seconds / r['wall']:5.1f}x real time  "
              f"{r['cpu']:6.0f} s CPU  peak RSS {r['peak']:5.0f} MB  WER {r['wer']:.1%}  {r['status']}", flush=True)
    table = ["| input | wall | x real time | CPU | peak RSS (largest worker) | WER | end state |",
             "|---|---|---|---|---|---|---|"]
    table += [f"| {r['minutes']:.0f} min | {r['wall']:.0f} s | {r['minutes'] * 60 / r['wall']:.1f}x | {r['cpu']:.0f} s "
              f"| {r['peak']:.0f} MB | {r['wer']:.1%} | {r['status']} |" for r in rows]
    load = os.getloadavg()[0]
    table.append(f"\nMeasured by `benchmarks/end_to_end.py --scaling` on {os.cpu_count()} cores "
                 f"(load average {load:.1f} at the end), {time.strftime('%Y-%m-%d')}.")
    docs = ROOT / "docs"
    _plot(rows, docs / "scaling.png")
    page = docs / "scaling.md"
    if page.exists():
        text = page.read_text()
        start, end = "<!-- scaling-table:start -->", "<!-- scaling-table:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            page.write_text(head + start + "\n" + "\n".join(table) + "\n" + end + rest.split(end, 1)[1])
    print("\n".join(table))


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [r["minutes"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(minutes, [r["wall"] for r in rows], "o-", label="wall")
    left.plot(minutes, [r["cpu"] for r in rows], "s--", label="CPU (both workers)")
    left.set(xlabel="recording (minutes)", ylabel="seconds", title="Upload to review: time")
    left.legend()
    right.plot(minutes, [r["peak"] for r in rows], "o-", color="tab:red")
    right.set(xlabel="recording (minutes)", ylabel="MB", title="Peak RSS of the largest worker", ylim=(0, None))
    for axis in (left, right):
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--scaling", help="comma-separated lengths in minutes, e.g. 10,30,60,120: "
                                          "ours only, as a table, docs/scaling.png and docs/scaling.md")
    args = parser.parse_args()
    if args.scaling:
        scaling([float(x) for x in args.scaling.split(",")])
        return
    with tempfile.TemporaryDirectory(prefix="clinex-e2e-") as tmp:
        work = Path(tmp)
        audio, notes, reference, seconds = lecture(args.minutes, work)
        print(f"input: {seconds / 60:.1f} min generated lecture, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        ours = run_ours(audio, notes, work)
        print(f"ours: {ours['status']} in {ours['wall']:.1f} s wall ({seconds / ours['wall']:.1f}x real time), "
              f"{ours['cpu']:.0f} s CPU, peak RSS per worker {', '.join(f'{p:.0f} MB' for p in ours['peaks_mb'])}")
        for step, took in sorted(ours["steps"].items()):
            print(f"  {step:<14} {took:7.1f} s  ({seconds / max(took, 1e-6):.1f}x real time)")
        if ours["reason"]:
            print(f"  failure: {ours['reason']}")
        print(f"  WER {wer(reference, ours['text']):.1%}")
        if args.skip_baseline:
            return
        base = run_baseline(audio, work)
        print(f"baseline: {base['wall']:.1f} s wall ({seconds / base['wall']:.1f}x real time; audio {base['audio']:.1f} s), "
              f"{base['cpu']:.0f} s CPU, peak RSS {base['peak_mb']:.0f} MB, WER {wer(reference, base['text']):.1%}")
        print(f"speed-up: {base['wall'] / ours['wall']:.2f}x")


if __name__ == "__main__":
    main()
