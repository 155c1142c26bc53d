/**
 * Nested maps → dotted Sigma field names (`requestParameters.userName`), the way cloud and web rules
 * name nested JSON. Arrays of scalars stay lists; objects inside arrays are flattened without an index
 * and their leaves gathered into lists (`requestParameters.containerDefinitions.command` holds the
 * commands of every container), as document stores index them. Work is bounded on hostile input:
 * nesting deeper than MAX_DEPTH is dropped, and at most `budget.keys` leaves are written.
 */
import type { AnyValue } from '../../decode/types.ts';
import type { FieldValue } from '../types.ts';
import type { FieldBag } from '../windows/fields.ts';

export const MAX_FLATTEN_DEPTH = 16;
export const MAX_FLATTEN_KEYS = 1000;

export interface FlattenBudget {
  keys: number;
}

/**
 * Writes the leaves of `value` under `prefix` into `out`. Names already present are kept (first writer
 * wins), so attributes never clobber body fields and body fields never clobber Sigma fields.
 */
export function flattenInto(out: FieldBag, prefix: string, value: AnyValue, budget: FlattenBudget): void {
  walk({ out, budget, gathered: null }, prefix, value, 0, false);
}

interface Walk {
  readonly out: FieldBag;
  readonly budget: FlattenBudget;
  /** Names this walk turned into lists, so it may append to them (other lists belong to the record). */
  gathered: Set<string> | null;
}

function walk(w: Walk, prefix: string, v: AnyValue, depth: number, inArray: boolean): void {
  if (w.budget.keys <= 0) return;
  if (v !== null && typeof v === 'object') {
    if (depth >= MAX_FLATTEN_DEPTH) return;
    if (Array.isArray(v)) {
      if (!inArray && v.every(isScalar)) {
        leaf(w, prefix, v, false);
        return;
      }
      for (const item of v) walk(w, prefix, item, depth + 1, true);
      return;
    }
    for (const k in v) {
      walk(w, prefix === '' ? k : `${prefix}.${k}`, v[k]!, depth + 1, inArray);
      if (w.budget.keys <= 0) return;
    }
    return;
  }
  leaf(w, prefix, v, inArray);
}

function leaf(w: Walk, name: string, v: FieldValue, inArray: boolean): void {
  if (name === '') return;
  w.budget.keys--;
  const prev = w.out[name];
  if (prev === undefined) {
    if (inArray) {
      w.out[name] = [v];
      (w.gathered ??= new Set()).add(name);
    } else w.out[name] = v;
    return;
  }
  if (inArray && w.gathered !== null && w.gathered.has(name)) (prev as FieldValue[]).push(v);
}

function isScalar(v: AnyValue): boolean {
  return v === null || typeof v !== 'object';
}
