/**
 * The real collector against an otel-sigma that cannot keep up and then is gone:
 * 1. overloaded (one worker, a queue of one, sixteen exporter consumers): otel-sigma answers
 *    RESOURCE_EXHAUSTED with RetryInfo, the collector retries, and once it drains nothing is lost;
 * 2. stopped for a minute: records sent meanwhile wait in the exporter's persistent queue (file_storage);
 *    the collector itself is restarted during the outage, and after otel-sigma is back every detection
 *    arrives, once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { freePort, startCollector, until, type Collector } from '../../helpers/collector.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { hitSource, storedDetections, tally } from './records.ts';

const OUTAGE_S = 60;
const OVERLOAD_REQUESTS = 40;
const OUTAGE_REQUESTS = 20;
const PER_REQUEST = 250;

const processed = async (svc: ServiceProcess): Promise<number> =>
  Number(/^otel_sigma_records_processed_total (\d+)/m.exec(await (await fetch(`http://${svc.http}/metrics`)).text())?.[1] ?? 0);

describe('collector retries and persistent queue' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-retry-'));
  const running: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test(`overload is retried (RESOURCE_EXHAUSTED + RetryInfo), and a ${OUTAGE_S} s outage with a collector restart loses nothing (persistent queue)`, { timeout: 150_000 }, async () => {
    const src = hitSource();
    const rules = path.join(tmp, 'rules');
    src.writeRule(rules);
    const dataDir = path.join(tmp, 'data');
    const sigmaGrpc = `127.0.0.1:${await freePort()}`;
    const sigmaHttp = `127.0.0.1:${await freePort()}`;
    const collectorGrpc = `127.0.0.1:${await freePort()}`;
    fs.mkdirSync(path.join(tmp, 'storage'));
    const serve = async (): Promise<ServiceProcess> => {
      const s = await startServe(['--rules', rules, '--data-dir', dataDir, '--workers', '1', '--max-queue', '1', '--grpc-listen', sigmaGrpc, '--http-listen', sigmaHttp]);
      running.push(s);
      return s;
    };
    const config = `
extensions:
  file_storage: { directory: ${path.join(tmp, 'storage')} }
receivers:
  otlp:
    protocols: { grpc: { endpoint: ${collectorGrpc} } }
processors:
  batch: { send_batch_size: 500, timeout: 200ms }
exporters:
  otlp/sigma:
    endpoint: ${sigmaGrpc}
    tls: { insecure: true }
    sending_queue: { enabled: true, storage: file_storage, num_consumers: 16, queue_size: 5000 }
    retry_on_failure: { enabled: true, initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 0s }
service:
  extensions: [file_storage]
  pipelines:
    logs: { receivers: [otlp], processors: [batch], exporters: [otlp/sigma] }
`;
    const collector = async (): Promise<Collector> => {
      const c = await startCollector(tmp, config);
      running.push(c);
      return c;
    };
    const send = async (first: number, requests: number): Promise<void> => {
      await Promise.all(Array.from({ length: requests }, async (_, r) => {
        const res = await sendGrpcExport(collectorGrpc, src.request(first + r * PER_REQUEST, PER_REQUEST, `host-${r % 3}`), { gzip: false });
        assert.equal(res.code, status.OK, res.details);
      }));
    };

    // 1. Overload.
    let svc = await serve();
    let col = await collector();
    const overloadRecords = OVERLOAD_REQUESTS * PER_REQUEST;
    await send(0, OVERLOAD_REQUESTS);
    await until('otel-sigma to drain the overload', async () => (await processed(svc)) >= overloadRecords, 90_000);
    const metrics = await (await fetch(`http://${svc.http}/metrics`)).text();
    const pushedBack = Number(/^otel_sigma_errors_total\{stage="receive",code="ERR_BACKPRESSURE"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    const retriesLogged = col.count(/Exporting failed\. Will retry/);
    const exhaustedRetries = col.count(/Exporting failed\. Will retry.*ResourceExhausted/);
    assert.ok(pushedBack > 0, 'otel-sigma was overloaded and pushed back');
    assert.ok(exhaustedRetries > 0, `the collector retried RESOURCE_EXHAUSTED (${retriesLogged} retries logged)`);
    assert.equal(col.count(/Exporting failed\. Dropping data/), 0, 'the collector dropped nothing');

    // 2. Outage: otel-sigma stops, records keep coming, the collector restarts, otel-sigma comes back.
    assert.equal(await svc.stop(), 0);
    const outageStart = Date.now();
    await send(overloadRecords, OUTAGE_REQUESTS);
    await col.waitFor(/Exporting failed\. Will retry.*(Unavailable|connection refused)/);
    assert.equal(await col.stop(), 0);
    col = await collector();
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_S * 1000 - (Date.now() - outageStart))));
    svc = await serve();
    const total = overloadRecords + OUTAGE_REQUESTS * PER_REQUEST;
    await until('every queued record to reach otel-sigma after the outage', async () => (await processed(svc)) >= OUTAGE_REQUESTS * PER_REQUEST, 60_000);
    assert.equal(await col.stop(), 0);
    assert.equal(await svc.stop(), 0);
    assert.equal(col.count(/Exporting failed\. Dropping data/), 0, 'the collector dropped nothing');

    const rows = (await storedDetections(dataDir)).filter((d) => d.rule_id === src.c.rule_id);
    const t = tally(Array.from({ length: total }, (_, i) => src.eventTime(i)), rows.map((d) => d.event_time));
    console.log(`retry+outage: ${total} records sent (${overloadRecords} overload, ${OUTAGE_REQUESTS * PER_REQUEST} during a ${Math.round((Date.now() - outageStart) / 1000)} s outage), ` +
      `pushed back ${pushedBack} requests, collector retries logged ${retriesLogged} (${exhaustedRetries} RESOURCE_EXHAUSTED), stored ${rows.length}, lost ${t.missing.length}, repeated ${t.repeated.length}`);
    assert.deepEqual({ lost: t.missing.length, repeated: t.repeated.length, extra: t.extra }, { lost: 0, repeated: 0, extra: 0 });
  });
});
