"""Long-form transcription as a lazy, resumable stream of segments.

The recording is decoded once, front to back, by an ffmpeg pipe and cut into blocks at the
quietest 100 ms near every multiple of ``block_seconds``. Where a cut falls depends only on the
audio around it, so every run, first or retry, sees the same blocks, and each block is
transcribed the same way. That gives two things:

- memory stays bounded by one block (or the few transcribed side by side, ``options.parallel``),
  however long the recording;
- resuming is exact: a retry with ``start_at`` (the end of the last saved segment) skips whole
  blocks before it, re-runs the block holding it, and yields only what comes after — the very
  segments an uninterrupted run would have produced.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from pipeline.errors import TranscriptionError

from .engines import get_engine, plan
from .guards import Timeline, break_loops, is_hallucination
from .types import Segment, TranscriptionInfo, TranscriptionOptions

SAMPLE_RATE = 16000
FRAME = SAMPLE_RATE // 10  # 100 ms: the resolution of block cuts
SEARCH_SECONDS = 10.0  # how far from the nominal boundary a cut may move to find a pause
READ_BYTES = 1 << 20
MAX_CUE_SECONDS = 12.0  # long batched chunks are split into cues no longer than this, at pauses


def ffmpeg_binary() -> str:
    """The system ffmpeg, else the one imageio-ffmpeg ships; TranscriptionError if neither."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise TranscriptionError("ffmpeg is not installed, so the audio cannot be decoded.") from exc


def probe_duration(path: str | os.PathLike) -> float:
    """Duration in seconds from the container; TranscriptionError if it is not readable audio."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / av.time_base
            stream = container.streams.audio[0]
            return float(stream.duration * stream.time_base)
    except (av.FFmpegError, IndexError, TypeError, OSError) as exc:
        raise TranscriptionError(f"Cannot read the audio in {Path(path).name}: {exc}") from exc


def _quietest_cut(samples: np.ndarray, lo: int, hi: int) -> int:
    """Index of the middle of the quietest 100 ms frame in samples[lo:hi]."""
    frames = samples[lo:hi - (hi - lo) % FRAME].astype(np.float32).reshape(-1, FRAME)
    energy = np.einsum("ij,ij->i", frames, frames)
    return lo + int(np.argmin(energy)) * FRAME + FRAME // 2


def decode_blocks(path: str | os.PathLike, block_seconds: float) -> Iterator[tuple[float, np.ndarray]]:
    """(start seconds, float32 samples) for consecutive blocks of the whole recording.

    Raises TranscriptionError when ffmpeg cannot decode the file.
    """
    cmd = [ffmpeg_binary(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
           "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    block = int(block_seconds * SAMPLE_RATE)
    search = min(int(SEARCH_SECONDS * SAMPLE_RATE), block // 4)
    pending = np.zeros(0, dtype=np.int16)
    offset = 0  # samples of the recording before ``pending``
    boundary = block  # the next nominal cut, in samples from the start
    try:
        while chunk := proc.stdout.read(READ_BYTES):
            pending = np.concatenate([pending, np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype=np.int16)])
            while offset + len(pending) >= boundary + search:
                cut = _quietest_cut(pending, boundary - search - offset, boundary + search - offset)
                yield offset / SAMPLE_RATE, pending[:cut].astype(np.float32) / 32768.0
                pending, offset, boundary = pending[cut:], offset + cut, boundary + block
        _finish(proc, path)
        if len(pending):
            yield offset / SAMPLE_RATE, pending.astype(np.float32) / 32768.0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _finish(proc: subprocess.Popen, path) -> None:
    if proc.wait() != 0:
        reason = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown error"]
        raise TranscriptionError(f"ffmpeg could not decode {Path(path).name}: {reason[0]}")


def split_long(segment: Segment, max_seconds: float = MAX_CUE_SECONDS) -> list[Segment]:
    """A long segment cut after sentence ends (or, failing that, the widest pause) into cues."""
    if segment.end - segment.start <= max_seconds or len(segment.words) < 2:
        return [segment]
    words = segment.words
    # Cut points that leave the head between a third of and the whole of the longest cue.
    span = [i for i in range(1, len(words))
            if max_seconds / 3 <= words[i].start - words[0].start <= max_seconds] or [len(words) // 2]
    sentence = [i for i in span if words[i - 1].word.rstrip().endswith((".", "?", "!"))]
    cut = sentence[-1] if sentence else max(span, key=lambda i: words[i].start - words[i - 1].end)
    head = _from_words(segment, words[:cut])
    return [head, *split_long(_from_words(segment, words[cut:]), max_seconds)]


def _from_words(segment: Segment, words) -> Segment:
    return replace(segment, start=words[0].start, end=words[-1].end, words=list(words),
                   text="".join(w.word for w in words).strip())


def _block_segments(engine, samples: np.ndarray, offset: float, options: TranscriptionOptions
                    ) -> Iterator[Segment]:
    """The engine's segments for one block, on the recording's clock, guarded and split."""
    for seg in engine.segments(samples, options):
        seg = break_loops(seg)
        if is_hallucination(seg):
            continue
        moved = replace(seg, start=seg.start + offset, end=seg.end + offset,
                        words=[replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words])
        yield from split_long(moved)


def _transcribed_blocks(blocks: Iterator[tuple[float, np.ndarray]], engine, options: TranscriptionOptions,
                       workers: int) -> Iterator[tuple[float, float, Iterable[Segment]]]:
    """(start, end, segments) of each block, in order.

    One worker streams each segment as the engine makes it. More workers transcribe the next
    blocks in threads meanwhile (CTranslate2 releases the GIL), and hand over each block whole,
    in order; every block is transcribed exactly as it would be alone, so the text is the same.
    """
    if workers <= 1:
        for offset, samples in blocks:
            yield offset, offset + len(samples) / SAMPLE_RATE, _block_segments(engine, samples, offset, options)
        return
    pending: deque[tuple[float, float, Future]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transcribe")
    try:
        for offset, samples in blocks:
            if len(pending) >= workers:
                start, end, done = pending.popleft()
                yield start, end, done.result()
            pending.append((offset, offset + len(samples) / SAMPLE_RATE,
                            pool.submit(lambda s=samples, o=offset: list(_block_segments(engine, s, o, options)))))
        while pending:
            start, end, done = pending.popleft()
            yield start, end, done.result()
    finally:
        # A consumer that stops early (cancelled job, error) waits only for the blocks running now.
        pool.shutdown(wait=True, cancel_futures=True)


def _stream(path, options: TranscriptionOptions, start_at: float, first_index: int, engine, workers: int
            ) -> Iterator[Segment]:
    index = first_index
    # Blocks before start_at are decoded only to find the same cuts as the first run.
    blocks = ((offset, samples) for offset, samples in decode_blocks(path, options.block_seconds)
              if offset + len(samples) / SAMPLE_RATE > start_at)
    for offset, block_end, segments in _transcribed_blocks(blocks, engine, options, workers):
        timeline = Timeline(offset, block_end)
        for seg in segments:
            placed = timeline.place(seg)
            # Segments ending at or before start_at were saved by the run that was interrupted.
            if placed is None or placed.end <= start_at + 1e-3 or not placed.text.strip():
                continue
            yield replace(placed, index=index)
            index += 1


def transcribe(audio_path: str | os.PathLike, options: TranscriptionOptions, *, start_at: float = 0.0,
               first_index: int = 0, cache_dir: str | None = None
               ) -> tuple[TranscriptionInfo, Iterator[Segment]]:
    """Start transcribing; returns a lazy stream of segments and the run's facts, in the order
    faster-whisper's ``WhisperModel.transcribe`` gives them.

    ``start_at`` resumes an interrupted run: pass the end of the last saved segment and
    ``first_index`` the number of segments saved, and the stream yields exactly the segments
    that run would have yielded next. ``cache_dir`` holds converted checkpoints for the
    openai-whisper engine. Raises TranscriptionError at once if the audio is unreadable or the
    model cannot be loaded, and from the stream if decoding fails midway.
    """
    duration = probe_duration(audio_path)
    engine = get_engine(options, cache_dir)
    info = TranscriptionInfo(engine=options.engine, model=options.model, options=options.as_dict(),
                             language=options.language, duration=duration)
    return _stream(audio_path, options, start_at, first_index, engine, plan(options)[0]), info
