/** Hand-built protobuf pieces for decoder tests (nesting deeper than protobufjs' reflection encoder allows). */
import protobuf from 'protobufjs/minimal.js';

const LEN = 2;
const field = (n: number, wt: number): number => (n << 3) | wt;

export const anyString = (s: string): Uint8Array => protobuf.Writer.create().uint32(field(1, LEN)).string(s).finish();

/** AnyValue: `levels` kvlists ({"k": …}) around `inner`. */
export function nestKvlist(inner: Uint8Array, levels: number): Uint8Array {
  let v = inner;
  for (let i = 0; i < levels; i++) {
    const kv = protobuf.Writer.create().uint32(field(1, LEN)).string('k').uint32(field(2, LEN)).bytes(v).finish();
    const kvl = protobuf.Writer.create().uint32(field(1, LEN)).bytes(kv).finish();
    v = protobuf.Writer.create().uint32(field(6, LEN)).bytes(kvl).finish();
  }
  return v;
}

/** AnyValue: `levels` single-element arrays around `inner`. */
export function nestArray(inner: Uint8Array, levels: number): Uint8Array {
  let v = inner;
  for (let i = 0; i < levels; i++) {
    const arr = protobuf.Writer.create().uint32(field(1, LEN)).bytes(v).finish();
    v = protobuf.Writer.create().uint32(field(5, LEN)).bytes(arr).finish();
  }
  return v;
}

/** ExportLogsServiceRequest with one resource, one scope and one record whose body is `body`. */
export function requestWithBody(body: Uint8Array): Uint8Array {
  const lr = protobuf.Writer.create().uint32(field(5, LEN)).bytes(body).finish();
  const sl = protobuf.Writer.create().uint32(field(2, LEN)).bytes(lr).finish();
  const rl = protobuf.Writer.create().uint32(field(2, LEN)).bytes(sl).finish();
  return protobuf.Writer.create().uint32(field(1, LEN)).bytes(rl).finish();
}

/** The same nesting in OTLP/JSON. */
export function jsonNested(kind: 'kvlist' | 'array', levels: number): unknown {
  let v: unknown = { stringValue: 'x' };
  for (let i = 0; i < levels; i++) v = kind === 'kvlist' ? { kvlistValue: { values: [{ key: 'k', value: v }] } } : { arrayValue: { values: [v] } };
  return { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: v }] }] }] };
}
