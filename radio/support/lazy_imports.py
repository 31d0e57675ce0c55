"""note_seq without the cost of its notebook and audio helpers, until someone uses them.

`import note_seq` runs its package __init__, which imports `notebook_utils` (bokeh, pandas,
pyarrow, IPython) and `audio_io` (librosa, scipy.io): 1,393 modules, 165 MB RSS and 0.9 s,
where the station needs the protobufs, MIDI I/O and sequences_lib (591 modules, 70 MB,
0.35 s; measured on the 2-core machine). An import hook answers both helpers with
stand-ins that load the real module on first use, so nothing breaks: a caller that does
use them pays for them then.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

# module → names note_seq's __init__ imports from it (bound to forwarding functions)
DEFERRED = {"note_seq.notebook_utils": ("play_sequence", "plot_sequence"), "note_seq.audio_io": ()}
_loading: set[str] = set()      # deferred modules whose real code is wanted now


class _Deferred(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_load(self.__name__), name)


def _load(name: str) -> types.ModuleType:
    """The real module, in sys.modules and as its package's attribute from now on."""
    if isinstance(sys.modules.get(name), _Deferred):
        _loading.add(name)
        del sys.modules[name]
    return importlib.import_module(name)


def _forward(module: str, name: str):
    def call(*args, **kwargs):
        return getattr(_load(module), name)(*args, **kwargs)
    call.__name__ = name
    return call


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers the import of a deferred module with a stand-in (so the import system binds
    it to note_seq as it would the real one), until the real one is wanted."""

    def find_spec(self, name, path=None, target=None):
        if name in DEFERRED and name not in _loading:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        stand_in = _Deferred(spec.name)
        for attr in DEFERRED[spec.name]:
            setattr(stand_in, attr, _forward(spec.name, attr))
        return stand_in

    def exec_module(self, module) -> None:
        pass


def defer_note_seq_extras() -> None:
    """Before note_seq is first imported; a no-op once it is (or when already set up)."""
    if "note_seq" in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
