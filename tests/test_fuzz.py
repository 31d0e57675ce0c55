"""Property-based fuzz of the whole HTTP interface: schemathesis (hypothesis under it) sends
what radio/server/openapi.py allows, and what it does not, to a running station with a scratch
data folder: public routes without the token, admin routes with it. No answer may be a 5xx
(other than a documented 503), every answer must match the document, the log must hold no
traceback, and the station must be healthy afterwards. The run takes at most
`BUDGET_SECONDS` of requests (about 2 minutes with the station's start)."""

import logging
import time

import pytest
import schemathesis
from conftest import ADMIN_TOKEN, running_station
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from test_server import wait_until_playing

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BUDGET_SECONDS = 120.0
EXAMPLES = 80        # per operation and generation mode


@pytest.fixture(scope="module")
def scratch_station(tmp_path_factory):
    # one channel at most: a fuzzed POST /api/channels is checked and refused, not started
    with running_station(data=str(tmp_path_factory.mktemp("fuzz-data")), admin_token=ADMIN_TOKEN,
                         max_channels=1) as url:
        yield url


def _fuzz(base, operation, mode, headers, deadline, counts):
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        if time.monotonic() > deadline:
            return
        if headers:      # negative cases may spoil the token too: that is test_hostile's job
            case.headers = {**(case.headers or {}), **headers}
        response = case.call(base_url=base, headers=headers, timeout=30)
        counts["requests"] += 1
        code = response.status_code
        counts[code] = counts.get(code, 0) + 1
        key = f"{case.method} {operation.path}"
        counts.setdefault("by_operation", {}).setdefault(key, {})
        counts["by_operation"][key][code] = counts["by_operation"][key].get(code, 0) + 1
        assert code < 500 or code == 503, (case.method, case.formatted_path, code, response.text[:300])
        case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                 response_headers_conformance, response_schema_conformance])
    run()


def test_fuzz_the_documented_interface(scratch_station, caplog):
    caplog.set_level(logging.WARNING)
    wait_until_playing(scratch_station)
    schema = schemathesis.openapi.from_url(scratch_station + "/api/openapi.json")
    counts = {"requests": 0}
    t0 = time.monotonic()
    deadline = t0 + BUDGET_SECONDS
    fuzzed = []
    # the drill last: its refused tokens lock this address out of the admin API for a minute
    operations = sorted((r.ok() for r in schema.get_all_operations()), key=lambda op: op.path == "/api/drill")
    for op in operations:
        spec = op.definition.raw
        if spec.get("x-stream"):
            continue                       # the audio never ends; tests/test_server.py plays it
        admin = spec.get("x-admin", False)
        # fault drills crash or stall the generator on purpose: fuzzed without the token
        # (every one refused), their checks are in tests/test_hostile.py and test_api.py
        headers = ADMIN if admin and op.path != "/api/drill" else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(scratch_station, op, mode, headers, deadline, counts)
            except Exception as e:
                if "Unsatisfiable" in type(e).__name__ or "no negative" in str(e).lower() \
                        or "cannot generate" in str(e).lower():
                    continue               # nothing to negate (no parameters, no body)
                raise
        fuzzed.append(f"{op.method.upper()} {op.path}")
    took = time.monotonic() - t0
    print(f"\nfuzz: {counts['requests']} requests over {len(fuzzed)} operations in {took:.1f} s; "
          f"statuses {dict(sorted((k, v) for k, v in counts.items() if isinstance(k, int)))}")
    for key, codes in sorted(counts.get("by_operation", {}).items()):
        print(f"  {key}: {dict(sorted(codes.items()))}")
    assert counts["requests"] > 100 and took < 180
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records
                  if r.exc_info or (r.name.startswith("aiohttp") and r.levelno >= logging.ERROR)]
    assert not tracebacks, tracebacks
    import requests
    for _ in range(120):                    # a mix the fuzzer set may have the fill cover a bar
        health = requests.get(scratch_station + "/healthz", timeout=10).json()
        if health["status"] == "ok":
            break
        time.sleep(0.5)
    assert health["status"] == "ok", health
