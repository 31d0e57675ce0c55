"""Statistics of trio NoteSequences, for comparing a model's output with its data.

All take sequences at the model's grid (16 bars, 16 steps a bar) and, unless `qpm` says
otherwise, 120 qpm (what the converter and the model write).
"""

from __future__ import annotations

import numpy as np

from .segment import BASS, LEAD

BARS, STEPS = 16, 16


def _step_s(qpm: float) -> float:
    return 60.0 / qpm / 4


def parts(ns) -> set[str]:
    return {"drums" if n.is_drum else ("bass" if n.instrument == BASS else "lead") for n in ns.notes}


def pitches_per_bar(ns, instrument: int, qpm: float = 120.0) -> list[int]:
    """Distinct pitches each bar of one part starts."""
    bar_s = 16 * _step_s(qpm)
    out = [set() for _ in range(BARS)]
    for n in ns.notes:
        if not n.is_drum and n.instrument == instrument:
            bar = int(n.start_time / bar_s + 1e-6)
            if 0 <= bar < BARS:
                out[bar].add(n.pitch)
    return [len(s) for s in out]


def drum_eighths_share(ns, qpm: float = 120.0) -> float:
    """Share of drum onsets on the eighth-note grid (grooves sit mostly there; noise spreads
    evenly over the sixteenths, so it scores about 0.5)."""
    steps = [round(n.start_time / _step_s(qpm)) for n in ns.notes if n.is_drum]
    return float(np.mean([s % 2 == 0 for s in steps])) if steps else float("nan")


def summary(sequences, qpm: float = 120.0) -> dict[str, float]:
    """Means over sequences: all three parts sounding, drum onsets on eighths, distinct
    pitches per bar (lead, bass), share of lead/bass bars with ≤ 1 pitch, notes per bar."""
    sequences = list(sequences)
    lead = [pitches_per_bar(ns, LEAD, qpm) for ns in sequences]
    bass = [pitches_per_bar(ns, BASS, qpm) for ns in sequences]
    single = [c <= 1 for rows in (lead, bass) for row in rows for c in row]
    drums = [drum_eighths_share(ns, qpm) for ns in sequences]
    counts = {p: np.mean([sum(1 for n in ns.notes if (("drums" if n.is_drum else
                                                      ("bass" if n.instrument == BASS else "lead")) == p))
                          for ns in sequences]) / BARS for p in ("lead", "bass", "drums")}
    return {
        "all three parts": float(np.mean([parts(ns) == {"lead", "bass", "drums"} for ns in sequences])),
        "drum onsets on eighths": float(np.nanmean(drums)) if not np.all(np.isnan(drums)) else float("nan"),
        "lead pitches/bar": float(np.mean(lead)),
        "bass pitches/bar": float(np.mean(bass)),
        "bars with ≤1 pitch": float(np.mean(single)),
        "lead notes/bar": float(counts["lead"]),
        "bass notes/bar": float(counts["bass"]),
        "drum notes/bar": float(counts["drums"]),
    }
