"""Converts Sigma rule files with pySigma's ClickHouse backend (pysigma-backend-clickhouse) for
scripts/compare-pysigma.ts: one JSON line per rule on stdout, {"file", "id", "sql"} or {"file", "id", "error"}.

What it is pointed at (the backend targets one flat table whose columns are the Sigma field names):
- table `sigma_logs`: a view compare-pysigma.ts creates over signoz_logs.logs_v2, one column per Sigma
  field, read from the row's body as otel-sigma's converter reads it;
- keyword searches: `hasToken(sigma_body, ...)` (the backend's full_log column = the body text);
- Windows `service:` logsources: a Channel condition, pySigma's own generate_windows_logsource_items
  (the backend ships no category → EventID mapping, so category rules carry no logsource condition);
- numbers compared as text (ConvertTypeTransformation "str"): the view's columns are strings, and
  ClickHouse refuses String = 4688 ("no supertype").

Usage: python compare-pysigma.py RULE_FILE...
"""

import json
import sys

from sigma.backends.clickhouse import ClickhouseBackend
from sigma.collection import SigmaCollection
from sigma.pipelines.common import generate_windows_logsource_items
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import ConvertTypeTransformation


def main(files: list[str]) -> None:
    pipeline = ProcessingPipeline(
        name="otel-sigma comparison: SigNoz logs_v2 through a view",
        priority=20,
        items=[
            *generate_windows_logsource_items("Channel", "{source}"),
            ProcessingItem(identifier="numbers_as_text", transformation=ConvertTypeTransformation("str")),
        ],
    )
    backend = ClickhouseBackend(processing_pipeline=pipeline, table_name="sigma_logs", full_log_column="sigma_body")
    for file in files:
        try:
            with open(file, encoding="utf-8") as f:
                collection = SigmaCollection.from_yaml(f.read())
        except Exception as e:  # a file pySigma cannot parse: reported, not fatal
            print(json.dumps({"file": file, "id": "", "error": f"parse: {e}"}))
            continue
        for rule in collection.rules:
            rid = str(getattr(rule, "id", "") or "")
            try:
                queries = backend.convert_rule(rule)
                print(json.dumps({"file": file, "id": rid, "sql": queries}))
            except Exception as e:
                print(json.dumps({"file": file, "id": rid, "error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main(sys.argv[1:])
