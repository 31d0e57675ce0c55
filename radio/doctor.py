"""`radio doctor`: checks each part the station needs and prints the fix for what fails."""

from __future__ import annotations

import shutil

from .config import Settings
from .contracts import RadioError
from .sound.soundfonts import find_soundfont


class CheckFailed(RadioError):
    """One of `radio doctor`'s checks failed; the message says the fix."""


def _check(name: str, fn) -> bool:
    try:
        detail = fn()
        print(f"ok    {name}: {detail}")
        return True
    except Exception as e:  # every failure is reported, none stops the others
        print(f"FAIL  {name}: {e}")
        return False


def run_checks(settings: Settings) -> int:
    def fluidsynth_lib():
        try:
            import fluidsynth  # noqa: F401
        except (ImportError, OSError) as e:
            raise CheckFailed(f"{e}; fix: sudo apt-get install libfluidsynth3") from None
        return "libfluidsynth loads"

    def soundfont():
        path = find_soundfont(settings.soundfont)
        return f"{path} ({path.stat().st_size / 1e6:.0f} MB)"

    def sound_presets():
        import pedalboard  # noqa: F401  (the strips and the master)

        from .sound import soundfonts
        from .sound.presets import PRESETS
        missing = {n: pkg for n, (pkg, _) in soundfonts.SOUNDFONTS.items() if soundfonts.locate(n) is None}
        if missing:
            raise CheckFailed(f"soundfonts {', '.join(sorted(missing))} missing (their presets play on the GM "
                               f"fallback); fix: sudo apt-get install {' '.join(sorted(set(missing.values())))}")
        return f"{len(PRESETS)} presets, soundfonts {', '.join(soundfonts.SOUNDFONTS)} installed"

    def encoder():
        import numpy as np

        from .station.encoder import Mp3Encoder
        enc = Mp3Encoder(settings.bitrate)
        frames = enc.encode(np.zeros((2, 44100), np.float32)) + enc.flush()
        if not frames:
            raise CheckFailed("LAME produced no frames; fix: pip install --force-reinstall lameenc")
        return f"lameenc, {settings.bitrate} kbps CBR ({len(frames)} frames for 1 s)"

    def training():
        from .support import extras
        return extras.training()       # looked up, not imported: doctor stays quick

    def engine():
        import time

        import numpy as np

        from .model import load_model
        t = time.perf_counter()
        m = load_model(settings.model, engine="numpy", data=settings.data)
        loaded = time.perf_counter() - t
        m.decode(np.zeros((1, m.z_size), np.float32), 0.0)
        return f"numpy, {m.card.config} from {m.weights.path} in {loaded:.2f} s"

    def seeds():
        folder = settings.seed_folder()
        if not folder.exists():
            return f"{folder} is made from the shipped seed sets on first start"
        files = sorted(folder.rglob("*.mid"))
        if not files:
            raise CheckFailed(f"no .mid files under {folder}; fix: set RADIO_SEEDS or --seeds")
        return f"{len(files)} MIDI files under {folder}"

    def channels():
        from .station.channels import ChannelBook, capacity
        book = ChannelBook(settings)
        sources = book.sources()
        listed = ", ".join(f"{name} ({sources[name]})" for name in book.specs())
        removed = sorted(n for n, where in sources.items() if where == "api (removed)")
        fits, limit = capacity()
        return (f"{len(book.specs())} of max_channels={settings.max_channels}: {listed}"
                + (f"; removed through the API: {', '.join(removed)}" if removed else "")
                + f"; this machine holds about {fits} ({limit} limits it first)")

    def ffmpeg():
        path = shutil.which("ffmpeg")
        if not path:
            raise CheckFailed("not found (only the tests need it); fix: sudo apt-get install ffmpeg")
        return path

    results = [_check(n, f) for n, f in [("fluidsynth", fluidsynth_lib), ("soundfont", soundfont),
                                         ("sound presets", sound_presets), ("encoder", encoder), ("seeds", seeds),
                                         ("engine", engine), ("channels", channels), ("training", training),
                                         ("ffmpeg", ffmpeg)]]
    print("all good" if all(results) else f"{results.count(False)} problem(s) above")
    return 0 if all(results) else 1
