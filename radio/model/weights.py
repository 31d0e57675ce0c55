"""A trio checkpoint's weights as numpy arrays in one .npz, converted once.

The conversion reads the checkpoint's variables with `tf.train.load_checkpoint` (in
tf_engine.py, the TensorFlow engine's module) and writes them under their own names, plus a `__meta__`
entry (JSON: config, the card's hparams, the checkpoint's identity). Loading the .npz
needs numpy alone.

Where the .npz lives:
- next to the checkpoint as `model.npz` (the shipped model ships this way, and `radio
  train` exports one with every model), used while its recorded identity matches the
  checkpoint beside it;
- otherwise in `<data>/models/<name>-<key>.npz`, converted on first use (the install
  folder may be read-only, as under the systemd unit). The key is the SHA-256 of the
  checkpoint's .index file (which holds a CRC of every tensor) or, for a tarball, of its
  name, size and modification time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

from ..config import default_data_folder
from .card import ModelError, find_model

WEIGHTS_NAME = "model.npz"
FORMAT = 1  # bump when the .npz layout changes: older files are converted again


class WeightsError(ModelError):
    """A model that cannot be found or converted; the message names the fix."""


@dataclasses.dataclass
class Weights:
    config: str                 # "hierdec-trio_16bar" or "flat-trio_16bar"
    hparams: dict               # the card's hparams (sizes are read from the arrays)
    arrays: dict                # variable name → float32 array, magenta's names
    card: dict                  # the model card as read (empty for official checkpoints)
    path: Path                  # the .npz they came from


def data_folder() -> Path:
    """The station's data folder when a caller names none: RADIO_DATA, else the per-user
    default (radio/config.py), never the working directory."""
    return Path(os.environ.get("RADIO_DATA") or default_data_folder())


def checkpoint_prefix(folder: Path) -> Path:
    """The checkpoint in a folder, as TensorFlow's `latest_checkpoint` finds it (the
    `checkpoint` file), else the last *.index; without importing TensorFlow."""
    state = folder / "checkpoint"
    if state.is_file():
        m = re.search(r'^model_checkpoint_path:\s*"(.+)"', state.read_text(), re.M)
        if m:
            prefix = Path(m.group(1))
            prefix = prefix if prefix.is_absolute() else folder / prefix
            if prefix.with_name(prefix.name + ".index").is_file():
                return prefix
    index = sorted(folder.glob("*.index"))
    if not index:
        raise WeightsError(f"{folder}: no checkpoint (*.index) inside")
    return index[-1].with_suffix("")


def identity(source: Path) -> str:
    """A short key that changes when the checkpoint does."""
    h = hashlib.sha256()
    if source.is_file():  # a tarball
        st = source.stat()
        h.update(f"{source.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    else:
        h.update(source.with_name(source.name + ".index").read_bytes())
    return h.hexdigest()[:16]


def read_meta(npz: Path) -> dict:
    with np.load(npz, allow_pickle=False) as f:
        return json.loads(str(f["__meta__"]))


def locate(path: Path | str | None = None, config: str | None = None,
           data: Path | str | None = None) -> tuple[Path, Path, str, dict]:
    """(checkpoint source, .npz path, config, card) for a model folder, an official
    folder or tarball; the .npz may not exist yet."""
    path, found = find_model(path, config)
    card, config = dataclasses.asdict(found), found.config
    source = path if path.is_file() else checkpoint_prefix(path)
    key = identity(source)
    beside = path / WEIGHTS_NAME if path.is_dir() else None
    if beside is not None and beside.is_file():
        meta = read_meta(beside)
        if meta.get("source") == key and meta.get("format") == FORMAT:
            return source, beside, config, card
    cached = Path(data or data_folder()) / "models" / f"{path.stem if path.is_file() else path.name}-{key}.npz"
    return source, cached, config, card


def convert(source: Path, out: Path, config: str, card: dict | None = None,
            compress: bool = False) -> Path:
    """Reads every float variable of the checkpoint (TensorFlow, once) into `out`;
    `compress` (zip deflate, ~7% smaller, slower to load) is for the shipped file."""
    from ..support import extras
    extras.require(f"converting the checkpoint {source} to the numpy engine's weights (once)")
    from .tf_engine import read_checkpoint  # the one place that needs TensorFlow
    try:
        arrays = read_checkpoint(source)
    except ModelError as e:
        raise WeightsError(str(e)) from None
    meta = {"format": FORMAT, "config": config, "source": identity(Path(source)),
            "card": card or {}, "hparams": (card or {}).get("hparams", {})}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp.npz")
    (np.savez_compressed if compress else np.savez)(tmp, __meta__=np.array(json.dumps(meta)), **arrays)
    tmp.replace(out)
    return out


def _stored_arrays(npz: Path) -> dict | None:
    """The arrays of an uncompressed .npz as read-only views into the file, memory-mapped
    (np.load copies each member through zipfile with a CRC pass: 6-13 s for a full-size
    model here). Pages come from the page cache as they are used, and processes that map
    the same file share them. None for a compressed file."""
    with zipfile.ZipFile(npz) as z:
        infos = z.infolist()
    if any(i.compress_type != zipfile.ZIP_STORED for i in infos):
        return None
    data = np.memmap(npz, dtype=np.uint8, mode="r")
    arrays = {}
    for info in infos:
        at = info.header_offset
        name_len, extra_len = struct.unpack("<HH", data[at + 26:at + 30].tobytes())
        start = at + 30 + name_len + extra_len
        f = io.BytesIO(data[start:start + min(info.file_size, 65536)].tobytes())
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0)(f)
        offset, count = start + f.tell(), int(np.prod(shape, dtype=np.int64))
        raw = data[offset:offset + count * dtype.itemsize]
        if dtype.kind not in "fiub" or fortran:
            arrays[info.filename[:-4]] = np.load(io.BytesIO(data[start:start + info.file_size].tobytes()))
            continue
        arrays[info.filename[:-4]] = raw.view(dtype).reshape(shape)
    return arrays


def load_npz(npz: Path | str) -> Weights:
    """Weights from a converted .npz (numpy only)."""
    npz = Path(npz)
    arrays = _stored_arrays(npz)
    if arrays is None:
        with np.load(npz, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("__meta__")))
    return Weights(config=meta["config"], hparams=meta.get("hparams", {}), arrays=arrays,
                   card=meta.get("card", {}), path=npz)


def load(path: Path | str | None = None, config: str | None = None,
         data: Path | str | None = None) -> Weights:
    """The weights of a model folder, official folder or tarball: from its .npz, converted
    first (with TensorFlow) if there is none yet."""
    source, npz, config, card = locate(path, config, data)
    if not npz.is_file():
        convert(source, npz, config, card)
    # the card as the folder has it now: the .npz is keyed by the checkpoint alone, and a
    # card may change after conversion (`radio learn` adds the set's style to it)
    return dataclasses.replace(load_npz(npz), card=card)
