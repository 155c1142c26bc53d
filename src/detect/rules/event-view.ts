/**
 * The event as compiled rules see it: field values looked up by slot number, turned into strings
 * and lower-cased at most once per event, lazily, and only for fields some evaluated rule reads.
 *
 * Slots are assigned at compile time (one per distinct event field name across all rules and
 * logsource renames). One view is reused for every event a detector evaluates: `reset` bumps a
 * generation counter instead of clearing arrays, so evaluating an event allocates nothing but
 * the lower-cased strings themselves.
 */
import type { EventMeta, FieldValue, SigmaEvent, SigmaFields } from '../../map/types.ts';

/** A field's value as matchers see it: missing (also null or an empty list), one string, or several (a list). */
export type FieldString = string | readonly string[] | undefined;

/** Interns event field names into slot numbers. */
export class FieldSlots {
  readonly names: string[] = [];
  readonly #index = new Map<string, number>();

  slot(name: string): number {
    let s = this.#index.get(name);
    if (s === undefined) {
      s = this.names.length;
      this.names.push(name);
      this.#index.set(name, s);
    }
    return s;
  }
}

export class EventView {
  fields: SigmaFields = {};
  meta: EventMeta = { source: '', product: undefined, service: undefined, host: '' };
  readonly names: readonly string[];
  readonly #paths: (readonly string[] | null)[];
  #gen = 0;
  readonly #valGen: Uint32Array;
  readonly #vals: FieldString[];
  readonly #lowGen: Uint32Array;
  readonly #lows: FieldString[];
  #allGen = 0;
  #all: string[] = [];
  #allLowGen = 0;
  #allLow: string[] = [];

  constructor(slots: FieldSlots) {
    this.names = slots.names;
    const n = slots.names.length;
    this.#paths = slots.names.map((name) => (name.includes('.') ? name.split('.') : null));
    this.#valGen = new Uint32Array(n);
    this.#lowGen = new Uint32Array(n);
    this.#vals = new Array<FieldString>(n).fill(undefined);
    this.#lows = new Array<FieldString>(n).fill(undefined);
  }

  reset(event: SigmaEvent): void {
    this.fields = event.fields;
    this.meta = event.meta;
    this.#gen = (this.#gen + 1) >>> 0;
    if (this.#gen === 0) {
      // After 2^32 events: forget every generation so none from the last round looks current.
      this.#valGen.fill(0);
      this.#lowGen.fill(0);
      this.#allGen = 0;
      this.#allLowGen = 0;
      this.#gen = 1;
    }
  }

  /** The field's value as string(s), original case. */
  value(slot: number): FieldString {
    if (this.#valGen[slot] !== this.#gen) {
      this.#valGen[slot] = this.#gen;
      let raw: FieldValue | undefined = this.fields[this.names[slot]!];
      if (raw === undefined) {
        const path = this.#paths[slot];
        if (path) raw = lookupPath(this.fields, path);
      }
      this.#vals[slot] = toFieldString(raw);
    }
    return this.#vals[slot];
  }

  /** The field's value lower-cased (for the case-insensitive matchers, which are almost all). */
  lower(slot: number): FieldString {
    if (this.#lowGen[slot] !== this.#gen) {
      this.#lowGen[slot] = this.#gen;
      const v = this.value(slot);
      this.#lows[slot] = v === undefined ? undefined : typeof v === 'string' ? v.toLowerCase() : v.map((s) => s.toLowerCase());
    }
    return this.#lows[slot];
  }

  /** Every leaf value of the event as a string, for keyword searches. */
  allValues(): readonly string[] {
    if (this.#allGen !== this.#gen) {
      this.#allGen = this.#gen;
      this.#all = [];
      collectLeaves(this.fields, this.#all);
    }
    return this.#all;
  }

  allLower(): readonly string[] {
    if (this.#allLowGen !== this.#gen) {
      this.#allLowGen = this.#gen;
      this.#allLow = this.allValues().map((s) => s.toLowerCase());
    }
    return this.#allLow;
  }
}

function lookupPath(fields: SigmaFields, path: readonly string[]): FieldValue | undefined {
  let cur: FieldValue | undefined = fields;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Readonly<Record<string, FieldValue>>)[key];
  }
  return cur;
}

export function toFieldString(v: FieldValue | undefined): FieldString {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v as readonly FieldValue[]) {
      const s = toFieldString(x);
      if (s === undefined) continue;
      if (typeof s === 'string') out.push(s);
      else out.push(...s);
    }
    return out.length === 0 ? undefined : out.length === 1 ? out[0] : out;
  }
  return JSON.stringify(v);
}

function collectLeaves(v: FieldValue, out: string[]): void {
  if (v === null) return;
  if (typeof v === 'string') out.push(v);
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
  else if (Array.isArray(v)) for (const x of v as readonly FieldValue[]) collectLeaves(x, out);
  else for (const x of Object.values(v as Readonly<Record<string, FieldValue>>)) collectLeaves(x, out);
}
