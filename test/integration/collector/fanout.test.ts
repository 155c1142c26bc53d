/**
 * SigNoz's fan-out shape with the real collector: OTLP in, one batch processor, then two exporters, the
 * otel-sigma one (plaintext loopback, token in `headers:` as collector-config/signoz-collector-fanout.yaml
 * ships it) and a second OTLP sink standing in for clickhouselogsexporter. Every record reaches both, and
 * otel-sigma stores each detection once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { freePort, startCollector, startOtlpSink, until } from '../../helpers/collector.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { startServe } from '../../helpers/service-process.ts';
import { hitSource, storedDetections, tally } from './records.ts';

const TOKEN = 'fanout-token-5d1c';
const REQUESTS = 20;
const PER_REQUEST = 25;

describe('collector fan-out to otel-sigma and a second sink' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-fanout-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test(`batch before two exporters: ${REQUESTS * PER_REQUEST} records reach both, each detection stored once`, async () => {
    const src = hitSource();
    src.writeRule(path.join(tmp, 'rules'));
    const dataDir = path.join(tmp, 'data');
    const svc = await startServe(['--rules', path.join(tmp, 'rules'), '--data-dir', dataDir, '--workers', '1', '--auth-token', TOKEN]);
    const sink = await startOtlpSink();
    const grpcAddress = `127.0.0.1:${await freePort()}`;
    const col = await startCollector(tmp, `
receivers:
  otlp:
    protocols: { grpc: { endpoint: ${grpcAddress} } }
processors:
  batch: { send_batch_size: 100, timeout: 200ms }
exporters:
  otlp/clickhouse-standin:
    endpoint: ${sink.address}
    tls: { insecure: true }
  otlp/sigma:
    endpoint: ${svc.grpc}
    tls: { insecure: true }
    headers: { authorization: "Bearer \${env:OTEL_SIGMA_TOKEN}" }
    compression: gzip
    sending_queue: { enabled: true, num_consumers: 4, queue_size: 2000 }
    retry_on_failure: { enabled: true, initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 120s }
service:
  telemetry: { logs: { level: info } }
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/clickhouse-standin, otlp/sigma]
`, { env: { OTEL_SIGMA_TOKEN: TOKEN } }).catch(async (e: unknown) => { await svc.stop('SIGKILL'); await sink.close(); throw e; });
    for (let r = 0; r < REQUESTS; r++) {
      const res = await sendGrpcExport(grpcAddress, src.request(r * PER_REQUEST, PER_REQUEST, `host-${r % 4}`), { gzip: false });
      assert.equal(res.code, status.OK, res.details);
    }
    const total = REQUESTS * PER_REQUEST;
    await until(`the sink to get ${total} records`, () => sink.records.length >= total);
    await until('otel-sigma to have processed every record', async () => {
      const m = await (await fetch(`http://${svc.http}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      return Number(/^otel_sigma_records_processed_total (\d+)/m.exec(m)?.[1] ?? 0) >= total;
    });
    assert.equal(await col.stop(), 0);
    assert.equal(await svc.stop(), 0);
    await sink.close();

    const expected = Array.from({ length: total }, (_, i) => src.eventTime(i));
    const s = tally(Array.from({ length: total }, (_, i) => src.timeNs(i)), sink.records.map((r) => r.timeUnixNano));
    assert.deepEqual({ missing: s.missing.length, extra: s.extra }, { missing: 0, extra: 0 }, 'the stand-in sink got every record');
    const rows = (await storedDetections(dataDir)).filter((d) => d.rule_id === src.c.rule_id);
    const t = tally(expected, rows.map((d) => d.event_time));
    console.log(`fan-out: ${total} records sent, sink ${sink.records.length}, detections stored ${rows.length}, missing ${t.missing.length}, repeated ${t.repeated.length}`);
    assert.deepEqual({ missing: t.missing.length, repeated: t.repeated.length, extra: t.extra }, { missing: 0, repeated: 0, extra: 0 });
  });
});
