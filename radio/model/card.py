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
from pathlib import Path

from ..config import ASSETS
from ..contracts import CARD_NAME, TRIO_CONFIGS, config_in_name

DEFAULT_MODEL_DIR = ASSETS / "model"


class ModelError(Exception):
    """A model folder or checkpoint that cannot be used; the message names the fix."""


@dataclasses.dataclass
class ModelCard:
    config: str
    hparams: dict = dataclasses.field(default_factory=dict)
    steps: int = 0
    data: list = dataclasses.field(default_factory=list)
    metrics: dict = dataclasses.field(default_factory=dict)
    notes: str = ""

    @classmethod
    def read(cls, folder: Path) -> "ModelCard":
        raw = json.loads((Path(folder) / CARD_NAME).read_text())
        unknown = set(raw) - {f.name for f in dataclasses.fields(cls)}
        if unknown or "config" not in raw:
            raise ModelError(f"{folder}/{CARD_NAME}: bad keys {sorted(unknown)} "
                             "(a card needs 'config' and may have 'hparams', 'steps', 'data')")
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


def config_of(path, config: str | None = None) -> str:
    """The config name of a model folder or checkpoint (None: the default model), from its
    card, else `config`, else its name; without loading anything."""
    folder = Path(path) if path else DEFAULT_MODEL_DIR
    if not folder.exists():
        raise ModelError(f"model {folder} does not exist; `radio doctor` shows the default model's place")
    if folder.is_dir() and (folder / CARD_NAME).exists():
        return ModelCard.read(folder).config
    return config or config_from_name(folder)
