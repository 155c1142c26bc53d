import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RowBuffer } from '../../../src/store/row-buffer.ts';

const RESERVE = 64;

test('rows come out as the JSON lines they were, across growth and multi-byte text', () => {
  const rows = Array.from({ length: 2_000 }, (_, i) => ({ i, text: `C:\\Users\\Ærøskøbing\\文件-${i}-🚀`, nested: { quote: '"', nl: '\n' } }));
  const out = new RowBuffer(RESERVE, 1024); // far too small: it must grow many times
  for (const r of rows) out.push(r);
  out.header(JSON.stringify({ rows: rows.length }));
  const bytes = out.bytes();
  assert.equal(bytes.length, out.length);
  const text = bytes.toString('utf8');
  const [header, ...lines] = text.split('\n');
  assert.deepEqual(JSON.parse(header!), { rows: 2_000 }, 'the header line parses with its padding');
  assert.equal(header!.length, RESERVE - 1);
  assert.equal(lines.pop(), '', 'every row ends with a newline');
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), rows);
  assert.equal(bytes.length - RESERVE, Buffer.byteLength(rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
});

test('a header that does not fit its reserved bytes is refused, not written over the rows', () => {
  const out = new RowBuffer(16);
  out.push({ a: 1 });
  assert.throws(() => out.header(JSON.stringify({ a_long_header_key: 123456789 })), /does not fit/);
  assert.equal(out.bytes().subarray(16).toString('utf8'), '{"a":1}\n');
});
