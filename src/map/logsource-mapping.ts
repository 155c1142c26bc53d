/**
 * Loads the logsource mapping: which events a rule with a given (product, category, service) sees.
 * The shipped data is every *.yaml in ./logsources (windows, linux, generic …), read relative to this
 * module so the product needs nothing else at run time; user override files come after and replace
 * shipped entries with the same key or add new ones. Files are validated strictly; errors name the
 * file and the key. Entries for the same key in two shipped files are merged (their variants joined):
 * one logsource can arrive from several sources. `products:` rules (attribute values → product, e.g.
 * `device.vendor: [Cisco]` → cisco) are collected user files first, then shipped ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ErrorCode, PipelineError } from '../errors.ts';
import type { LogsourceEntry, LogsourceMapping, LogsourceVariant, ProductRule } from './types.ts';

export const SHIPPED_LOGSOURCE_DIR = join(import.meta.dirname, 'logsources');

/** Used when no file sets a fallback: unmapped rules see the generic events. */
const DEFAULT_FALLBACK: LogsourceVariant = { when: { '@source': ['generic'] } };

const Values = z.array(z.union([z.string(), z.number()])).min(1, 'needs at least one value');
const When = z.record(z.string().min(1), Values).refine((w) => Object.keys(w).length > 0, 'needs at least one condition');
const Variant = z.strictObject({ when: When, rename: z.record(z.string().min(1), z.string().min(1)).optional() });
const Key = z.string().min(1).optional();
const Entry = z
  .strictObject({ product: Key, category: Key, service: Key, variants: z.array(Variant).min(1, 'needs at least one variant') })
  .refine((e) => e.product !== undefined || e.category !== undefined || e.service !== undefined, 'needs product, category or service');
const Product = z.strictObject({ product: z.string().min(1), when: When });
const MappingFile = z.strictObject({
  entries: z.array(Entry).default([]),
  fallback: z.strictObject({ when: When }).optional(),
  products: z.array(Product).default([]),
});
type MappingFile = z.infer<typeof MappingFile>;

export interface LoadLogsourceOptions {
  /** User files read after the shipped ones; their entries replace shipped entries with the same key. */
  readonly overrideFiles?: readonly string[];
  /** Directory of shipped files (tests only). */
  readonly shippedDir?: string;
}

export function loadLogsourceMapping(opts: LoadLogsourceOptions = {}): LogsourceMapping {
  const dir = opts.shippedDir ?? SHIPPED_LOGSOURCE_DIR;
  const entries = new Map<string, LogsourceEntry>();
  let fallback: LogsourceVariant | undefined;
  let fallbackFile = '';
  const shippedProducts: ProductRule[] = [];
  const userProducts: ProductRule[] = [];

  const shipped = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort();
  for (const name of shipped) {
    const file = join(dir, name);
    const parsed = readMappingFile(file);
    for (const e of parsed.entries) {
      const key = entryKey(e);
      const prev = entries.get(key);
      entries.set(key, prev === undefined ? e : { ...prev, variants: [...prev.variants, ...e.variants] });
    }
    if (parsed.fallback !== undefined) {
      if (fallback !== undefined) throw configError(file, 'fallback', `a fallback is already set by ${fallbackFile}`);
      fallback = parsed.fallback;
      fallbackFile = file;
    }
    shippedProducts.push(...parsed.products);
  }
  for (const file of opts.overrideFiles ?? []) {
    const parsed = readMappingFile(file);
    for (const e of parsed.entries) entries.set(entryKey(e), e);
    if (parsed.fallback !== undefined) fallback = parsed.fallback;
    userProducts.push(...parsed.products);
  }
  const products = [...userProducts, ...shippedProducts];
  return { entries: [...entries.values()], fallback: fallback ?? DEFAULT_FALLBACK, ...(products.length > 0 && { products }) };
}

/** Reads and validates one mapping file; duplicate keys inside one file are an error. */
export function readMappingFile(file: string): { entries: LogsourceEntry[]; fallback: LogsourceVariant | undefined; products: ProductRule[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineError(ErrorCode.CONFIG, `logsource mapping ${file}: cannot read: ${(err as Error).message}`, false, { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw configError(file, '', doc.errors.map((e) => e.message).join('; '));
  const raw: unknown = doc.toJS();
  const result = MappingFile.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw configError(file, describePath(raw, issue.path), issue.message);
  }
  const seen = new Map<string, number>();
  result.data.entries.forEach((e, i) => {
    const key = entryKey(e);
    const first = seen.get(key);
    if (first !== undefined) throw configError(file, `entries[${i}] ${showKey(e)}`, `same key as entries[${first}]`);
    seen.set(key, i);
  });
  return { entries: result.data.entries.map(toEntry), fallback: result.data.fallback, products: result.data.products };
}

function toEntry(e: MappingFile['entries'][number]): LogsourceEntry {
  return {
    ...(e.product !== undefined && { product: e.product }),
    ...(e.category !== undefined && { category: e.category }),
    ...(e.service !== undefined && { service: e.service }),
    variants: e.variants.map((v) => (v.rename === undefined ? { when: v.when } : { when: v.when, rename: v.rename })),
  };
}

/** The (product, category, service) identity rules are matched on; missing parts are ''. */
export function entryKey(e: { product?: string | undefined; category?: string | undefined; service?: string | undefined }): string {
  return `${e.product ?? ''}\u0000${e.category ?? ''}\u0000${e.service ?? ''}`;
}

function showKey(e: { product?: string | undefined; category?: string | undefined; service?: string | undefined }): string {
  const parts: string[] = [];
  if (e.product !== undefined) parts.push(`product=${e.product}`);
  if (e.category !== undefined) parts.push(`category=${e.category}`);
  if (e.service !== undefined) parts.push(`service=${e.service}`);
  return `(${parts.join(', ')})`;
}

/** `entries[3] (product=windows, category=process_creation).variants[0].when.EventID` — path plus the entry's key. */
function describePath(raw: unknown, path: readonly PropertyKey[]): string {
  let out = '';
  path.forEach((p, i) => {
    out += typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`;
    if (i === 1 && path[0] === 'entries' && typeof p === 'number') {
      const e = (raw as { entries?: unknown[] } | null)?.entries?.[p];
      if (typeof e === 'object' && e !== null) out += ` ${showKey(e)}`;
    }
  });
  return out;
}

function configError(file: string, key: string, message: string): PipelineError {
  return new PipelineError(ErrorCode.CONFIG, `logsource mapping ${file}${key === '' ? '' : ` at ${key}`}: ${message}`, false);
}
