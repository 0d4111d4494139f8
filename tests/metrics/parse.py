#!/usr/bin/env python3
"""Parses Prometheus text exposition (stdin) with the Prometheus project's
own Python parser (`prometheus_client.parser`) and prints it as JSON:
{"families": [{"name", "type", "help"}], "samples": [{"name", "labels", "value"}]}.

The Rust metrics tests (crates/edge/tests/it/metrics.rs) call it, so that
what the services serve is checked by a real parser, not by our own.
Exit status 3 when prometheus_client is missing (`pip install
prometheus-client`; `just test-rust` installs it).
"""

import json
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print(
        "prometheus_client is not installed: pip install 'prometheus-client==0.26.0' "
        "(just test-rust does)",
        file=sys.stderr,
    )
    sys.exit(3)

families = []
samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({"name": family.name, "type": family.type, "help": family.documentation})
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
json.dump({"families": families, "samples": samples}, sys.stdout)
