"""ffmpeg filter chains and codec arguments shared by the measuring and the encoding passes."""

from __future__ import annotations

from .types import EXCERPT_SECONDS, EXCERPTS, FLOAT, PEAK_MARGIN_DB, AudioOptions


def true_peak_chain(sample_rate: int) -> str:
    """Filters that measure true peak as BS.1770 defines it: the peak of the signal oversampled
    four times. Much cheaper than ebur128's own, which resamples to 192 kHz in double precision."""
    return (f"aresample={4 * sample_rate},{FLOAT},"
            "astats=measure_perchannel=none:measure_overall=Peak_level")



def layout_filter(channels: int, stereo: bool) -> str:
    """Bring any channel count to the published layout. An explicit pan works even when the
    file declares no channel layout, where ffmpeg's automatic downmix gives up."""
    if stereo:
        pan = "pan=stereo|c0=c0|c1=c0" if channels == 1 else "aformat=channel_layouts=stereo"
    elif channels <= 1:
        pan = "pan=mono|c0=c0"
    else:
        pan = "pan=mono|c0=" + "+".join(f"{1.0 / channels:.6g}*c{i}" for i in range(channels))
    return f"{FLOAT},{pan},{FLOAT}"


def limiter_filter(options: AudioOptions, cut_db: float = 0.0) -> str:
    ceiling = 10 ** ((options.true_peak_limit - PEAK_MARGIN_DB - cut_db) / 20)
    ceiling = min(1.0, max(0.0625, ceiling))
    # level=0: alimiter otherwise re-normalises its output up to the ceiling.
    # latency=1: compensate the look-ahead, so the output keeps the input's length and sync.
    return f"alimiter=limit={ceiling:.5f}:attack=5:release=50:level=0:latency=1"


def excerpt_select(duration: float) -> str:
    """Keep EXCERPTS windows of EXCERPT_SECONDS spread over the recording (all of a short one).

    Window starts follow the golden ratio rather than a fixed period, so a recording with a
    repeating structure (a looped jingle, a test signal) is not sampled at the same phase."""
    if duration <= EXCERPTS * EXCERPT_SECONDS * 1.5:
        return ""
    span = duration - EXCERPT_SECONDS
    starts = sorted(span * ((0.1 + index * 0.6180339887) % 1.0) for index in range(EXCERPTS))
    windows = "+".join(f"between(t,{start:.2f},{start + EXCERPT_SECONDS:.2f})" for start in starts)
    return f"aselect='{windows}',asetpts=N/SR/TB,"


def codec_args(options: AudioOptions) -> list[str]:
    bitrate = f"{options.bitrate_kbps}k"
    if options.format == "mp3":
        # CBR (a bitrate and no quality scale), so time-to-byte seeking is exact in every player.
        return ["-c:a", "libmp3lame", "-b:a", bitrate, "-compression_level", str(options.mp3_quality)]
    return ["-c:a", "aac", "-b:a", bitrate]
