import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AdoptingShare, adopt, int32, PublishingShare, withArrayShare } from '../../../src/detect/rules/shared-arrays.ts';
import { loadRuleset } from '../../../src/detect/ruleset.ts';
import { buildCorpus } from '../../bench/corpus.ts';
import { mapRequests } from '../../bench/engine.ts';
import { MAPPING } from './helpers.ts';

const SIGMA = path.resolve(import.meta.dirname, '../../../../shared/sigma');
const present = fs.existsSync(path.join(SIGMA, 'rules'));

void describe('shared automata arrays', () => {
  void test('outside a share, tables are plain arrays', () => {
    const a = int32(4096, -1);
    assert.ok(!(a.buffer instanceof SharedArrayBuffer));
    assert.equal(a[17], -1);
    assert.equal(adopt(a), a);
  });

  void test('the publisher builds in shared memory and lists what it keeps; small tables stay private', () => {
    const pub = new PublishingShare();
    const { big, small } = withArrayShare(pub, () => {
      const b = int32(5000);
      b[3] = 7;
      const s = int32(10);
      return { big: adopt(b), small: adopt(s) };
    });
    assert.ok(big.buffer instanceof SharedArrayBuffer);
    assert.ok(!(small.buffer instanceof SharedArrayBuffer));
    assert.deepEqual(pub.published, [big]);
  });

  void test('an adopter gets the published array for equal content, keeps its own (out of the arena) otherwise', () => {
    const pub = new PublishingShare();
    const published = withArrayShare(pub, () => {
      const b = int32(5000);
      b.fill(3);
      return adopt(b);
    });
    const ad = new AdoptingShare(pub.published);
    const [same, other] = withArrayShare(ad, () => {
      const x = int32(5000);
      x.fill(3);
      const y = int32(5000);
      y.fill(4);
      return [adopt(x), adopt(y)];
    });
    assert.equal(same, published);
    assert.notEqual(other, published);
    assert.equal(other.buffer.byteLength, other.byteLength, 'a kept array owns its buffer (the arena can go)');
    assert.equal(other[4999], 4);
    assert.equal(ad.adoptedBytes, 5000 * 4);
  });

  void test('a ruleset compiled adopting the publisher\'s automata finds what the publisher\'s finds' + (present ? '' : ' (skipped: ../shared/sigma not present)'), { skip: !present }, () => {
    const paths = [path.join(SIGMA, 'rules/windows/process_creation'), path.join(SIGMA, 'rules/windows/powershell')];
    const pub = new PublishingShare();
    const first = withArrayShare(pub, () => loadRuleset({ paths, mapping: MAPPING }));
    const ad = new AdoptingShare(pub.published);
    const second = withArrayShare(ad, () => loadRuleset({ paths, mapping: MAPPING }));
    const publishedBytes = pub.published.reduce((n, a) => n + a.byteLength, 0);
    assert.ok(publishedBytes > 1_000_000, `published ${publishedBytes} bytes`);
    assert.equal(ad.adoptedBytes, publishedBytes, 'every published table adopted');
    const events = mapRequests(buildCorpus({ requests: 3, perRequest: 1000 }).requests);
    let matches = 0;
    for (const e of events) {
      const a = first.detector.evaluate(e).map((m) => m.rule.id).sort();
      const b = second.detector.evaluate(e).map((m) => m.rule.id).sort();
      assert.deepEqual(b, a);
      matches += a.length;
    }
    assert.ok(matches > 0, 'the events match some rules');
  });
});
