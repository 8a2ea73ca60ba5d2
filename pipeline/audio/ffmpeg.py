"""Finding and running ffmpeg.

The system's ffmpeg is used when it is on PATH, otherwise the binary that the PyPI package
imageio-ffmpeg ships; nothing is ever downloaded. Every run goes through ``FfmpegRun`` so that
stderr is read as it comes (progress, errors, the filters' summaries) and a failure becomes an
``AudioError`` carrying ffmpeg's own last error line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import Callable, Sequence

from ..errors import AudioError

# Enough to keep every summary block the filters print at the end, without keeping the
# thousands of error lines a damaged file can produce.
_KEPT_LINES = 400
_TIME_US = re.compile(r"^out_time_us=(\d+)")


def ffmpeg_binary() -> str:
    """Path of the ffmpeg to use: the system's, else imageio-ffmpeg's bundled binary.

    Raises AudioError when neither exists; never downloads anything.
    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError, OSError):
        exe = None
    if exe and os.access(exe, os.X_OK):
        return exe
    raise AudioError(
        "No ffmpeg was found: install the system package (apt-get install ffmpeg) "
        "or the Python package imageio-ffmpeg."
    )


def configure_pydub() -> None:
    """Point pydub at the same ffmpeg (pydub otherwise looks only on PATH)."""
    from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_binary()
    probe = shutil.which("ffprobe")
    if probe:
        AudioSegment.ffprobe = probe


def ffmpeg_command(args: Sequence[str]) -> list[str]:
    """The full command line: quiet banner, no stdin, levelled log lines, progress on stderr."""
    return [
        ffmpeg_binary(), "-nostdin", "-hide_banner", "-nostats",
        "-loglevel", "level+info", "-progress", "pipe:2", "-stats_period", "0.5",
        *args,
    ]


class FfmpegRun:
    """One ffmpeg process whose stderr is followed line by line.

    ``on_time`` receives the seconds of output written so far (from ``-progress``).
    """

    def __init__(self, args: Sequence[str], *, stdin=None, stdout=subprocess.DEVNULL,
                 cwd: str | os.PathLike | None = None, what: str = "process the audio"):
        self.what = what
        self.lines: deque[str] = deque(maxlen=_KEPT_LINES)
        self.error_count = 0
        self.last_error = ""
        self.out_time = 0.0
        self._thread: threading.Thread | None = None
        self.command = ffmpeg_command(args)
        self.process = subprocess.Popen(
            self.command, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, cwd=cwd,
        )

    def follow(self, on_time: Callable[[float], None] | None = None) -> None:
        """Read stderr to its end in this thread."""
        for raw in self.process.stderr:
            self._take(raw.decode("utf-8", "replace").rstrip("\n"), on_time)

    def follow_in_background(self) -> None:
        self._thread = threading.Thread(target=self.follow, daemon=True)
        self._thread.start()

    def _take(self, line: str, on_time: Callable[[float], None] | None) -> None:
        match = _TIME_US.match(line)
        if match:
            self.out_time = int(match.group(1)) / 1e6
            if on_time:
                on_time(self.out_time)
            return
        if "=" in line and " " not in line:
            return  # the other -progress keys
        if "[error]" in line or "[fatal]" in line:
            self.error_count += 1
            self.last_error = line.split("] ")[-1].strip()
        self.lines.append(line)

    def finish(self) -> subprocess.CompletedProcess:
        """Wait for the process; raise AudioError if it failed."""
        if self._thread is None:
            self.follow()
        else:
            self._thread.join()
        code = self.process.wait()
        self.process.stderr.close()
        if code != 0:
            reason = self.last_error or (self.lines[-1] if self.lines else f"exit status {code}")
            raise AudioError(f"ffmpeg could not {self.what}: {reason.rstrip('.')}.")
        return subprocess.CompletedProcess(self.command, code, None, "\n".join(self.lines))

    def kill(self) -> None:
        """Stop the process if it still runs (used when a partner in a pipeline failed)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def run_ffmpeg(args: Sequence[str], *, on_time: Callable[[float], None] | None = None,
               cwd: str | os.PathLike | None = None, what: str = "process the audio",
               ) -> subprocess.CompletedProcess:
    """Run ffmpeg with ``args`` to completion; ``stderr`` of the result holds the kept log lines.

    Raises AudioError with ffmpeg's last error line when it exits non-zero.
    """
    run = FfmpegRun(args, cwd=cwd, what=what)
    try:
        run.follow(on_time)
        return run.finish()
    finally:
        run.kill()


def run_counting_errors(args: Sequence[str], *, what: str) -> FfmpegRun:
    """Run ffmpeg to completion without raising; the caller judges ``error_count`` and exit status."""
    run = FfmpegRun(args, what=what)
    run.follow()
    run.process.wait()
    run.process.stderr.close()
    return run


def absolute_arg(path: str | os.PathLike) -> str:
    # Absolute, so a name starting with "-" can never read as an option.
    return os.fspath(Path(path).absolute())


def last_number(pattern: str, text: str, default: float | None = None) -> float | None:
    matches = re.findall(pattern, text)
    if not matches:
        return default
    try:
        return float(matches[-1])
    except ValueError:
        return default
