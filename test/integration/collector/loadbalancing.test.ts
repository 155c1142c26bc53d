/**
 * One collector, two otel-sigma replicas: the load_balancing exporter routes by the resource attribute
 * host.name (routing_key: attributes), so every host's records go to one replica (per-host state such as
 * alert dedup stays in one place) and the hosts are spread over both.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { freePort, loadBalancingConfig, startCollector, until } from '../../helpers/collector.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { sendGrpcExport } from '../../helpers/otlp-clients.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { hitSource, storedDetections, tally } from './records.ts';

// 24 hosts: the chance that a consistent-hash ring puts all of them on one of two replicas is 2^-23.
const HOSTS = 24;
const REQUESTS_PER_HOST = 2;
const PER_REQUEST = 10;

const processed = async (svc: ServiceProcess): Promise<number> =>
  Number(/^otel_sigma_records_processed_total (\d+)/m.exec(await (await fetch(`http://${svc.http}/metrics`)).text())?.[1] ?? 0);

describe('collector load_balancing over two otel-sigma replicas' + (hasCorpus ? '' : ' (skipped: ../shared/sigma regression corpus not present)'), { skip: !hasCorpus }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-lb-'));
  const running: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test(`routed by resource host.name: each of ${HOSTS} hosts on exactly one replica, both replicas used, nothing lost`, { timeout: 120_000 }, async () => {
    const src = hitSource();
    const rules = path.join(tmp, 'rules');
    src.writeRule(rules);
    const replicas = await Promise.all(['a', 'b'].map((n) => startServe(['--rules', rules, '--workers', '1', '--data-dir', path.join(tmp, `data-${n}`)])));
    running.push(...replicas);
    const collectorGrpc = `127.0.0.1:${await freePort()}`;
    const col = await startCollector(tmp, loadBalancingConfig(collectorGrpc, replicas.map((r) => r.grpc), 200));
    running.push(col);
    const hostOf = new Map<number, string>();
    let next = 0;
    for (let round = 0; round < REQUESTS_PER_HOST; round++) {
      for (let h = 0; h < HOSTS; h++) {
        const host = `lb-host-${h}`;
        for (let k = 0; k < PER_REQUEST; k++) hostOf.set(next + k, host);
        const res = await sendGrpcExport(collectorGrpc, src.request(next, PER_REQUEST, host), { gzip: false });
        assert.equal(res.code, status.OK, res.details);
        next += PER_REQUEST;
      }
    }
    const total = next;
    await until('both replicas together to process every record', async () => (await processed(replicas[0]!)) + (await processed(replicas[1]!)) >= total);
    assert.equal(await col.stop(), 0);
    for (const r of replicas) assert.equal(await r.stop(), 0);

    const perReplica = await Promise.all(['a', 'b'].map(async (n) => (await storedDetections(path.join(tmp, `data-${n}`))).filter((d) => d.rule_id === src.c.rule_id)));
    const replicaOfHost = new Map<string, Set<number>>();
    perReplica.forEach((rows, i) => { for (const d of rows) (replicaOfHost.get(d.host) ?? replicaOfHost.set(d.host, new Set()).get(d.host)!).add(i); });
    const split = [...replicaOfHost].filter(([, s]) => s.size > 1).map(([h]) => h);
    const hostsPer = [0, 1].map((i) => [...replicaOfHost.values()].filter((s) => s.has(i)).length);
    const t = tally(Array.from({ length: total }, (_, i) => src.eventTime(i)), perReplica.flat().map((d) => d.event_time));
    console.log(`load_balancing: ${total} records from ${HOSTS} hosts, replica a ${perReplica[0]!.length} detections (${hostsPer[0]} hosts), replica b ${perReplica[1]!.length} (${hostsPer[1]} hosts), lost ${t.missing.length}, repeated ${t.repeated.length}`);
    assert.equal(replicaOfHost.size, HOSTS, 'every host was stored with its host.name');
    assert.deepEqual(split, [], 'no host is split across replicas');
    assert.ok(hostsPer[0]! > 0 && hostsPer[1]! > 0, `both replicas got hosts: ${hostsPer.join(' / ')}`);
    assert.deepEqual({ lost: t.missing.length, repeated: t.repeated.length, extra: t.extra }, { lost: 0, repeated: 0, extra: 0 });
  });
});
