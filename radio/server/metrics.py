"""`GET /metrics`: the station's counters in Prometheus text format.

Read from the station when scraped (a custom collector), so the hot paths (publish to
thousands of sockets) only bump plain integers and never touch a metrics library.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily


class StationCollector:
    def __init__(self, station):
        self.station = station

    def collect(self):
        st = self.station
        listeners = GaugeMetricFamily("radio_listeners", "Listeners connected", labels=["format"])
        sent = CounterMetricFamily("radio_bytes_out", "Bytes written to listeners", labels=["format"])
        dropped = CounterMetricFamily("radio_listeners_dropped",
                                      "Listeners dropped for lagging behind", labels=["format"])
        for name, stream in st.streams.items():
            listeners.add_metric([name], len(stream.listeners))
            sent.add_metric([name], stream.bytes_out)
            dropped.add_metric([name], stream.dropped)
        yield from (listeners, sent, dropped)
        yield GaugeMetricFamily("radio_generator_lead_seconds",
                                "Rendered audio waiting beyond what is published", value=st.lead_seconds)
        yield CounterMetricFamily("radio_segments_generated", "Segments generated",
                                  value=st.history.next_id)
        yield CounterMetricFamily("radio_underrun_seconds",
                                  "Seconds of looped fill published because the generator was late",
                                  value=st.underrun_seconds)
        yield CounterMetricFamily("radio_generator_restarts", "Generator restarts after a failure",
                                  value=st.restarts)
        yield CounterMetricFamily("radio_generator_process_restarts",
                                  "Generator processes killed (hung) or found dead, and started again",
                                  value=st.generator.restarts)
        yield GaugeMetricFamily("radio_generator_up", "1 while the generator process runs",
                                value=1 if st.generator.up else 0)
        yield CounterMetricFamily("radio_pacer_restarts", "Pacer restarts after an exception",
                                  value=st.pacer.restarts)
        failures = CounterMetricFamily("radio_output_failures", "Failed writes to an output",
                                       labels=["output"])
        up = GaugeMetricFamily("radio_output_up", "1 while an output takes its writes", labels=["output"])
        for name, health in st.outputs.health().items():
            failures.add_metric([name], health["failures"])
            up.add_metric([name], 1 if health["ok"] else 0)
        yield from (failures, up)
        yield CounterMetricFamily("radio_store_write_errors", "Failed writes of state, votes or history",
                                  value=st.store.write_errors)
        yield GaugeMetricFamily("radio_stream_position_seconds", "Stream seconds published",
                                value=st.position)
        yield GaugeMetricFamily("radio_master_gain_db", "Gain of the master's loudness control",
                                value=st.master.gain_db)
        level = st.master.output_lufs
        if level is not None:
            yield GaugeMetricFamily("radio_output_loudness_lufs",
                                    "Gated loudness of the last 6 s of the stream (BS.1770)", value=level)
        for stage, (count, total) in st.gen.timings.items():
            yield SummaryMetricFamily(f"radio_{stage}_seconds", f"Wall seconds per segment in {stage}",
                                      count_value=count, sum_value=total)


def registry_for(station) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StationCollector(station))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
