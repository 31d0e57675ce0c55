"""The 2-minute soak (bench/soak.py): 50 listeners on the real station while fault drills
crash, kill and stall its generator; no gap in what they hear, every listener at full rate."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "soak.py"


def test_two_minute_soak_with_crash_kill_and_stall_drills():
    proc = subprocess.run([sys.executable, str(BENCH), "--minutes", "2", "--listeners", "50"],
                          capture_output=True, text=True, timeout=600)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    print("\n" + proc.stdout)
    assert proc.returncode == 0, (summary, proc.stderr[-2000:])
    assert summary["drills"] == ["crash", "kill", "stall"]
    assert summary["generator_restarts"] >= 2 and summary["fill_seconds"] > 0   # the drills bit
    assert all(r["silences_1s"] == 0 and r["decoder_errors"] == 0 and r["seconds"] >= 110
               for r in summary["recordings"])
    assert summary["full_rate_share"] >= 0.99
