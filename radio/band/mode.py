"""The station's band mode: a seed file's part(s) play note for note while the walk plays
the rest (mix `{"mode": "band", "keep": {"bass": "set/file"}}`).

Each segment is the next 16-bar window of the kept file, cycling back to its start after
the last. A window shorter than 16 bars (a short file, or a file's last bars) is repeated
whole as often as fits in 16 bars, so a 4-bar riff makes a 16-bar segment. For each window
`radio complete`'s search (complete.py `solve_window`) looks for z, with its prior
centred on the walk's current step instead of the origin, and its candidates are that step
and Gaussian steps around it, so the walk still moves the other parts (one step a segment)
while the kept part pulls them toward itself. Unlike `radio complete`, the window's own
encoding and the previous window's choice are not candidates: measured, the encoding's
neighbourhood won every window (the kept part's likelihood outweighs the prior by hundreds
of nats) and the previous choice won window after window, so z stood still wherever the
walk went. The missing parts
are decoded, humanized like the station's and put on the file's beat grid through its tempo
map; the kept notes are copied field by field (pitch, onset, length, velocity), never
re-quantized. The segment plays at the file's tempo (a fixed mix tempo, a tempo range and
transpose do not apply: the kept notes stay as they are).

Seams: from the mode's second segment on, one window is decoded ahead, so a new lead or
bass note held to the end of a window is tied over into the same pitch starting the next,
as the walk's seams are. The mode's first segment is made alone (one search), as it may
have only the rest of the playing segment to be ready in; the second pays for two.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path

import note_seq
import numpy as np

from ..contracts import PARTS, STEPS_PER_BAR, RadioError
from ..model.trio import to_sequences
from ..music.composer import LatentWalk, WalkStep, tie_over
from ..music.groove import Groove
from ..music.segment import MODEL_QPM, Segment
from .choose import Choose
from .complete import generated, place, solve_window, window_sequence
from .loading import check_model
from .parts import WINDOW_BARS, CompleteError, KeptPart, TempoMap, bar_count, find_parts, read_input
from .search import Search
from .tokens import part_tokens

# The station's search: `radio complete`'s sizes (64 candidates, 3 rounds, 8 samples from each of
# the best 4 z) took 1.4–2.3 s a window keeping a bass, 3.6–4.3 s keeping bass and drums, on
# the default model (2 cores busy with other work, niced), against the 25–35 s a 16-bar
# segment of the shipped seeds lasts: no need to cut them. Its first step is 0.25 instead of
# 0.5 per dimension, so the candidates stay near the walk (measured then: docs/complete.md, band mode).
STATION_SEARCH = Search(step=0.25)
STATION_CHOOSE = Choose()


class BandError(RadioError, ValueError):
    """Band mode cannot play with this model or file; the message says why."""
    status = 400


def check_band_model(model) -> None:
    """Band mode scores the kept part under the hierdec decoder (the numpy engine's
    log_likelihood); a flat model, or the TensorFlow engine, cannot."""
    card = getattr(model, "card", None)
    try:
        check_model(getattr(card, "config", "") or "")
    except CompleteError as e:
        raise BandError(str(e)) from None
    if not hasattr(model, "log_likelihood"):
        raise BandError("band mode needs the numpy engine (engine = \"numpy\"), which scores one part "
                        "of the model teacher-forced")


@dataclasses.dataclass
class _Window:
    index: int                    # the file's window number
    bars: int                     # the segment's bars (the file's bars × repeats)
    kept: dict[str, KeptPart]     # the kept notes, in the segment's seconds
    tempo: TempoMap               # the segment's tempo map (the file's, from the window's start)
    step: WalkStep                # the walk's step it was centred on
    z: np.ndarray
    seq: note_seq.NoteSequence    # the new parts, at the model's 120 qpm


class BandMode:
    """Endless band-mode segments for one `keep` ({part: "set/file"}) at `path`; the walk
    moves on one step a segment."""

    def __init__(self, keep: dict[str, str], path: Path, model, walk: LatentWalk, seed: int = 0,
                 search: Search = STATION_SEARCH, choose: Choose = STATION_CHOOSE):
        check_band_model(model)
        ns = read_input(Path(path).read_bytes())
        self.keep, self.source = dict(keep), next(iter(keep.values()))
        self.kept = find_parts(ns, list(keep))
        self.tempo = TempoMap(ns.tempos)
        self.file_bars = bar_count(ns, self.tempo)
        self.windows = -(-self.file_bars // WINDOW_BARS)
        self.missing = [r for r in PARTS if r not in keep]
        self.model, self.walk, self.seed = model, walk, seed
        self.search, self.choose = search, choose
        self.rng = np.random.default_rng([seed, 17])
        self.next_window = 0
        self._ready: list[_Window] = []
        self.made = 0

    def _cut(self, index: int) -> tuple[dict[str, KeptPart], TempoMap, int]:
        """The kept notes of window `index`, repeated to fill up to 16 bars, in the
        segment's seconds, with the segment's tempo map and bars."""
        start_bar = index * WINDOW_BARS
        bars = min(WINDOW_BARS, self.file_bars - start_bar)
        reps = max(1, WINDOW_BARS // bars)
        s0, s1 = self.tempo.seconds(start_bar * 4), self.tempo.seconds((start_bar + bars) * 4)
        span = s1 - s0
        changes = [(0.0, self.tempo.qpm_at(start_bar * 4))] + \
            [(t - s0, q) for t, q in zip(self.tempo.times, self.tempo.qpms) if s0 < t < s1]
        tempos = [types.SimpleNamespace(time=t + k * span, qpm=q) for k in range(reps) for t, q in changes]
        kept = {}
        for role, part in self.kept.items():
            notes = []
            for k in range(reps):
                for n in part.notes:
                    if s0 - 1e-9 <= n.start_time < s1 - 1e-9:
                        m = note_seq.NoteSequence.Note()
                        m.CopyFrom(n)
                        m.start_time, m.end_time = n.start_time - s0 + k * span, n.end_time - s0 + k * span
                        notes.append(m)
            kept[role] = KeptPart(role, notes, part.tracks)
        return kept, TempoMap(tempos), bars * reps

    def _solve_next(self) -> None:
        index = self.next_window
        self.next_window = (index + 1) % self.windows
        kept, tempo, bars = self._cut(index)
        steps = bars * STEPS_PER_BAR
        tokens = {role: part_tokens(part.notes, role, tempo, 0, steps) for role, part in kept.items()}
        step = self.walk.advance()
        got = solve_window(self.model, self.model, tokens, self.missing, [step.z],
                           np.zeros((0, self.model.z_size), np.float32), self.rng, self.search,
                           self.walk.temperature, self.choose, center=np.asarray(step.z, np.float32),
                           encode=False)
        seq = generated(to_sequences(got.ids)[0], self.missing, bars)
        self._ready.append(_Window(index, bars, kept, tempo, step, got.zs[0], seq))

    def next_segment(self, groove: Groove | None) -> Segment:
        """The next window as a segment: new parts humanized with `groove` (None: on the
        grid), kept notes as they were."""
        while len(self._ready) < (1 if self.made == 0 else 2):
            self._solve_next()
        win = self._ready.pop(0)
        if self._ready:
            win.seq, self._ready[0].seq, _ = tie_over(win.seq, self._ready[0].seq, win.bars * 4 * 60.0 / MODEL_QPM)
        end_s = win.tempo.seconds(4 * win.bars)
        placed = place(win.seq, 0.0, win.bars, win.tempo, groove, self.seed, self.made)
        self.made += 1
        seq = window_sequence(placed, win.kept, 0.0, end_s)
        qpm = 4 * win.bars * 60.0 / end_s        # the average tempo: the segment lasts as the window plays
        self.walk.ramp_from(qpm)                 # a return to the walk ramps from here
        return Segment(id=self.made - 1, sequence=seq, qpm=qpm, bars=win.bars,
                       anchors=(win.step.a, win.step.b), t=win.step.t, humanized=groove is not None,
                       z=win.z, band=self.describe(win.index))

    def describe(self, index: int) -> dict:
        """What a segment's meta says of band mode: kept parts, file, window (1-based) of how many."""
        return {"keep": list(self.keep), "source": self.source, "window": index + 1, "windows": self.windows}
