"""The synchronous chain, assembled: seeds → model → composer → performer → renderer → mixer.

`Pipeline` makes one segment at a time (used by `radio generate` and by the generator
process's loop, loop.py); it owns the seed library, the walk, the FluidSynths and the channel
strips. The sound preset follows the set of the anchor the walk is heading to (or the
mix pins one), changing at a segment boundary.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from ..config import Settings
from ..contracts import SAMPLE_RATE, Audio, SeedRef
from ..music import arrangement
from ..music.composer import Anchor, LatentWalk, WalkError
from ..music.groove import Groove
from ..music.performer import humanize
from ..music.seedsets import SeedSetError, station_library
from ..music.segment import Segment, transposed
from ..music.songwriter import Songwriter
from ..sound.mixer import Mixer, load_plugins
from ..sound.presets import SoundPreset, resolve, sound_of_set
from ..sound.renderer import Renderer
from .anchors import anchor_cache, encode_file
from .mix import MixError, StyleMix, seed_file, start_mix, walk_mode
from .models import key_of, model_key, sets_played
from .styles import Styles

log = logging.getLogger("radio.pipeline")


def transpose(segment: Segment, semitones: int) -> Segment:
    """A new segment with lead and bass moved by `semitones` (kept in MIDI range); drums stay."""
    if not semitones:
        return segment
    return dataclasses.replace(segment, sequence=transposed(segment.sequence, semitones))


class Pipeline:
    """Model, walk, performer and renderer, driven one segment at a time."""

    def __init__(self, settings: Settings, model=None):
        import time
        t0 = time.perf_counter()
        from ..model import load_model
        self.settings = settings
        self.model = model or load_model(settings.model, engine=settings.engine, seed=settings.seed,
                                         data=settings.data)
        t1 = time.perf_counter()
        self.library = station_library(settings)
        self.model_key = model_key(self.library.learned(), settings.model)
        self._anchors: dict[Path, list[Anchor]] = {}
        self._cache = anchor_cache(settings)
        self.styles = Styles(self.model, self._cache)
        self.sync_seeds()
        log.info("model ready in %.1f s, %d anchors in %.1f s", t1 - t0, len(self.anchors), time.perf_counter() - t1)
        if not self.anchors:
            raise SeedSetError(f"no usable seed segments under {self.library.root}")
        mix = start_mix(settings, self.library.sets())
        if key_of(mix.sets, self.library.learned(), None) != self.model_key:
            # the configured mix is another model's (the loop plays it on that model; here
            # the saved mix follows): this model's own sets meanwhile
            mix = dataclasses.replace(mix, sets={s: 1.0 for s in self.played_sets()})
        self.mix = StyleMix(sets={s: 1.0 for s in self.sets_with_anchors()})
        self.band = None                   # band mode's player (radio/band.py) while it lasts
        self.walk = LatentWalk(self.model, self.anchors, settings.steps_per_leg,
                               settings.temperature, settings.qpm, settings.seed, self.mix.sets)
        self.songwriter = Songwriter(self.walk, settings.seed)
        self.sound = self._preset("default")
        self.renderer = Renderer(settings.soundfont or None, self.sound)
        self.mixer = Mixer(self.sound, SAMPLE_RATE, load_plugins(settings.plugins))
        self.set_mix(mix)

    @property
    def anchors(self) -> list[Anchor]:
        return [a for anchors in list(self._anchors.values()) for a in anchors]

    def sets_with_anchors(self) -> list[str]:
        return sorted({a.set for a in self.anchors})

    def played_sets(self) -> dict[str, list[Path]]:
        """The seed sets this model plays (models.py): set → its files."""
        sets = self.library.sets()
        return {s: sets[s] for s in sets_played(self.model_key, sets, self.library.learned())}

    def sync_seeds(self) -> bool:
        """Encodes files new to the model's seed sets and forgets removed ones; True on change."""
        files = dict((path, name) for name, paths in self.played_sets().items() for path in paths)
        gone = [p for p in self._anchors if p not in files]
        new = [p for p in files if p not in self._anchors]
        for p in gone:
            del self._anchors[p]
        for p in new:
            try:
                self._anchors[p] = encode_file(self.model, files[p], p, self._cache)
            except FileNotFoundError:   # removed since it was listed: the next sync forgets it
                log.info("seed %s was removed before it was encoded", p)
        changed = bool(gone or new)
        if changed and hasattr(self, "walk"):
            if self.anchors:
                self.walk.retarget(anchors=self.anchors)
                self._restyle()
            else:  # keep walking the old anchors rather than stop the music
                log.error("seed folder has no usable segments left; keeping the previous anchors")
        return changed

    def _restyle(self) -> None:
        """The walk plays the mix's style over the anchors it has now (generator/styles.py),
        and songs arrange their parts as the mix's sets do (music/arrangement.py)."""
        self.walk.style = self.styles.for_mix(self.anchors, self.mix.sets, self.mix.temperature, self.mix.style)
        self.songwriter.arrangement = arrangement.for_mix(self.anchors, self.mix.sets)

    def check_mix(self, mix: StyleMix) -> None:
        """MixError if this model cannot play the mix (band mode needs a hierdec model on
        the numpy engine)."""
        if mix.mode == "band":
            from ..band.mode import BandError, check_band_model
            try:
                check_band_model(self.model)
            except BandError as e:
                raise MixError(f"mode: band: {e}") from None

    def _band_for(self, mix: StyleMix):
        """The band player for a band mix: the current one when it keeps the same parts of
        the same file (its windows go on), else a new one from the first window."""
        if mix.mode != "band":
            return None
        if self.band is not None and self.band.keep == mix.keep:
            return self.band
        from ..band.mode import BandError, BandMode
        from ..band.parts import CompleteError
        ref = SeedRef.parse(next(iter(mix.keep.values())))
        path = seed_file(self.library.sets(), ref.set, ref.file)
        if path is None:
            raise MixError(f"keep: no seed file {ref}")
        try:
            return BandMode(mix.keep, path, self.model, self.walk, self.settings.seed)
        except (BandError, CompleteError, OSError) as e:
            raise MixError(f"keep: {ref}: {e}") from None

    def set_mix(self, mix: StyleMix) -> None:
        """Plays `mix` from the next segment; raises MixError (nothing changed) if the walk
        cannot (e.g. an endpoint whose file gave no segment, a set another model plays)."""
        self.check_mix(mix)
        other = sorted(s for s, w in mix.sets.items() if w > 0 and s not in self.played_sets())
        if other:
            raise MixError(f"sets: {', '.join(other)}: played by another model than this one")
        band = self._band_for(mix)
        try:
            head = self.walk.find(mix.head) if mix.head else None
        except WalkError as e:        # its seed file went since the change was checked
            raise MixError(str(e)) from None
        try:
            self.walk.set_mode(walk_mode(mix.mode), mix.endpoints)
        except ValueError as e:
            self.walk.set_mode(walk_mode(self.mix.mode), self.mix.endpoints)
            raise MixError(str(e)) from None
        self.band = band
        if self.mix.new_song(mix):
            self.songwriter.end_song()
        self.songwriter.set_form(mix.form)
        self.mix = mix
        self.groove = Groove.from_dict(mix.groove)
        self.walk.set_play(mix.temperature, mix.qpm, mix.prior, mix.loop_bars, tuple(mix.qpm_range) or None,
                           mix.ramp_bars)
        self.walk.retarget(weights=mix.sets)
        self._restyle()
        if head is not None:
            self.walk.head_for(head)

    def next_segment(self) -> Segment:
        if self.band is not None:   # kept notes as they are: no transpose, new parts humanized
            return self.band.next_segment(self.groove if self.settings.humanize else None)
        segment = transpose(next(self.songwriter if self.mix.songs() else self.walk), self.mix.transpose)
        if not self.settings.humanize:
            return segment
        return humanize(segment, self.groove, seed=self.settings.seed)

    def restart_after(self, last: Segment | None) -> None:
        """Segments made ahead were dropped and `last` is the one that plays before the
        next: forget the notes the dropped ones left sounding, go on with its song's next
        section (a song the mix ended starts anew), ramp from its tempo."""
        self.renderer.reset()
        self.songwriter.resume_after(last.song if last is not None else None)
        if last is not None:
            self.walk.ramp_from(last.qpm)

    def _preset(self, name: str) -> SoundPreset:
        """The named preset with the mix's sound overrides and explicit programs."""
        overrides = {k: v for k, v in self.mix.sound.items() if k != "preset"}
        return resolve(name, overrides, self.mix.lead_program, self.mix.bass_program)

    def sound_for(self, segment: Segment) -> SoundPreset:
        """The mix's pinned preset, else that of the set the walk is heading to; a step
        toward a prior draw (no set) keeps the current one."""
        if "preset" in self.mix.sound:
            return self._preset(self.mix.sound["preset"])
        ref = SeedRef.try_parse(segment.anchors[1])
        target_set = ref.set if ref else None
        name = sound_of_set(self.library, target_set) if target_set else self.sound.name
        return self._preset(name)

    def render(self, segment: Segment) -> np.ndarray:
        """The segment's parts, rendered and mixed through the preset's strips: (2, n)."""
        sound = self.sound_for(segment)
        if sound != self.sound:
            self.sound = sound
            self.renderer.set_sound(sound)
            self.mixer.set_sound(sound)
        blocks = ({part: Audio(pcm, SAMPLE_RATE) for part, pcm in block.items()}
                  for block in self.renderer.blocks(segment, SAMPLE_RATE))     # a second at a time
        return self.mixer.process_blocks(blocks, self.renderer.frames(segment)).samples

    def close(self, keep_model: bool = False) -> None:
        self.renderer.close()
        if not keep_model:
            self.model.close()
