"""What audio work takes and gives: options, measured facts, the prepared file (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

OUTPUT_RATE = 44100
# The limiter works on samples; lossy encoding and inter-sample peaks add a few tenths of a dB.
# With 0.7 the encoded peaks of a long lecture still went over the limit now and then, and the
# whole file had to be encoded a second time; 1.0 costs nothing audible on speech.
PEAK_MARGIN_DB = 1.0
PEAK_ROUNDS = 3
CUT_MARGIN_DB = 0.2
MAX_GAIN_DB = 40.0
MAX_MAKEUP_DB = 2.0
# A recording is silent when nothing in it rises above -50 dBFS or its average stays below -70 dBFS.
SILENCE_PEAK_DB = -50.0
SILENCE_RMS_DB = -70.0
EXCERPTS = 12
CALIBRATION_STEPS = (0.0, 1.0, 2.0, 3.5, 5.0)
TINY_MEDIA_BYTES = 4096
EXCERPT_SECONDS = 5.0
MEASURE_SHARE = 0.25  # of the progress bar, for the measuring pass

# Pinned after every resampler: left free, ffmpeg may negotiate 16-bit integer there, and
# a hot recording would be clipped before the gain brings it down.
FLOAT = "aformat=sample_fmts=flt"

CONTENT_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


@dataclass(frozen=True)
class AudioInfo:
    """Facts about one file's first audio stream. ``duration`` is 0.0 when unknown."""

    container: str
    codec: str
    duration: float
    sample_rate: int
    channels: int
    bitrate: int | None
    size: int


@dataclass(frozen=True)
class LoudnessInfo:
    """EBU R128 integrated loudness (LUFS), true peak (dBTP) and loudness range (LU)."""

    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range: float | None


@dataclass(frozen=True)
class AudioOptions:
    """How published audio is made; stored with the media row."""

    loudness_target: float = -16.0
    true_peak_limit: float = -1.0
    bitrate_kbps: int = 64
    stereo: bool = False
    format: str = "mp3"
    # LAME's -q (0 slowest and best .. 9 fastest). 7 encodes a 64 kbit/s mono lecture about 1.8x
    # faster than LAME's default 5 (the encode is most of prepare_audio's time).
    mp3_quality: int = 7

    def __post_init__(self):
        if self.format not in CONTENT_TYPES:
            raise ConfigError(f"Audio format must be mp3 or m4a, not {self.format!r}.")
        if not 0 <= self.mp3_quality <= 9:
            raise ConfigError(f"MP3 encoder quality must be between 0 (best) and 9 (fastest), not {self.mp3_quality}.")
        if not 16 <= self.bitrate_kbps <= 320:
            raise ConfigError(f"Audio bitrate must be between 16 and 320 kbit/s, not {self.bitrate_kbps}.")

    @classmethod
    def from_settings(cls, settings) -> "AudioOptions":
        return cls(
            loudness_target=float(settings.LOUDNESS_TARGET),
            true_peak_limit=float(settings.TRUE_PEAK_LIMIT),
            bitrate_kbps=int(settings.AUDIO_BITRATE),
            stereo=bool(settings.AUDIO_STEREO),
            format=str(settings.AUDIO_FORMAT).lower(),
            mp3_quality=int(settings.AUDIO_MP3_QUALITY),
        )

    @property
    def channels(self) -> int:
        return 2 if self.stereo else 1


@dataclass(frozen=True)
class PreparedAudio:
    path: Path
    info: AudioInfo
    input_loudness: LoudnessInfo
    output_loudness: LoudnessInfo
    content_type: str
    extension: str
    gain_db: float = 0.0  # applied before the limiter
    makeup_db: float = 0.0  # applied after it, for the level the encoder loses
