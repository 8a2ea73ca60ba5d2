"""Whisper's input: the recording decoded to 16 kHz mono float samples by ffmpeg."""

from __future__ import annotations

import os
import subprocess

import numpy as np

from ..audio.ffmpeg import FfmpegRun, absolute_arg
from ..audio.filters import layout_filter
from ..audio.inspect import probe
from ..audio.types import FLOAT


def decode_pcm16k(path: str | os.PathLike) -> np.ndarray:
    """The first audio stream as float32 mono samples at 16 kHz (what Whisper expects).

    Two hours are about 460 MB; the bytes are collected once and viewed, never copied again.
    Raises InvalidUpload if the file is not audio, AudioError if decoding fails.
    """
    info = probe(path)
    run = FfmpegRun(["-f", info.container, "-i", absolute_arg(path), "-map", "0:a:0",
                     "-af", f"{layout_filter(info.channels, False)},aresample=16000,{FLOAT}",
                     "-f", "f32le", "pipe:1"], stdout=subprocess.PIPE, what="decode the recording")
    try:
        run.follow_in_background()
        buffer = bytearray()
        while chunk := run.process.stdout.read(1 << 20):
            buffer += chunk
        run.process.stdout.close()
        run.finish()
    finally:
        run.kill()
    return np.frombuffer(buffer, dtype=np.float32)
