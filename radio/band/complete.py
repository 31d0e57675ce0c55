"""Complete the band: keep the part(s) a musician played, let the trio model play the rest.

Method: latent search, after Engel, Hoffman & Roberts, "Latent Constraints: Learning to
Generate Conditionally from Unconditional Generative Models" (ICLR 2018, arXiv:1711.05772):
an unconditional VAE is made conditional by looking for latent points z whose decoding
satisfies a constraint while staying where the prior puts its mass. Here the constraint is
the kept part itself, and no critic is trained: MusicVAE's hierdec trio decoder writes its
three parts independently given z (a conductor turns z into one embedding per bar; each
part's core decoder reads only those), so log p(kept part | z) is a teacher-forced forward
pass of that part's decoder alone. Per 16-bar window we maximise

    log p(kept | z) + log N(z; 0, I)

over candidates: the window itself encoded with the missing parts empty, the previous
window's choice (continuity), encodings of seed segments and prior draws, then rounds of
Gaussian steps around the best few (a gradient-free search: forward passes only). The best
few z are decoded at the sampling temperature, several samples each, and the missing parts
of the sample that fits the kept part best are played (`fit`: consonance over the bass,
limits on plainness, drums under the bass's onsets): the paper's attribute constraints,
measured on the samples rather than learned as a critic on z.

Times: the input plays at any tempo map; the model works on sixteenths of 4/4. Kept notes
are read on that grid only to score and encode them. The output holds them as they were
(every field of every note copied, never re-quantized); the new parts are placed on the
input's beat grid through its tempo map, then humanized like the station's. Windows are
joined as the walk joins segments: a lead or bass note held into the same pitch is tied
over the seam.

A flat trio model decodes its three parts with one LSTM, step by step together, so one part
cannot be scored without the others: it gets CompleteError.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import note_seq
import numpy as np

from ..contracts import PARTS, STEPS_PER_BAR
from ..model.trio import to_sequences
from ..music.composer import tie_over
from ..music.groove import Groove
from ..music.performer import humanize
from ..music.segment import BASS, DRUMS, LEAD, MODEL_QPM, Segment, retime
from ..sound.presets import resolve
from .choose import Choose, choose_sample
from .parts import WINDOW_BARS, KeptPart, TempoMap, bar_count
from .search import Scorer, Search, search_z
from .tokens import part_tokens, trio_tensor

INSTRUMENT = {"lead": LEAD, "bass": BASS, "drums": DRUMS}
NEW_TRACK_NAME = "{role} (latent radio)"   # MIDI track name of each new part


@dataclasses.dataclass
class Solved:
    """One window's answer: the chosen sample's token ids [3, 1, steps] and the search's."""
    ids: np.ndarray
    zs: np.ndarray                # the search's best z, best first
    values: np.ndarray            # their objective values
    scored: int                   # latent points scored
    fit: float                    # the chosen sample's fit


def solve_window(model, scorer: Scorer, tokens: dict[str, np.ndarray], missing: Sequence[str],
                 start: Sequence[np.ndarray], pool: np.ndarray, rng: np.random.Generator,
                 search: Search, temperature: float, choose: Choose,
                 center: np.ndarray | None = None, encode: bool = True) -> Solved:
    """Searches z for the kept `tokens` (from `start`, and the window itself encoded unless
    `encode` is False) and samples the missing parts from the best few: `search_z`, then
    `choose_sample`."""
    steps = len(next(iter(tokens.values())))
    start = [model.encode([trio_tensor(tokens)])[0], *start] if encode else list(start)
    zs, values, scored = search_z(scorer, tokens, start, pool, model.z_size, rng, search, center=center)
    ids, chosen_fit = choose_sample(model, zs, tokens, missing, temperature, steps, choose)
    return Solved(ids, zs, values, scored, chosen_fit)


def place(seq: note_seq.NoteSequence, start_beat: float, bars: int, tempo: TempoMap,
          groove: Groove | None, seed: int, segment_id: int = 0) -> list:
    """A decoded window's notes (at the model's 120 qpm) put on the input's beat grid from
    `start_beat` through its tempo map, humanized first unless `groove` is None: (role,
    note) pairs, times in the input's seconds."""
    qpm = tempo.qpm_at(start_beat)
    segment = Segment(id=segment_id, sequence=retime(seq, qpm), qpm=qpm, bars=bars)
    if groove is not None:
        segment = humanize(segment, groove, seed)
    out = []
    for n in segment.sequence.notes:
        m = note_seq.NoteSequence.Note()
        m.CopyFrom(n)
        m.start_time = tempo.seconds(start_beat + n.start_time * qpm / 60.0)
        m.end_time = tempo.seconds(start_beat + n.end_time * qpm / 60.0)
        out.append(("drums" if n.is_drum else ("bass" if n.instrument == BASS else "lead"), m))
    return out


def window_sequence(placed: list, kept: dict[str, KeptPart], start_s: float, end_s: float,
                    first: bool = False) -> note_seq.NoteSequence:
    """One window as the renderer takes it (parts by INSTRUMENT, times from the window's
    start): the placed new notes, and the kept notes starting in it copied field by field
    (`first`: also those before the input's zero)."""
    out = note_seq.NoteSequence()
    for role, n in placed:
        w = out.notes.add()
        w.CopyFrom(n)
        w.instrument = INSTRUMENT[role]
        w.start_time, w.end_time = n.start_time - start_s, n.end_time - start_s
    for part in kept.values():
        for n in part.notes:
            if start_s - 1e-9 <= n.start_time < end_s - 1e-9 or (first and n.start_time < 0):
                w = out.notes.add()
                w.CopyFrom(n)
                w.instrument, w.is_drum = INSTRUMENT[part.role], part.role == "drums"
                w.start_time, w.end_time = n.start_time - start_s, n.end_time - start_s
    out.total_time = end_s - start_s
    return out


@dataclasses.dataclass
class Window:
    index: int
    start_bar: int
    bars: int
    score: float                  # the search's objective at its best z (nats)
    kept_nats_per_step: float     # the kept parts' log-likelihood per step there (without the prior)
    candidates: int               # latent points scored
    fit: float                    # the chosen sample's fit (see `fit`)


@dataclasses.dataclass
class Completion:
    """The completed band: `sequence` holds the kept notes exactly as read plus the new parts
    (instrument numbers past the input's), at the input's tempo map. `segments` are the same
    music cut at the windows, as the renderer takes it (parts by INSTRUMENT)."""
    sequence: note_seq.NoteSequence
    kept: dict[str, KeptPart]
    new_instruments: dict[str, int]
    windows: list[Window]
    segments: list[Segment]
    bars: int


def generated(seq: note_seq.NoteSequence, roles: Sequence[str], bars: int) -> note_seq.NoteSequence:
    """The decoded window's `roles` only, cut at `bars` (at the model's 120 qpm)."""
    out = note_seq.NoteSequence()
    out.tempos.add(qpm=MODEL_QPM)
    end = bars * 4 * 60.0 / MODEL_QPM
    for n in seq.notes:
        role = "drums" if n.is_drum else ("bass" if n.instrument == BASS else "lead")
        if role in roles and n.start_time < end - 1e-6:
            m = out.notes.add()
            m.CopyFrom(n)
            m.end_time = min(n.end_time, end) if not n.is_drum else n.end_time
    out.total_time = end
    return out


def complete(ns: note_seq.NoteSequence, kept: dict[str, KeptPart], model, scorer: Scorer,
             anchors: np.ndarray | None = None, search: Search = Search(), temperature: float = 1.0,
             groove: Groove | None = Groove(), seed: int = 0, progress=None,
             choose: Choose = Choose()) -> Completion:
    """Completes `ns`: the parts not in `kept` are made window by window (see the module
    docstring). `model` encodes and decodes token ids (the numpy engine's `encode`,
    `decode_ids`); `anchors` (n, z) are seed encodings to start the search from; `groove`
    None leaves the new parts on the grid."""
    tempo = TempoMap(ns.tempos)
    bars = bar_count(ns, tempo)
    missing = [r for r in PARTS if r not in kept]
    rng = np.random.default_rng(seed)
    pool = np.zeros((0, model.z_size), np.float32) if anchors is None else np.asarray(anchors, np.float32)
    windows, decoded, previous = [], [], None
    for w, start_bar in enumerate(range(0, bars, WINDOW_BARS)):
        wbars = min(WINDOW_BARS, bars - start_bar)
        steps = wbars * STEPS_PER_BAR
        tokens = {role: part_tokens(part.notes, role, tempo, start_bar * STEPS_PER_BAR, steps)
                  for role, part in kept.items()}
        got = solve_window(model, scorer, tokens, missing, [] if previous is None else [previous],
                           pool, rng, search, temperature, choose)
        kept_ll = float(sum(scorer.log_likelihood(got.zs[:1], r, t)[0] for r, t in tokens.items()))
        windows.append(Window(w, start_bar, wbars, float(got.values[0]), kept_ll / steps / len(tokens),
                              got.scored, got.fit))
        decoded.append(generated(to_sequences(got.ids)[0], missing, wbars))
        previous = got.zs[0]
        if progress:
            progress(windows[-1])
    for i in range(len(decoded) - 1):
        decoded[i], decoded[i + 1], _ = tie_over(decoded[i], decoded[i + 1], WINDOW_BARS * 4 * 60.0 / MODEL_QPM)
    return _assemble(ns, kept, missing, decoded, windows, tempo, groove, seed)


def _assemble(ns, kept, missing, decoded, windows, tempo: TempoMap, groove, seed) -> Completion:
    out = note_seq.NoteSequence()
    out.ticks_per_quarter = ns.ticks_per_quarter or 220
    for t in ns.tempos:
        out.tempos.add().CopyFrom(t)
    if not ns.tempos:
        out.tempos.add(qpm=120.0)
    for ts in ns.time_signatures:
        out.time_signatures.add().CopyFrom(ts)
    if not ns.time_signatures:
        out.time_signatures.add(numerator=4, denominator=4)
    kept_tracks = {i for part in kept.values() for i in part.tracks}
    for info in ns.instrument_infos:      # the kept tracks' names, as they were
        if info.instrument in kept_tracks:
            out.instrument_infos.add().CopyFrom(info)
    for part in kept.values():
        for n in part.notes:
            out.notes.add().CopyFrom(n)
    first_free = max([n.instrument for n in ns.notes] + [-1]) + 1
    new_instruments = {role: first_free + i for i, role in enumerate(missing)}
    for role, instrument in new_instruments.items():
        out.instrument_infos.add(instrument=instrument, name=NEW_TRACK_NAME.format(role=role))
    segments = []
    for win, seq in zip(windows, decoded):
        start_beat = win.start_bar * 4
        placed = place(seq, start_beat, win.bars, tempo, groove, seed, win.index)
        for role, n in placed:
            m = out.notes.add()
            m.CopyFrom(n)
            m.instrument = new_instruments[role]
        start_s = tempo.seconds(start_beat)
        end_s = tempo.seconds(start_beat + 4 * win.bars)
        window_notes = window_sequence(placed, kept, start_s, end_s, first=win.index == 0)
        # the average tempo makes the segment last exactly as long as the window plays
        segments.append(Segment(id=win.index, sequence=window_notes,
                                qpm=4 * win.bars * 60.0 / (end_s - start_s), bars=win.bars,
                                humanized=groove is not None))
    out.total_time = max([n.end_time for n in out.notes] + [tempo.seconds(4 * sum(w.bars for w in windows))])
    return Completion(out, kept, new_instruments, windows, segments, sum(w.bars for w in windows))


def to_midi(completion: Completion, programs: dict[str, int]) -> note_seq.NoteSequence:
    """The completion with GM programs on the new parts (kept parts keep theirs)."""
    out = note_seq.NoteSequence()
    out.CopyFrom(completion.sequence)
    by_instrument = {i: r for r, i in completion.new_instruments.items()}
    for n in out.notes:
        role = by_instrument.get(n.instrument)
        if role and role != "drums":
            n.program = programs[role]
    return out


def programs_for(settings) -> dict[str, int]:
    """The GM programs of the new lead and bass: the settings', else the sound preset's."""
    sound = resolve(settings.sound or "default")
    lead = settings.lead_program if settings.lead_program >= 0 else sound.lead.program
    bass = settings.bass_program if settings.bass_program >= 0 else sound.bass.program
    return {"lead": lead, "bass": bass}
