"""A model's card and where a model is: what every engine and command needs to know about
a model folder before (or without) loading it.

A model folder holds a checkpoint in magenta's own variable layout and a card,
`model.json`:

    {"config": "hierdec-trio_16bar", "hparams": {"z_size": 128, ...}, "steps": 1200, ...}

An official MusicVAE checkpoint (folder or tarball, no card) is used too: its config is
taken from its file name, or given.
"""

from __future__ import annotations

import dataclasses
import json
import tarfile
from pathlib import Path

from ..config import DEFAULT_MODEL_DIR
from ..contracts import CARD_NAME, TRIO_CONFIGS, RadioError, config_in_name


class ModelError(RadioError):
    """A model folder or checkpoint that cannot be used; the message names the fix."""
    status = 400


@dataclasses.dataclass
class ModelCard:
    config: str
    hparams: dict = dataclasses.field(default_factory=dict)
    steps: int = 0
    data: list = dataclasses.field(default_factory=list)
    metrics: dict = dataclasses.field(default_factory=dict)
    notes: str = ""
    # the playing style (model/style.py) it decodes in at a mix's style 0: a learned set's
    # own (`radio learn`), so the station plays that set the band's way by default
    style: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> "ModelCard":
        raw = json.loads((Path(folder) / CARD_NAME).read_text())
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown or "config" not in raw:
            raise ModelError(f"{folder}/{CARD_NAME}: bad keys {sorted(unknown)} "
                             "(a card needs 'config' and may have 'hparams', 'steps', 'data', 'metrics', "
                             "'notes', 'style')")
        return cls(**raw)

    def write(self, folder: Path) -> None:
        tmp = Path(folder) / (CARD_NAME + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")
        tmp.replace(Path(folder) / CARD_NAME)


def config_from_name(path: Path) -> str:
    """The trio config an official checkpoint's file or folder name says it is."""
    if name := config_in_name(path):
        return name
    raise ModelError(f"{path}: no {CARD_NAME} and the name does not say which config it is; "
                     f"pass the config name (one of {', '.join(TRIO_CONFIGS)})")


def find_model(path=None, config: str | None = None) -> tuple[Path, ModelCard]:
    """The one way to find a model: a model folder, an official checkpoint folder or a
    tarball (None: the default model), and its card (read, or made from `config` or the
    name). ModelError when it does not exist, names no config, or is neither a folder nor
    a tarball. Nothing is loaded."""
    path = Path(path) if path else DEFAULT_MODEL_DIR
    if not path.exists():
        raise ModelError(f"model {path} does not exist; `radio doctor` shows the default model's place")
    if path.is_dir() and (path / CARD_NAME).exists():
        card = ModelCard.read(path)
    else:
        card = ModelCard(config=config or config_from_name(path))
    if card.config not in TRIO_CONFIGS:
        raise ModelError(f"config {card.config!r} is not a trio config ({', '.join(TRIO_CONFIGS)})")
    if path.is_file() and not tarfile.is_tarfile(path):
        raise ModelError(f"{path}: neither a model folder nor a checkpoint tarball")
    return path, card


def config_of(path, config: str | None = None) -> str:
    """The config name of a model folder or checkpoint (see `find_model`)."""
    return find_model(path, config)[1].config
