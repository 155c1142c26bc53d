/**
 * SigNoz's JSON-typed body columns (body_v2, body_promoted) read in ClickHouse's binary encoding instead of
 * as text: chdb 26.7 spends ~90 µs a row serializing a JSON column to text (toString), but ~4 µs writing
 * it as RowBinary. The page query sends `formatRowNoNewline('RowBinary', timezone(), body_v2::Dynamic, …)`
 * base64-encoded; cast to Dynamic, each value carries its own type (typed paths included), so nothing here
 * depends on how the table declared the column. The object built is the one JSON.parse(toString(col))
 * gives: paths nested at their dots, numbers as numbers, dates and times as the text ClickHouse prints
 * (in the server's time zone, sent first), absent paths absent.
 */

/** A body this reader cannot read (a type it does not decode, a cut-off value); its row is not evaluated (counted). */
export class UnreadableBody extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnreadableBody';
  }
}

type Type =
  | { readonly k: 'nothing' | 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'string' | 'date' | 'date32' | 'uuid' | 'ipv4' | 'dynamic' }
  | { readonly k: 'fixed'; readonly n: number }
  | { readonly k: 'datetime'; readonly tz: string | undefined }
  | { readonly k: 'datetime64'; readonly p: number; readonly tz: string | undefined }
  | { readonly k: 'array' | 'nullable' | 'lowcard'; readonly of: Type }
  | { readonly k: 'map'; readonly key: Type; readonly value: Type }
  | { readonly k: 'json'; readonly typed: ReadonlyMap<string, Type> };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const SIMPLE: Readonly<Record<number, Type>> = {
  0x00: { k: 'nothing' }, 0x01: { k: 'u8' }, 0x02: { k: 'u16' }, 0x03: { k: 'u32' }, 0x04: { k: 'u64' },
  0x07: { k: 'i8' }, 0x08: { k: 'i16' }, 0x09: { k: 'i32' }, 0x0a: { k: 'i64' }, 0x0d: { k: 'f32' }, 0x0e: { k: 'f64' },
  0x0f: { k: 'date' }, 0x10: { k: 'date32' }, 0x11: { k: 'datetime', tz: undefined }, 0x15: { k: 'string' }, 0x1d: { k: 'uuid' },
  0x28: { k: 'ipv4' }, 0x2d: { k: 'bool' },
};

class Reader {
  pos = 0;
  readonly #view: DataView;
  /** Time zone of DateTime values without one of their own (the server's). */
  zone = 'UTC';
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number): number {
    const at = this.pos;
    if (at + n > this.buf.length) throw new RangeError('truncated binary body');
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.buf[this.#need(1)]!;
  }

  varuint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 49) throw new RangeError('varuint too long');
    }
  }

  string(): string {
    const n = this.varuint();
    const at = this.#need(n);
    return this.buf.toString('utf8', at, at + n);
  }

  type(): Type {
    const code = this.u8();
    const simple = SIMPLE[code];
    if (simple !== undefined) return simple;
    switch (code) {
      case 0x12: return { k: 'datetime', tz: this.string() };
      case 0x13: return { k: 'datetime64', p: this.u8(), tz: undefined };
      case 0x14: return { k: 'datetime64', p: this.u8(), tz: this.string() };
      case 0x16: return { k: 'fixed', n: this.varuint() };
      case 0x1e: return { k: 'array', of: this.type() };
      case 0x23: return { k: 'nullable', of: this.type() };
      case 0x26: return { k: 'lowcard', of: this.type() };
      case 0x27: return { k: 'map', key: this.type(), value: this.type() };
      case 0x2b:
        this.u8(); // max_types: only matters to ClickHouse's storage
        return { k: 'dynamic' };
      case 0x30: {
        this.u8(); // serialization version
        this.varuint(); // max_dynamic_paths
        this.u8(); // max_dynamic_types
        const typed = new Map<string, Type>();
        for (let n = this.varuint(); n > 0; n--) typed.set(this.string(), this.type());
        for (let n = this.varuint(); n > 0; n--) this.string(); // SKIP paths
        for (let n = this.varuint(); n > 0; n--) this.string(); // SKIP REGEXP
        return { k: 'json', typed };
      }
      default:
        throw new UnreadableBody(`the body holds a ClickHouse type this reader does not decode (binary type 0x${code.toString(16).padStart(2, '0')})`);
    }
  }

  value(t: Type): Json {
    const v = this.#view;
    switch (t.k) {
      case 'nothing': return null;
      case 'u8': return this.u8();
      case 'u16': return v.getUint16(this.#need(2), true);
      case 'u32': return v.getUint32(this.#need(4), true);
      // As JSON.parse reads ClickHouse's text of a 64-bit integer: the nearest double.
      case 'u64': return Number(v.getBigUint64(this.#need(8), true));
      case 'i8': return v.getInt8(this.#need(1));
      case 'i16': return v.getInt16(this.#need(2), true);
      case 'i32': return v.getInt32(this.#need(4), true);
      case 'i64': return Number(v.getBigInt64(this.#need(8), true));
      case 'f32': return finite(shortestFloat32(v.getFloat32(this.#need(4), true)));
      case 'f64': return finite(v.getFloat64(this.#need(8), true));
      case 'bool': return this.u8() !== 0;
      case 'string': return this.string();
      case 'fixed': {
        const at = this.#need(t.n);
        return this.buf.toString('utf8', at, at + t.n);
      }
      case 'date': return dateText(v.getUint16(this.#need(2), true));
      case 'date32': return dateText(v.getInt32(this.#need(4), true));
      case 'datetime': return timeText(BigInt(v.getUint32(this.#need(4), true)), 0, t.tz ?? this.zone);
      case 'datetime64': return timeText(v.getBigInt64(this.#need(8), true), t.p, t.tz ?? this.zone);
      case 'uuid': {
        const at = this.#need(16);
        const hex = Buffer.from(this.buf.subarray(at, at + 8)).reverse().toString('hex') + Buffer.from(this.buf.subarray(at + 8, at + 16)).reverse().toString('hex');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      }
      case 'ipv4': {
        const n = v.getUint32(this.#need(4), true);
        return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
      }
      case 'nullable': return this.u8() !== 0 ? null : this.value(t.of);
      case 'lowcard': return this.value(t.of);
      case 'array': {
        const out: Json[] = [];
        for (let n = this.varuint(); n > 0; n--) out.push(this.value(t.of));
        return out;
      }
      case 'map': {
        const out: { [k: string]: Json } = {};
        for (let n = this.varuint(); n > 0; n--) {
          const key = this.value(t.key);
          out[typeof key === 'string' ? key : JSON.stringify(key)] = this.value(t.value);
        }
        return out;
      }
      case 'dynamic': return this.value(this.type());
      case 'json': {
        const out: { [k: string]: Json } = {};
        for (let n = this.varuint(); n > 0; n--) {
          const path = this.string();
          setPath(out, path, this.value(t.typed.get(path) ?? DYNAMIC));
        }
        return out;
      }
    }
  }
}

const DYNAMIC: Type = { k: 'dynamic' };

/** ClickHouse writes nan and inf in JSON text as null. */
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The decimal ClickHouse prints for a Float32 (the shortest that reads back as the same float), as a double. */
function shortestFloat32(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let p = 1; p < 10; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === x) return d;
  }
  return x;
}

/** toString of a JSON column nests dotted paths: a.b = 1 becomes {"a": {"b": 1}}. */
function setPath(into: { [k: string]: Json }, path: string, value: Json): void {
  let at = into;
  let start = 0;
  for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', start)) {
    const key = path.slice(start, dot);
    const next = at[key];
    if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      at = next;
    } else {
      const child: { [k: string]: Json } = {};
      at[key] = child;
      at = child;
    }
    start = dot + 1;
  }
  at[path.slice(start)] = value;
}

const DAY_MS = 86_400_000;

function dateText(days: number): string {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);
const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** `YYYY-MM-DD hh:mm:ss[.fff…]` of `ticks` units of 10^-precision s since the epoch, in `zone`. */
function timeText(ticks: bigint, precision: number, zone: string): string {
  const scale = 10n ** BigInt(precision);
  let seconds = ticks / scale;
  let frac = ticks % scale;
  if (frac < 0n) {
    frac += scale;
    seconds -= 1n;
  }
  const ms = Number(seconds) * 1000;
  let text: string;
  if (UTC_ZONES.has(zone)) {
    const iso = new Date(ms).toISOString();
    text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  } else {
    let f = zoneFormats.get(zone);
    if (f === undefined) {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
      zoneFormats.set(zone, f);
    }
    const p: Record<string, string> = {};
    for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
    text = `${p['year']!.padStart(4, '0')}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}:${p['second']}`;
  }
  return precision > 0 ? `${text}.${frac.toString().padStart(precision, '0')}` : text;
}

export interface JsonColumns {
  /** body_v2 as an object (paths nested). */
  readonly body: { [k: string]: Json };
  /** body_promoted, when the row carried it. */
  readonly promoted: { [k: string]: Json } | undefined;
}

/**
 * One row's `formatRowNoNewline('RowBinary', timezone(), body_v2::Dynamic[, body_promoted::Dynamic])`,
 * base64. Throws UnreadableBody for a body it cannot read, whatever the reason (a truncated value, nesting
 * too deep for the stack).
 */
export function decodeJsonColumns(base64: string): JsonColumns {
  try {
    const r = new Reader(Buffer.from(base64, 'base64'));
    r.zone = r.string();
    const body = r.value(DYNAMIC);
    const promoted = r.pos < r.buf.length ? r.value(DYNAMIC) : undefined;
    return { body: asObject(body), promoted: promoted === undefined ? undefined : asObject(promoted) };
  } catch (err) {
    if (err instanceof UnreadableBody) throw err;
    throw new UnreadableBody(`the body cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

const asObject = (v: Json): { [k: string]: Json } => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
