/**
 * fast-check arbitraries for hostile OTLP input: well-formed ExportLogsServiceRequests (deep AnyValues,
 * huge strings, invalid UTF-8 in string fields, random bytes, awkward keys such as `__proto__`) encoded by
 * a tiny wire writer of our own (so string fields can hold any bytes), then mutated: bit flips,
 * truncation, splices, corrupted length prefixes, compression of garbage. Used by the short fuzz in
 * `npm test` and the long one in `npm run fuzz`.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import type { ContentEncoding } from '../../src/decode/decompress.ts';
import type { RawExport } from '../../src/decode/export-request.ts';

// ---------- a minimal protobuf writer that remembers where its length prefixes are ----------

export type Field =
  | { readonly n: number; readonly wt: 0; readonly v: bigint }
  | { readonly n: number; readonly wt: 1; readonly v: bigint }
  | { readonly n: number; readonly wt: 5; readonly v: number }
  | { readonly n: number; readonly wt: 2; readonly v: Uint8Array | readonly Field[] };

export interface Encoded {
  readonly bytes: Uint8Array;
  /** Offsets of every length-delimited field's length varint. */
  readonly lengthPrefixes: readonly number[];
}

function varint(out: number[], v: bigint): void {
  let x = BigInt.asUintN(64, v);
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

export function encode(fields: readonly Field[]): Encoded {
  const parts: Uint8Array[] = [];
  const prefixes: number[] = [];
  let len = 0;
  const head: number[] = [];
  const flush = (): void => {
    if (head.length === 0) return;
    parts.push(Uint8Array.from(head));
    len += head.length;
    head.length = 0;
  };
  for (const f of fields) {
    varint(head, BigInt((f.n << 3) | f.wt));
    if (f.wt === 0) varint(head, f.v);
    else if (f.wt === 1) for (let i = 0n; i < 8n; i++) head.push(Number((BigInt.asUintN(64, f.v) >> (8n * i)) & 0xffn));
    else if (f.wt === 5) for (let i = 0; i < 4; i++) head.push((f.v >>> (8 * i)) & 0xff);
    else {
      const inner = f.v instanceof Uint8Array ? { bytes: f.v, lengthPrefixes: [] } : encode(f.v);
      prefixes.push(len + head.length);
      varint(head, BigInt(inner.bytes.length));
      flush();
      for (const p of inner.lengthPrefixes) prefixes.push(len + p);
      parts.push(inner.bytes);
      len += inner.bytes.length;
    }
  }
  flush();
  return { bytes: Buffer.concat(parts, len), lengthPrefixes: prefixes };
}

// ---------- well-formed requests ----------

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** Bodies the mappers recognise, so mutated requests reach the Windows/Linux readers, not only the generic one. */
const SEED_STRINGS = [
  '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>ws1</Computer></System><EventData><Data Name="Image">C:\\Windows\\System32\\cmd.exe</Data><Data Name="CommandLine">cmd /c whoami &amp; &#x41;</Data></EventData></Event>',
  'type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=55 a1=66 items=2 ppid=1 pid=2 auid=1000 uid=0 comm="bash" exe="/usr/bin/bash" key="exec"',
  'type=EXECVE msg=audit(1700000000.123:42): argc=3 a0="sh" a1="-c" a2=6964',
  'type=PATH msg=audit(1700000000.123:42): item=0 name="/usr/bin/bash" inode=1 mode=0100755 nametype=NORMAL',
  '<13>Jan  1 00:00:00 host sshd[123]: Accepted password for root from 10.0.0.1 port 22 ssh2',
  'Nov 22 02:00:00 host sudo: alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh',
];
const SEED_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'host.name', 'log.file.path', 'log.file.name',
  'EventID', 'Channel', 'Image', 'CommandLine', 'winlog.channel', 'log.record.original', 'os.type', 'service.name', 'event.data', 'a.b.c'];

export const stringBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(utf8) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) }, // mostly invalid UTF-8
  { weight: 2, arbitrary: fc.constantFrom(...SEED_STRINGS).map(utf8) },
  { weight: 1, arbitrary: fc.constantFrom(Uint8Array.from([0xc3]), Uint8Array.from([0xed, 0xa0, 0x80]), Uint8Array.from([0xf4, 0x90, 0x80, 0x80]), Uint8Array.from([0xef, 0xbb, 0xbf, 0x00])) },
);
/** 4 KiB – 400 KiB: used sparingly (one record body or attribute), or every request would be megabytes. */
export const hugeString: fc.Arbitrary<Uint8Array> = fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.integer({ min: 4_096, max: 400_000 }))
  .map(([s, n]) => utf8(s.repeat(Math.ceil(n / s.length))));
const keyBytes = fc.oneof({ weight: 3, arbitrary: stringBytes }, { weight: 2, arbitrary: fc.constantFrom(...SEED_KEYS).map(utf8) });
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, -1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 63n)));
const f64bits = fc.oneof(fc.double().map((d) => { const b = Buffer.alloc(8); b.writeDoubleLE(d); return b.readBigUInt64LE(); }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

export const anyValue: fc.Arbitrary<Field[]> = fc.letrec<{ av: Field[]; kv: Field[] }>((tie) => ({
  av: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringBytes.map((v): Field[] => [{ n: 1, wt: 2, v }]),
    fc.boolean().map((b): Field[] => [{ n: 2, wt: 0, v: b ? 1n : 0n }]),
    int64.map((v): Field[] => [{ n: 3, wt: 0, v }]),
    f64bits.map((v): Field[] => [{ n: 4, wt: 1, v }]),
    fc.array(tie('av'), { maxLength: 4 }).map((vals): Field[] => [{ n: 5, wt: 2, v: vals.map((v): Field => ({ n: 1, wt: 2, v })) }]),
    fc.array(tie('kv'), { maxLength: 4 }).map((kvs): Field[] => [{ n: 6, wt: 2, v: kvs.map((v): Field => ({ n: 1, wt: 2, v })) }]),
    fc.uint8Array({ maxLength: 32 }).map((v): Field[] => [{ n: 7, wt: 2, v }]),
    fc.constant([] as Field[]), // empty AnyValue
  ),
  kv: fc.tuple(keyBytes, tie('av')).map(([k, v]): Field[] => [{ n: 1, wt: 2, v: k }, { n: 2, wt: 2, v }]),
})).av;

/** AnyValue nested `levels` deep (kvlist or array), around the 64-level limit. */
export const deepAnyValue: fc.Arbitrary<Field[]> = fc.tuple(fc.integer({ min: 50, max: 90 }), fc.boolean()).map(([levels, kv]) => {
  let v: Field[] = [{ n: 1, wt: 2, v: utf8('deep') }];
  for (let i = 0; i < levels; i++) v = kv ? [{ n: 6, wt: 2, v: [{ n: 1, wt: 2, v: [{ n: 1, wt: 2, v: utf8('k') }, { n: 2, wt: 2, v }] }] }] : [{ n: 5, wt: 2, v: [{ n: 1, wt: 2, v }] }];
  return v;
});

const keyValue = fc.tuple(keyBytes, fc.oneof({ weight: 20, arbitrary: anyValue }, { weight: 1, arbitrary: deepAnyValue }))
  .map(([k, v]): Field => ({ n: 1, wt: 2, v: [{ n: 1, wt: 2, v: k }, { n: 2, wt: 2, v }] }));
const attrs = (field: number): fc.Arbitrary<Field[]> => fc.array(keyValue, { maxLength: 5 }).map((kvs) => kvs.map((kv): Field => ({ ...kv, n: field })));

const logRecord: fc.Arbitrary<Field> = fc.record({
  time: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  observed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  sev: fc.integer({ min: -5, max: 30 }),
  sevText: stringBytes,
  body: fc.option(fc.oneof(
    { weight: 30, arbitrary: anyValue },
    { weight: 1, arbitrary: deepAnyValue },
    { weight: 1, arbitrary: hugeString.map((v): Field[] => [{ n: 1, wt: 2, v }]) },
  ), { nil: undefined }),
  attributes: attrs(6),
  flags: fc.nat({ max: 0xffffffff }),
  traceId: fc.uint8Array({ maxLength: 20 }),
  spanId: fc.uint8Array({ maxLength: 10 }),
  eventName: stringBytes,
  unknown: fc.option(fc.tuple(fc.integer({ min: 13, max: 2000 }), fc.uint8Array({ maxLength: 8 })), { nil: undefined }),
}).map((r): Field => ({
  n: 2, wt: 2, v: [
    { n: 1, wt: 1, v: r.time }, { n: 11, wt: 1, v: r.observed }, { n: 2, wt: 0, v: BigInt(r.sev) }, { n: 3, wt: 2, v: r.sevText },
    ...(r.body !== undefined ? [{ n: 5, wt: 2, v: r.body } as Field] : []),
    ...r.attributes, { n: 8, wt: 5, v: r.flags }, { n: 9, wt: 2, v: r.traceId }, { n: 10, wt: 2, v: r.spanId }, { n: 12, wt: 2, v: r.eventName },
    ...(r.unknown !== undefined ? [{ n: r.unknown[0], wt: 2, v: r.unknown[1] } as Field] : []), // unknown fields must be skipped
  ],
}));

const scopeLogs: fc.Arbitrary<Field> = fc.tuple(stringBytes, stringBytes, attrs(3), fc.array(logRecord, { maxLength: 4 }))
  .map(([name, version, a, records]): Field => ({ n: 2, wt: 2, v: [{ n: 1, wt: 2, v: [{ n: 1, wt: 2, v: name }, { n: 2, wt: 2, v: version }, ...a] }, ...records] }));

const resourceLogs: fc.Arbitrary<Field> = fc.tuple(attrs(1), fc.array(scopeLogs, { maxLength: 3 }), fc.boolean())
  // The resource may come after its scope_logs on the wire: both orders are valid.
  .map(([a, scopes, resourceLast]): Field => {
    const resource: Field = { n: 1, wt: 2, v: a };
    return { n: 1, wt: 2, v: resourceLast ? [...scopes, resource] : [resource, ...scopes] };
  });

/** A well-formed ExportLogsServiceRequest (its strings may still be invalid UTF-8, which the protobuf decoder must refuse as ERR_DECODE naming the field). */
export const exportRequest: fc.Arbitrary<Encoded> = fc.array(resourceLogs, { maxLength: 3 }).map((rls) => encode(rls));

/** OTLP/JSON documents: well-formed ones and type-confused ones (any JSON where a field is expected). */
export const jsonRequest: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.tuple(fc.array(fc.tuple(fc.constantFrom(...SEED_KEYS, 'k'), fc.jsonValue({ maxDepth: 4 })), { maxLength: 4 }), fc.jsonValue({ maxDepth: 5 }), fc.string({ unit: 'binary', maxLength: 30 }))
    .map(([kvs, body, s]) => JSON.stringify({
      resourceLogs: [{
        resource: { attributes: kvs.map(([key, value]) => ({ key, value: { stringValue: JSON.stringify(value) } })) },
        scopeLogs: [{ scope: { name: s }, logRecords: [
          { timeUnixNano: '1700000000000000000', body: { stringValue: s }, attributes: kvs.map(([key]) => ({ key, value: { kvlistValue: { values: [{ key, value: { intValue: '9007199254740993' } }] } } })) },
          { body, severityNumber: body, attributes: [{ key: '__proto__', value: { kvlistValue: { values: [{ key: 'polluted', value: { stringValue: 'yes' } }] } } }] },
        ] }],
      }],
    })),
);

// ---------- mutations ----------

export type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number[]; bit: number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; insert: Uint8Array; remove: number }
  | { kind: 'duplicate'; from: number; len: number; to: number }
  | { kind: 'length'; which: number; value: bigint };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bit: fc.array(fc.nat({ max: 7 }), { minLength: 8, maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), insert: fc.uint8Array({ maxLength: 16 }), remove: fc.nat({ max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), len: fc.nat({ max: 256 }), to: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('length' as const),
      which: fc.nat(),
      value: fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.constantFrom(0n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 63n, 2n ** 64n - 1n)),
    }),
  },
);

export function applyMutation(e: Encoded, m: Mutation): Uint8Array {
  const b = e.bytes;
  if (b.length === 0 || m.kind === 'none') return b;
  switch (m.kind) {
    case 'flip': {
      const out = Uint8Array.from(b);
      m.at.forEach((a, i) => { out[a % out.length]! ^= 1 << (m.bit[i] ?? 0); });
      return out;
    }
    case 'truncate':
      return b.subarray(0, m.at % b.length);
    case 'splice': {
      const at = m.at % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), m.insert, b.subarray(Math.min(b.length, at + m.remove))]);
    }
    case 'duplicate': {
      const from = m.from % b.length;
      const to = m.to % (b.length + 1);
      return Buffer.concat([b.subarray(0, to), b.subarray(from, from + m.len), b.subarray(to)]);
    }
    case 'length': {
      if (e.lengthPrefixes.length === 0) return b;
      const at = e.lengthPrefixes[m.which % e.lengthPrefixes.length]!;
      let end = at;
      while (end < b.length && (b[end]! & 0x80) !== 0) end++;
      const v: number[] = [];
      varint(v, m.value);
      return Buffer.concat([b.subarray(0, at), Uint8Array.from(v), b.subarray(end + 1)]);
    }
  }
}

/** How the (possibly mutated) body is framed: encoding label and what is actually compressed. */
export type Framing = 'identity' | 'gzip' | 'deflate' | 'gzip-garbage' | 'gzip-truncated' | 'gzip-bomb' | 'deflate-labelled-gzip';
export const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 8, arbitrary: fc.constant('identity' as const) },
  { weight: 2, arbitrary: fc.constantFrom('gzip' as const, 'deflate' as const) },
  { weight: 1, arbitrary: fc.constantFrom('gzip-garbage' as const, 'gzip-truncated' as const, 'gzip-bomb' as const, 'deflate-labelled-gzip' as const) },
);

const BOMB = gzipSync(Buffer.alloc(24 * 1024 * 1024)); // ~24 KiB that inflate to 24 MiB

export function frame(body: Uint8Array, f: Framing): { body: Uint8Array; encoding: ContentEncoding } {
  switch (f) {
    case 'identity': return { body, encoding: 'identity' };
    case 'gzip': return { body: gzipSync(body), encoding: 'gzip' };
    case 'deflate': return { body: deflateSync(body), encoding: 'deflate' };
    case 'gzip-garbage': return { body, encoding: 'gzip' }; // the raw (uncompressed) bytes labelled gzip
    case 'gzip-truncated': { const z = gzipSync(body); return { body: z.subarray(0, Math.max(1, z.length - 1 - (body.length % 7))), encoding: 'gzip' }; }
    case 'gzip-bomb': return { body: BOMB, encoding: 'gzip' };
    case 'deflate-labelled-gzip': return { body: deflateSync(body), encoding: 'gzip' };
  }
}

export interface FuzzCase extends RawExport {
  readonly label: string;
}

/** A mutated, framed request (protobuf or JSON). `seeds` are extra valid protobuf requests to mutate (e.g. the corpus). */
export function fuzzCase(seeds: readonly Encoded[] = []): fc.Arbitrary<FuzzCase> {
  const pb = seeds.length > 0 ? fc.oneof({ weight: 3, arbitrary: exportRequest }, { weight: 1, arbitrary: fc.constantFrom(...seeds) }) : exportRequest;
  const proto = fc.tuple(pb, mutation, framing).map(([e, m, f]): FuzzCase => ({ ...frame(applyMutation(e, m), f), format: 'protobuf', label: `protobuf/${m.kind}/${f}` }));
  const json = fc.tuple(jsonRequest, mutation, framing).map(([s, m, f]): FuzzCase => {
    const e: Encoded = { bytes: utf8(s), lengthPrefixes: [] };
    return { ...frame(applyMutation(e, m), f), format: 'json', label: `json/${m.kind}/${f}` };
  });
  return fc.oneof({ weight: 3, arbitrary: proto }, { weight: 1, arbitrary: json });
}
