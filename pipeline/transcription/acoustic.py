"""Whisper's own judgement of a correction: is the rewritten text what the audio says?

Post-correction proposes rewrites by sound and context (the glossary, the episode's phrases);
neither hears the recording. Here the recognizer does: each changed segment's text is scored
teacher-forced on that segment's audio (the log-probability the model gives those exact tokens,
with the prompt the segment was decoded with), before and after each rewrite. A rewrite that
makes the text clearly less likely than what was heard is undone ("sun damage" stays, though
the notes say "photodamage"); one the audio supports stays, even where beam search had missed
it ("Cutera of the world" -> Cutera Pearl scores 5 nats better than what was decoded).

Only faster-whisper (CTranslate2) exposes teacher-forced token probabilities (``align``); with
another engine the same CTranslate2 model judges, and without one nothing is checked. The
judge is a veto, not a finder: the model prefers its own rare-word guesses, so a right rewrite
often scores a few nats worse than what was heard (see ``TOLERANCE``).
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from ..errors import TranscriptionError
from ..words import phrase_words
from .engines import get_engine, plan
from .stream import SAMPLE_RATE, decode_blocks
from .types import Correction, Segment, TranscriptionOptions, Word
from .vocabulary import is_rare

log = logging.getLogger(__name__)

# A rewrite may make the text this much less likely (natural log) and stay. tiny.en's own
# language prior is against rare words, so right rewrites cost too: on the benchmark sets
# (benchmarks/episode_words.py) right ones cost up to 13.9 nats ("inflammatory
# hyperpigmentation" -> post-inflammatory), wrong ones 15 and more ("sun damage" ->
# photodamage 16.6, "still" -> Stellar 15.1, "canola" -> cannula 17.5, "proves" -> Profhilo 30.7).
TOLERANCE = 14.0
PAD_SECONDS = 0.2  # audio either side of a segment's times: word edges are approximate
WINDOW_SECONDS = 30.0  # Whisper's window; longer segments are not judged
BLOCK_SECONDS = 300.0
FULL_FRAMES = 3000  # mel frames of Whisper's 30-s window
_PROMPT_TOKENS = 223  # faster-whisper's limit for a prompt (half the 448-token context)


class AcousticJudge:
    """Scores texts against audio with a faster-whisper model (CTranslate2 ``align``)."""

    def __init__(self, model, prompt: str | None = None):
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language="en")
        start = list(self.tokenizer.sot_sequence)
        if prompt and prompt.strip():
            start = [self.tokenizer.sot_prev, *self.tokenizer.encode(" " + prompt.strip())[:_PROMPT_TOKENS], *start]
        self.start = start

    def log_likelihoods(self, samples: np.ndarray, texts: Sequence[str]) -> list[float]:
        """Sum of log-probabilities of each text's tokens given the samples (<= 30 s at 16 kHz).
        The audio is encoded once (most of the cost); each text is aligned on its own, which
        measured faster than one batch of copies of the encoding."""
        import ctranslate2

        features = self.model.feature_extractor(samples[: int(WINDOW_SECONDS * SAMPLE_RATE)])
        frames = min(features.shape[-1], FULL_FRAMES)
        # The segment and a second of silence, not Whisper's whole 30-s window: CTranslate2
        # encodes shorter input, 8x faster for a 9-s segment, and the differences between texts
        # it gives are those of the full window within a few tenths of a nat (measured on the sample).
        width = min(FULL_FRAMES, -(-(frames + 100) // 100) * 100)
        padded = np.zeros((features.shape[0], width), dtype=np.float32)
        padded[:, :frames] = features[:, :frames]
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(padded[None]), to_cpu=False)
        scores = []
        for text in texts:
            tokens = self.tokenizer.encode(" " + text.strip()) or [self.tokenizer.eot]
            result = self.model.model.align(encoded, self.start, [tokens], [frames])[0]
            scores.append(float(np.log(np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-30)).sum()))
        return scores


def check_for(audio_path, options: TranscriptionOptions, prompt: str | None) -> AcousticCheck | None:
    """The check of a transcript of ``audio_path`` made with these options, judging as many
    segments side by side as the engine decodes blocks; None without a judge."""
    judge = judge_for(options, prompt)
    return AcousticCheck(audio_path, judge, workers=plan(replace(options, engine="faster-whisper"))[0]) if judge else None


def judge_for(options: TranscriptionOptions, prompt: str | None) -> AcousticJudge | None:
    """The judge for a transcript made with these options, or None when no CTranslate2 model
    can be loaded (an openai-whisper checkpoint of another model)."""
    try:
        engine = get_engine(replace(options, engine="faster-whisper"))
    except TranscriptionError as exc:
        log.info("corrections are not checked against the audio: %s", exc)
        return None
    return AcousticJudge(engine.model, prompt)


@dataclass(frozen=True)
class _Edit:
    first: int  # heard words [first, last) became ``new``
    last: int
    new: tuple[Word, ...]

    @property
    def text(self) -> str:
        return "".join(w.word for w in self.new).strip()


def _key(w: Word) -> tuple:
    return (round(w.start, 3), round(w.end, 3), w.word)


def edits_between(heard: Sequence[Word], fixed: Sequence[Word]) -> list[_Edit]:
    """The spans of heard words that post-correction rewrote, in order."""
    matcher = difflib.SequenceMatcher(a=[_key(w) for w in heard], b=[_key(w) for w in fixed], autojunk=False)
    return [_Edit(i1, i2, tuple(fixed[j1:j2])) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"]


def with_edits(heard: Sequence[Word], edits: Iterable[_Edit]) -> list[Word]:
    out, at = [], 0
    for edit in sorted(edits, key=lambda e: e.first):
        out += heard[at:edit.first]
        out += edit.new
        at = edit.last
    return out + list(heard[at:])


def _cased(edit: _Edit, heard: Sequence[Word]) -> list[_Edit]:
    """The edit as written, and with its first letter cased as the heard words had it: the style
    pass sets casing afterwards, so a capital is not what is being judged (either way can cost
    several nats: "cuter" -> Cutera, "its metric" -> Fitzpatrick)."""
    first = edit.new[0] if edit.new else None
    was = heard[edit.first].word.strip()[:1] if edit.first < len(heard) else ""
    if first is None or not was.isalpha():
        return [edit]
    body = first.word.lstrip()
    lead = first.word[: len(first.word) - len(body)]
    recased = body[:1].upper() + body[1:] if was.isupper() else body[:1].lower() + body[1:]
    if recased == body:
        return [edit]
    return [edit, replace(edit, new=(replace(first, word=lead + recased), *edit.new[1:]))]


def _judgeable(span: Sequence[Word], edit: _Edit) -> bool:
    """Heard words that are all real words (or numbers), rewritten into other letters: the
    rewrites that could replace what was said. Joining ("cool sculpting" -> CoolSculpting) only
    respells it, and the model's prior against the joined spelling is no evidence."""
    heard = [w for word in span for w in phrase_words(word.word)]
    if not heard or any(is_rare(w) for w in heard):
        return False
    return "".join(heard).replace("'", "") != "".join(phrase_words(edit.text)).replace("'", "")


def _plain(text: str) -> str:
    return " ".join(phrase_words(text))


def _text(words: Sequence[Word]) -> str:
    return "".join(w.word for w in words).strip()


class AcousticCheck:
    """Keeps the rewrites of a transcript that its audio supports."""

    def __init__(self, audio_path: str | os.PathLike, judge: AcousticJudge, tolerance: float = TOLERANCE,
                 workers: int = 1):
        self.audio_path = audio_path
        self.judge = judge
        self.workers = max(1, workers)  # segments judged side by side (the model's decoders)
        self.tolerance = tolerance
        self._lock = threading.Lock()
        self.judged = 0  # segments scored
        self.undone: list[Correction] = []  # corrections the audio contradicted

    def summary(self) -> dict:
        """What the check did, as stored with the transcript's options."""
        return {"judged": self.judged, "tolerance": self.tolerance,
                "undone": [{"original": c.original, "corrected": c.corrected} for c in self.undone]}

    def confirm(self, heard: Sequence[Segment], fixed: Sequence[Segment], corrections: Sequence[Correction]
                ) -> tuple[list[Segment], list[Correction]]:
        """``fixed`` with each rewrite the audio does not support undone, and the corrections kept.

        Segments are paired by position (post-correction never adds or drops one). Only rewrites
        of real words are judged: a word Whisper could not spell ("Citten", "hyperbibmentation")
        is never what was said, so rewriting it risks nothing the check could protect."""
        edits = {i: [e for e in edits_between(h.words, f.words) if _judgeable(h.words[e.first:e.last], e)]
                 for i, (h, f) in enumerate(zip(heard, fixed)) if h.words and _text(h.words) != _text(f.words)}
        out = list(fixed)
        rejected: dict[int, list[tuple[str, str]]] = {}
        windows = self._windows(heard, {i for i, e in edits.items() if e})
        with ThreadPoolExecutor(self.workers) as pool:
            while chunk := list(islice(windows, 4 * self.workers)):  # a few windows in memory at a time
                judged = pool.map(lambda w: (w[0], self._confirm_segment(heard[w[0]], fixed[w[0]], edits[w[0]], w[1])), chunk)
                for i, (segment, lost) in judged:
                    out[i] = segment
                    if lost:
                        rejected[heard[i].index] = lost
        kept = []
        for c in corrections:
            if any(c.corrected in new and _plain(c.original) in _plain(old) for old, new in rejected.get(c.segment_index, [])):
                self.undone.append(c)
            else:
                kept.append(c)
        return out, kept

    def _confirm_segment(self, heard: Segment, fixed: Segment, judged: list[_Edit], samples: np.ndarray
                         ) -> tuple[Segment, list[tuple[str, str]]]:
        """Each judged rewrite scored alone against what was heard (the audio encoded once)."""
        trials = [(k, _text(with_edits(heard.words, [e]))) for k, edit in enumerate(judged)
                  for e in _cased(edit, heard.words)]
        scores = self.judge.log_likelihoods(samples, [_text(heard.words), *(t for _k, t in trials)])
        with self._lock:
            self.judged += 1
        lost = []
        for k, edit in enumerate(judged):
            best = max(score for (j, _t), score in zip(trials, scores[1:]) if j == k)
            log.debug("rewrite %r -> %r: %+.2f nats", _text(heard.words[edit.first:edit.last]), edit.text,
                      best - scores[0])
            if best < scores[0] - self.tolerance:
                lost.append(edit)
        if not lost:
            return fixed, []
        kept = [e for e in edits_between(heard.words, fixed.words) if e not in lost]
        words = with_edits(heard.words, kept)
        return replace(fixed, text=_text(words), words=words), [(_text(heard.words[e.first:e.last]), e.text) for e in lost]

    def _windows(self, segments: Sequence[Segment], wanted: set[int]) -> Iterable[tuple[int, np.ndarray]]:
        """(segment position, its samples) for the wanted segments, the audio decoded in blocks."""
        todo = sorted(wanted, key=lambda i: segments[i].start)
        todo = [i for i in todo if segments[i].end - segments[i].start <= WINDOW_SECONDS - 2 * PAD_SECONDS]
        previous = (0.0, np.zeros(0, dtype=np.float32))
        k = 0
        for offset, samples in decode_blocks(self.audio_path, BLOCK_SECONDS):
            start0 = previous[0] if len(previous[1]) else offset
            joined = np.concatenate([previous[1], samples]) if len(previous[1]) else samples
            end = offset + len(samples) / SAMPLE_RATE
            while k < len(todo) and segments[todo[k]].end + PAD_SECONDS <= end:
                seg = segments[todo[k]]
                a = max(0, int((seg.start - PAD_SECONDS - start0) * SAMPLE_RATE))
                b = int((seg.end + PAD_SECONDS - start0) * SAMPLE_RATE)
                yield todo[k], joined[a:b]
                k += 1
            previous = (offset, samples)
        while k < len(todo):  # the recording ends within the padding
            seg = segments[todo[k]]
            start0 = previous[0]
            a = max(0, int((seg.start - PAD_SECONDS - start0) * SAMPLE_RATE))
            yield todo[k], previous[1][a:]
            k += 1
