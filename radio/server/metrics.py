"""`GET /metrics`: the station's counters in Prometheus text format.

Read from the stations when scraped (a custom collector), so the hot paths (publish to
thousands of sockets) only bump plain integers and never touch a metrics library. Every
series carries a `channel` label (station/lineup.py).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily

# (name, help, kind, value of a station): the series with one value per channel
SCALARS = (
    ("radio_generator_lead_seconds", "Rendered audio waiting beyond what is published", "gauge",
     lambda st: st.lead_seconds),
    ("radio_segments_generated", "Segments generated", "counter", lambda st: st.history.next_id),
    ("radio_underrun_seconds", "Seconds of looped fill published because the generator was late", "counter",
     lambda st: st.underrun_seconds),
    ("radio_generator_restarts", "Generator restarts after a failure", "counter", lambda st: st.restarts),
    ("radio_generator_process_restarts", "Generator processes killed (hung) or found dead, and started again",
     "counter", lambda st: st.generator.restarts),
    ("radio_generator_up", "1 while the generator process runs", "gauge", lambda st: 1 if st.generator.up else 0),
    ("radio_pacer_restarts", "Pacer restarts after an exception", "counter", lambda st: st.pacer.restarts),
    ("radio_store_write_errors", "Failed writes of state, votes or history", "counter",
     lambda st: st.store.write_errors),
    ("radio_stream_position_seconds", "Stream seconds published", "gauge", lambda st: st.position),
    ("radio_master_gain_db", "Gain of the master's loudness control", "gauge", lambda st: st.master.gain_db),
    ("radio_output_loudness_lufs", "Gated loudness of the last 6 s of the stream (BS.1770)", "gauge",
     lambda st: st.master.output_lufs),
)
FAMILIES = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily}


class StationCollector:
    def __init__(self, lineup):
        self.lineup = lineup

    def collect(self):
        stations = list(self.lineup.stations.items())
        listeners = GaugeMetricFamily("radio_listeners", "Listeners connected", labels=["channel", "format"])
        sent = CounterMetricFamily("radio_bytes_out", "Bytes written to listeners", labels=["channel", "format"])
        dropped = CounterMetricFamily("radio_listeners_dropped",
                                      "Listeners dropped for lagging behind", labels=["channel", "format"])
        failures = CounterMetricFamily("radio_output_failures", "Failed writes to an output",
                                       labels=["channel", "output"])
        up = GaugeMetricFamily("radio_output_up", "1 while an output takes its writes", labels=["channel", "output"])
        for channel, st in stations:
            for name, stream in st.streams.items():
                listeners.add_metric([channel, name], len(stream.listeners))
                sent.add_metric([channel, name], stream.bytes_out)
                dropped.add_metric([channel, name], stream.dropped)
            for name, health in st.outputs.health().items():
                failures.add_metric([channel, name], health["failures"])
                up.add_metric([channel, name], 1 if health["ok"] else 0)
        yield from (listeners, sent, dropped, failures, up)
        for name, text, kind, value in SCALARS:
            family = FAMILIES[kind](name, text, labels=["channel"])
            for channel, st in stations:
                v = value(st)
                if v is not None:
                    family.add_metric([channel], v)
            yield family
        timings = {}
        for channel, st in stations:
            for stage, (count, total) in st.gen.timings.items():
                timings.setdefault(stage, []).append((channel, count, total))
        for stage, rows in timings.items():
            family = SummaryMetricFamily(f"radio_{stage}_seconds", f"Wall seconds per segment in {stage}",
                                         labels=["channel"])
            for channel, count, total in rows:
                family.add_metric([channel], count_value=count, sum_value=total)
            yield family


def registry_for(lineup) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StationCollector(lineup))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
