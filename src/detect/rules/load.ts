/**
 * Reads rule files: directories are walked for `*.yml` / `*.yaml`, each file may hold several
 * YAML documents (rules, filters, correlations), and old sigmac rule collections
 * (`action: global | reset | repeat`) are merged into plain documents. YAML problems become
 * RuleProblems with file and line; nothing here throws for a bad file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, Pair, parseAllDocuments, YAMLMap, type Document } from 'yaml';
import type { RuleProblem } from '../types.ts';
import { lineOf, scalarText, type Source } from './compile.ts';

/**
 * Larger rule files are refused before they are read: parsing YAML costs ~70× its size in memory, so a
 * 100 MB file took a worker past 7 GB. SigmaHQ's largest file (vulnerable drivers) is 0.3 MiB.
 */
export const MAX_RULE_FILE_BYTES = 4 * 1024 * 1024;

export interface RuleDocument {
  readonly file: string;
  /** 0-based position of the document in its file. */
  readonly index: number;
  readonly src: Source;
  readonly root: YAMLMap;
  /** 1-based line where the document starts. */
  readonly line: number;
}

/** Every rule file under `paths` (files are taken as given; directories recursively, sorted). */
export function findRuleFiles(paths: readonly string[], problems: RuleProblem[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, reason: `cannot read directory: ${(e as Error).message}`, severity: 'error' });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if ((e.isFile() || e.isSymbolicLink()) && /\.ya?ml$/i.test(e.name)) files.push(p);
    }
  };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      problems.push({ file: p, reason: 'rule path does not exist', severity: 'error' });
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return [...new Set(files)];
}

/**
 * The documents of one file. A document with YAML errors is reported and dropped (counted in
 * `rejected`); the other documents of the file still load.
 */
export function readDocuments(file: string, problems: RuleProblem[]): { docs: RuleDocument[]; rejected: number } {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_RULE_FILE_BYTES) {
      problems.push({ file, reason: `rule file is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${MAX_RULE_FILE_BYTES / 2 ** 20} MiB a rule file may have (SigmaHQ's largest is 0.3 MiB); split it`, severity: 'error' });
      return { docs: [], rejected: 1 };
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({ file, reason: `cannot read file: ${(e as Error).message}`, severity: 'error' });
    return { docs: [], rejected: 1 };
  }
  const lines = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    const all = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
    parsed = Array.isArray(all) ? all : []; // an EmptyStream for an empty file
  } catch (e) {
    problems.push({ file, reason: `invalid YAML: ${(e as Error).message}`, severity: 'error' });
    return { docs: [], rejected: 1 };
  }
  const docs: RuleDocument[] = [];
  let rejected = 0;
  let global: YAMLMap | null = null;
  let previous: YAMLMap | null = null;
  parsed.forEach((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const line = lines.linePos(start).line;
    if (doc.errors.length) {
      for (const err of doc.errors) {
        problems.push({ file, line: lines.linePos(err.pos[0]).line, reason: `invalid YAML: ${err.message.split('\n')[0]}`, severity: 'error' });
      }
      rejected++;
      return;
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) return; // empty document (e.g. a trailing `---`)
    const src: Source = { doc, lines, text };
    if (!isMap(contents)) {
      problems.push({ file, line: lineOf(src, contents) ?? line, reason: 'a rule document must be a YAML map', severity: 'error' });
      rejected++;
      return;
    }
    const actionNode = contents.get('action', true);
    const action: unknown = isScalar(actionNode) ? actionNode.value : actionNode;
    if (action === 'global') {
      global = global ? merge(global, withoutAction(contents)) : withoutAction(contents);
      return;
    }
    if (action === 'reset') {
      global = null;
      return;
    }
    let root = withoutAction(contents);
    if (action === 'repeat') {
      if (!previous) {
        problems.push({ file, line, reason: "'action: repeat' without a preceding rule document", severity: 'error' });
        rejected++;
        return;
      }
      root = merge(previous, root);
    } else if (action !== undefined) {
      problems.push({ file, line: lineOf(src, actionNode) ?? line, reason: `unknown collection action '${JSON.stringify(action)}' (known: global, reset, repeat)`, severity: 'error' });
      rejected++;
      return;
    } else if (global) root = merge(global, root);
    previous = root;
    docs.push({ file, index, src, root, line });
  });
  return { docs, rejected };
}

function withoutAction(m: YAMLMap): YAMLMap {
  if (!m.has('action')) return m;
  const out = new YAMLMap();
  out.items = m.items.filter((p) => !(isScalar(p.key) && p.key.value === 'action'));
  out.range = m.range;
  return out;
}

/** sigmac's collection merge: maps merge recursively, anything else in `over` replaces `base`. */
function merge(base: YAMLMap, over: YAMLMap): YAMLMap {
  const out = new YAMLMap();
  out.range = over.range ?? base.range;
  const keyOf = (p: Pair) => scalarText(p.key);
  const overByKey = new Map(over.items.map((p) => [keyOf(p), p]));
  for (const p of base.items) {
    const o = overByKey.get(keyOf(p));
    if (!o) out.items.push(p);
    else if (isMap(p.value) && isMap(o.value)) out.items.push(new Pair(o.key, merge(p.value, o.value)));
    else out.items.push(o);
    overByKey.delete(keyOf(p));
  }
  for (const p of overByKey.values()) out.items.push(p);
  return out;
}
