"""Voice prints: a 256-number embedding of 1.6 s of speech, from Resemblyzer's pretrained encoder.

The PyPI package ``resemblyzer`` (0.1.4) ships its trained speaker encoder (a 3-layer LSTM over
40-band mel frames, ``pretrained.pt``) inside the wheel, so nothing is downloaded. Only the
weights file is read from it: importing the package itself pulls in ``webrtcvad``, which needs
``pkg_resources`` (gone from recent setuptools), and we need none of its VAD or trimming. The
network and the mel front end below mirror the ones the weights were trained with.
"""

from __future__ import annotations

import importlib.util
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import TranscriptionError

SAMPLE_RATE = 16000
WINDOW_SECONDS = 1.6  # 160 mel frames: the utterance length the encoder was trained on
N_FFT, HOP, N_MELS = 400, 160, 40  # 25 ms windows, 10 ms steps
TARGET_DBFS = -30.0  # the training data was brought to this level before the mel front end
MISSING = ("Diarization needs the voice encoder from the 'resemblyzer' package: install "
           "clinical-exchange[diarize], or set CLINEX_DIARIZATION=off.")


def encoder_weights_path() -> Path:
    """Where the wheel put ``pretrained.pt``; TranscriptionError when resemblyzer is not installed."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("torch") is None:
        raise TranscriptionError(MISSING)
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise TranscriptionError(f"The resemblyzer package has no voice encoder weights ({path.name}); reinstall it.")
    return path


def encoder_available() -> bool:
    try:
        encoder_weights_path()
    except TranscriptionError:
        return False
    return True


def _hz_to_mel(hz):
    # Slaney's scale (librosa's default, which the encoder was trained with): linear below 1 kHz.
    hz = np.asarray(hz, dtype=np.float64)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, hz / (200.0 / 3))


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@lru_cache(maxsize=1)
def mel_filters() -> np.ndarray:
    """(40, 201) triangular filters, area-normalized, over 0-8 kHz."""
    bins = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_frames(torch, windows: np.ndarray):
    """Power mel spectrograms (n x frames x 40, a torch tensor) of equal-length 16-kHz windows,
    each brought to the level the encoder was trained at. Torch does the FFT and the product,
    on the encoder's threads: numpy's BLAS threads spin against a busy worker."""
    x = torch.from_numpy(np.atleast_2d(windows).astype(np.float32))
    rms = x.square().mean(dim=1, keepdim=True).sqrt()
    x = torch.where(rms > 1e-6, x * (10 ** (TARGET_DBFS / 20) / rms.clamp_min(1e-6)), x)
    spectrum = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True, pad_mode="constant",
                          return_complex=True)  # (n, 201, frames): centred frames, as at training
    power = spectrum.real.square() + spectrum.imag.square()
    return torch.matmul(torch.from_numpy(mel_filters()), power).transpose(1, 2).contiguous()


class VoiceEncoder:
    """The pretrained encoder; ``embed`` turns equal-length windows into unit vectors."""

    def __init__(self, weights: Path | None = None, threads: int = 1):
        import torch  # heavy: loaded only where diarization runs

        path = weights or encoder_weights_path()
        self._torch = torch
        self.lstm = torch.nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = torch.nn.Linear(256, 256)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)["model_state"]
            self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
            self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        except (OSError, RuntimeError, KeyError, EOFError, pickle.UnpicklingError) as exc:
            raise TranscriptionError(f"The voice encoder weights in {Path(path).name} cannot be loaded "
                                     f"({type(exc).__name__}); "
                                     "reinstall resemblyzer.") from exc
        # One thread: on two busy cores (a worker also transcribing, the web server) the LSTM ran
        # 6x slower on two threads than on one.
        self.threads = threads

    def embed(self, windows: list[np.ndarray], batch: int = 64) -> np.ndarray:
        """(n, 256) float32 unit vectors, one per window of samples (1.6 s each)."""
        torch = self._torch
        before = torch.get_num_threads()
        out = []
        try:
            if self.threads:
                torch.set_num_threads(self.threads)
            with torch.inference_mode():
                for first in range(0, len(windows), batch):
                    mels = mel_frames(torch, np.stack(windows[first:first + batch]))[:, :160]
                    _, (hidden, _) = self.lstm(mels)
                    raw = torch.relu(self.linear(hidden[-1]))
                    out.append((raw / raw.norm(dim=1, keepdim=True).clamp_min(1e-9)).numpy())
        finally:
            torch.set_num_threads(before)  # other engines in this process keep their setting
        return np.concatenate(out) if out else np.zeros((0, 256), np.float32)


@lru_cache(maxsize=1)
def shared_encoder() -> VoiceEncoder:
    """One encoder per process (loading takes about a second)."""
    return VoiceEncoder()
