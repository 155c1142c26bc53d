/**
 * `hunt --follow` picks up rows inserted after it started, including rows inserted late (timestamp
 * behind the watermark, inside the lookback), and stores each detection exactly once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ruleset } from '../../../src/detect/ruleset.ts';
import { followHunt, type FollowStatus } from '../../../src/hunt/follow.ts';
import { huntFingerprints } from '../../../src/hunt/reader.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';
import type { LogsourceMapping } from '../../../src/map/types.ts';
import type { ClickHouseHandle } from '../../../src/store/client.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { corpusRows, corpusRuleset, detectionsTable, multiset, openStore, streamDetections, type CorpusRow } from './setup.ts';
import { createLogsTable, insertRows, signozRow } from './signoz-table.ts';

const SKIP = hasCorpus ? '' : ' (skipped: ../shared/sigma/regression is absent)';
const SEC = 1_000_000_000n;

let store: { ch: ClickHouseHandle; cleanup: () => Promise<void> };
let mapping: LogsourceMapping;
let rs: Ruleset;
let rows: CorpusRow[];

describe(`hunt --follow${SKIP}`, { skip: !hasCorpus }, () => {
  before(async () => {
    store = openStore('otel-sigma-follow-');
    mapping = loadLogsourceMapping();
    rs = corpusRuleset(mapping);
    // records whose rules fire, in the signoz shape
    rows = corpusRows(['signoz']).filter((r) => streamDetections([r.record], rs, mapping).length > 0).slice(0, 60);
    await createLogsTable(store.ch.client);
  });
  after(async () => store?.cleanup());

  test('new rows and late rows are hunted, each detection stored once', async (t) => {
    assert.ok(rows.length >= 30);
    const writer = await detectionsTable(store.ch, 'follow');
    const base = 1_800_000_000n * SEC;
    // timestamps of our own choosing: first third at base+i s, the rest later; the late batch goes behind the watermark
    const at = (i: number): bigint => base + BigInt(i) * SEC;
    const first = rows.slice(0, 20).map((r, i) => signozRow(r.record, at(i + 10)));
    const second = rows.slice(20, 40).map((r, i) => signozRow(r.record, at(i + 100)));
    const late = rows.slice(40).map((r, i) => signozRow(r.record, at(i + 50))); // behind the watermark (≈ base+119 s), within the lookback
    const tooOld = signozRow(rows[0]!.record, base - 3600n * SEC); // before the start: never hunted
    await insertRows(store.ch.client, [...first, tooOld]);

    const stop = new AbortController();
    const polls: FollowStatus[] = [];
    let waiters: { until: (s: FollowStatus) => boolean; resolve: () => void }[] = [];
    const reached = (until: (s: FollowStatus) => boolean): Promise<void> => new Promise((resolve) => waiters.push({ until, resolve }));
    const running = followHunt({
      client: store.ch.client, ruleset: rs, mapping, fromNs: base, pageSize: 7, intervalMs: 30, lookbackNs: 600n * SEC, sink: writer, signal: stop.signal,
      onPoll: (s) => {
        polls.push(s);
        waiters = waiters.filter((w) => (w.until(s) ? (w.resolve(), false) : true));
      },
    });
    t.after(() => stop.abort());
    await reached((s) => s.rows === 20);
    await insertRows(store.ch.client, second);
    await reached((s) => s.rows === 40);
    assert.equal(polls.at(-1)!.watermarkNs, at(119));
    await insertRows(store.ch.client, late);
    await reached((s) => s.rows === 40 + late.length);
    // a few idle polls re-reading the lookback window must not store anything again
    const n = polls.length;
    await reached(() => polls.length >= n + 3);
    stop.abort();
    const end = await running;
    await writer.close();
    assert.ok(end.skipped > 0, 'the lookback re-read rows already done');

    const r = await store.ch.client.query({ query: 'SELECT fingerprint, rule_id FROM otel_sigma.follow', format: 'JSONEachRow' });
    const got = await r.json<{ fingerprint: string; rule_id: string }>();
    const allRecords = [...first, ...second, ...late].map((row, i) => ({ ...rows[i]!.record, timeUnixNano: String(row['timestamp']) }));
    const want = streamDetections(allRecords, rs, mapping);
    assert.equal(got.length, want.length);
    assert.deepEqual(multiset(got.map((d) => d.rule_id)), multiset(want.map((d) => d.ruleId)));
    assert.equal(new Set(got.map((d) => d.fingerprint)).size, got.length, 'a detection stored twice');

    // a restart (no memory of seen ids) re-reads the window; stored fingerprints keep it exactly once
    const writer2 = await detectionsTable(store.ch, 'follow');
    const stop2 = new AbortController();
    let firstPoll: FollowStatus | undefined;
    const restarted = followHunt({
      client: store.ch.client, ruleset: rs, mapping, fromNs: base, pageSize: 7, intervalMs: 30, lookbackNs: 600n * SEC, sink: writer2, signal: stop2.signal,
      storedFingerprints: (since) => huntFingerprints(store.ch.client, 'otel_sigma.follow', since),
      onPoll: (s) => {
        firstPoll ??= s;
        stop2.abort();
      },
    });
    const again = await restarted;
    await writer2.close();
    assert.equal(firstPoll?.rows, 60, 'the restart re-read every row');
    assert.equal(again.detections, 0);
    const count = await store.ch.client.query({ query: 'SELECT count() AS n FROM otel_sigma.follow', format: 'JSONEachRow' });
    assert.equal(Number((await count.json<{ n: string }>())[0]!.n), want.length);
  });
});
