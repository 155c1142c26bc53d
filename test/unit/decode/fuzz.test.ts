/**
 * Short fuzz (a few seconds in `npm test`; `npm run fuzz` runs the long one): generated requests, then
 * mutated and framed, go through the real decoder and the real mapper. See test/fuzz/check.ts for the
 * property. A failure prints fast-check's seed and counterexample; replay with FUZZ_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeExport } from '../../../src/decode/export-request.ts';
import { ErrorCode, isPipelineError } from '../../../src/errors.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import { runCase } from '../../fuzz/check.ts';
import { corpusSeeds } from '../../fuzz/corpus-seeds.ts';
import { exportRequest, fuzzCase } from '../../fuzz/otlp-arbitraries.ts';
import { hasCorpus } from '../../helpers/corpus.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';

const MAX_BYTES = 4 * 1024 * 1024;
const PER_CALL_MS = 2_000;
const seed = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : undefined;
const budget = (ms: number): fc.Parameters<unknown> => ({ numRuns: 1_000_000, interruptAfterTimeLimit: ms, ...(seed !== undefined ? { seed } : {}) });

void describe('decode fuzz (short)', () => {
  void test('unmutated generated requests decode (odd keys, unknown fields and all) unless nested past the limit or a string is not UTF-8, which is refused naming the field and its bytes', (t) => {
    let runs = 0;
    let refusedUtf8 = 0;
    fc.assert(fc.property(exportRequest, (e) => {
      runs++;
      try {
        const d = decodeExport({ body: e.bytes, format: 'protobuf', encoding: 'identity' }, MAX_BYTES);
        assert.ok(Array.isArray(d.records));
      } catch (err) {
        assert.ok(isPipelineError(err) && err.code === ErrorCode.DECODE, String(err));
        const bad = /^(\w+\.\w+) is not valid UTF-8 \(bytes (\d+)-(\d+) of the request\)$/.exec(err.message);
        if (bad === null) {
          assert.match(err.message, /nested deeper/);
          return;
        }
        refusedUtf8++;
        // The decoder points at bytes that really are not UTF-8 (README: invalid UTF-8 is a 400).
        assert.equal(isUtf8(e.bytes.subarray(Number(bad[2]), Number(bad[3]))), false, err.message);
      }
    }), budget(700) as fc.Parameters<[unknown]>);
    t.diagnostic(`${runs} requests, ${refusedUtf8} refused for invalid UTF-8`);
    assert.ok(runs >= 50, `only ${runs} runs`);
    assert.ok(refusedUtf8 > 0 && refusedUtf8 < runs, 'the generator reaches both valid and invalid UTF-8');
  });

  const seeds = hasCorpus ? corpusSeeds(40) : [];
  void test(`mutated requests: a DecodedRequest or ERR_DECODE/ERR_DECOMPRESS/ERR_TOO_LARGE, mapped without throwing, in bounded time${hasCorpus ? ` (${seeds.length} corpus seeds)` : ' (corpus seeds skipped: ../shared absent)'}`, (t) => {
    const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });
    const outcomes = new Map<string, number>();
    fc.assert(fc.property(fuzzCase(seeds), (c) => {
      const r = runCase(c, MAX_BYTES, mapper, PER_CALL_MS);
      const k = r.code ?? 'ok';
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    }), budget(2_500) as fc.Parameters<[unknown]>);
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(`${total} requests: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    assert.ok(total >= 200, `only ${total} runs`);
    // The generator must reach both sides of the property, or it tests nothing.
    assert.ok((outcomes.get('ok') ?? 0) > 0 && (outcomes.get(ErrorCode.DECODE) ?? 0) > 0, JSON.stringify([...outcomes]));
  });
});
