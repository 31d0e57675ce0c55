"""`radio learn SET` as the admin API's background job (POST /api/learn), beside the music.

One job at a time, in a child process (`python -m radio learn`) at the lowest CPU priority
there is (SCHED_IDLE, nice 19): it gets only the time the station's generator and encoders
leave, so the stream never waits on it. Its output goes to `<data>/train/learn-SET.log`,
whose progress bar gives the step and the time left. Cancelling is Ctrl-C (SIGINT): the
training saves and keeps its work folder, so the next job on that set goes on from there.
When the job ends, the set's manifest names its model, and the generator plays it when
the mix plays that set alone (generator/models.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path

from ..contracts import RadioError
from ..support import extras

PROGRESS = re.compile(rb"train:[^\r\n]*?(\d+)/(\d+) \[[0-9:]+<([0-9:?]+)")   # its tqdm bar
CANCEL_WAIT = 60.0        # seconds Ctrl-C may take (a step under way, the save) before SIGKILL


class LearnJobError(RadioError):
    """A job refused; `status` is the HTTP answer (409: one runs, or no train extra)."""
    status = 400


def _seconds(clock: bytes) -> int | None:
    try:
        parts = [int(p) for p in clock.decode().split(":")]
    except ValueError:
        return None
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))


def lowest_priority(pid: int) -> None:
    """SCHED_IDLE and nice 19 for `pid` (the threads it starts later inherit them)."""
    try:
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 19)
    except OSError:
        pass


class Learner:
    def __init__(self, settings, missing=extras.missing, lower=lowest_priority):
        """`missing`: the train extra's modules not installed; `lower`: what lowers the
        job's priority, given its pid (tests: the same, or nothing to run at full speed)."""
        self.settings, self._missing, self._lower = settings, missing, lower
        self.job: dict | None = None               # the last job: set, state, step, steps, …
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task | None = None
        self._cancelled = False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def log_path(self, set_name: str) -> Path:
        return Path(self.settings.data) / "train" / f"learn-{set_name}.log"

    async def start(self, set_name, steps: int | None = None, patience: int | None = None,
                    flags: tuple[str, ...] = ()) -> dict:
        """Starts learning `set_name` (`flags`: more of `radio learn`'s, for tests and benches)."""
        if self.running:
            raise LearnJobError(f"learning {self.job['set']!r} is under way: one job at a time "
                                "(DELETE /api/learn cancels it)", 409)
        gone = self._missing()
        if gone:
            raise LearnJobError(f"learning needs the train extra ({', '.join(gone)} not installed); "
                                f"{extras.HOW}", 409)
        if not isinstance(set_name, str):
            raise LearnJobError("set: name the seed set to learn, e.g. {\"set\": \"band\"}")
        from ..music.seedsets import station_library  # here: the server process imports no note_seq
        station_library(self.settings).learnable(set_name)    # SeedSetError: 404, or too few files
        log = self.log_path(set_name)
        log.parent.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "radio", "learn", set_name, "--data", str(self.settings.data),
                "--model", str(self.settings.model)]
        if self.settings.seeds:
            args += ["--seeds", str(self.settings.seeds)]
        args += [f"--{k}={v}" for k, v in (("steps", steps), ("patience", patience)) if v is not None] + list(flags)
        with open(log, "wb") as out:
            self._proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                env={**os.environ, "TF_USE_LEGACY_KERAS": "1"})
        self._lower(self._proc.pid)
        self._cancelled = False
        self.job = {"set": set_name, "state": "running", "pid": self._proc.pid, "started": time.time(),
                    "step": None, "steps": None, "seconds_left": None, "exit_code": None, "message": None}
        self._task = asyncio.create_task(self._watch(self._proc, log))
        return self.status()

    async def _watch(self, proc, log: Path) -> None:
        while proc.returncode is None:
            self._progress(log)
            try:
                await asyncio.wait_for(proc.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
        self._progress(log)
        lines = [ln for ln in _tail(log).decode("utf-8", "replace").replace("\r", "\n").splitlines() if ln.strip()]
        state = "cancelled" if self._cancelled else "done" if proc.returncode == 0 else "failed"
        self.job.update(state=state, exit_code=proc.returncode, pid=None, seconds_left=None,
                        message=lines[-1][-300:] if lines else None)

    def _progress(self, log: Path) -> None:
        found = PROGRESS.findall(_tail(log))
        if found:
            step, steps, left = found[-1]
            self.job.update(step=int(step), steps=int(steps), seconds_left=_seconds(left))

    async def cancel(self) -> dict:
        """Ctrl-C to the job (it saves, and the next job on the set resumes); SIGKILL after
        CANCEL_WAIT seconds."""
        if not self.running:
            raise LearnJobError("no learning job is running", 404)
        self._cancelled = True
        proc = self._proc
        try:
            os.killpg(proc.pid, signal.SIGINT)
            await asyncio.wait_for(proc.wait(), CANCEL_WAIT)
        except asyncio.TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        except ProcessLookupError:
            pass
        await self._task
        return self.status()

    def status(self) -> dict | None:
        """The job as /api/learn, /api/seeds and /healthz show it (None: none since start)."""
        return None if self.job is None else dict(self.job)

    async def close(self) -> None:
        if self.running:
            await self.cancel()


def _tail(path: Path, size: int = 8192) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - size))
            return f.read()
    except OSError:
        return b""
