/**
 * Builds the configuration: defaults < YAML file < environment < flags, then validates it once.
 * Every problem is reported together, each naming the key, the value given and what is allowed.
 */
import fs from 'node:fs';
import YAML from 'yaml';
import { ErrorCode, PipelineError } from '../errors.ts';
import { CONFIG_KEYS, type ConfigKey } from './keys.ts';
import { ConfigSchema, type Config } from './schema.ts';

export class ConfigError extends PipelineError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(ErrorCode.CONFIG, `invalid configuration:\n  - ${problems.join('\n  - ')}`, false);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface ConfigSources {
  /** Path of the YAML file (--config / OTEL_SIGMA_CONFIG). */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Raw flag values by flag name (without dashes), as the CLI parsed them. */
  flags?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export function loadConfig(src: ConfigSources = {}): Readonly<Config> {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const file = src.file ?? src.env?.['OTEL_SIGMA_CONFIG'];
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError([`config file "${file}": cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    const doc = YAML.parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) throw new ConfigError(doc.errors.map((e) => `config file "${file}": ${e.message}`));
    const parsed: unknown = doc.toJS();
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`config file "${file}": expected a mapping of sections at the top level`]);
      Object.assign(raw, parsed);
    }
  }
  problems.push(...unknownEnvironment(src.env));
  for (const key of CONFIG_KEYS) {
    const envVal = src.env?.[key.env];
    if (envVal !== undefined && envVal !== '') set(raw, key, coerce(key, envVal, `environment ${key.env}`, problems));
    const flagVal = src.flags?.[key.flag];
    if (flagVal !== undefined) set(raw, key, coerce(key, flagVal, `flag --${key.flag}`, problems));
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(describeIssue(issue, raw));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}

/** Environment variables otel-sigma reads besides the config keys. */
const OTHER_ENV = new Set(['OTEL_SIGMA_CONFIG']);

/** A typo'd OTEL_SIGMA_* variable is refused like an unknown key in the file: silently ignoring it would run another configuration than the one meant. */
function unknownEnvironment(env: NodeJS.ProcessEnv | undefined): string[] {
  if (env === undefined) return [];
  const known = new Set(CONFIG_KEYS.map((k) => k.env));
  return Object.keys(env)
    .filter((name) => name.startsWith('OTEL_SIGMA_') && !known.has(name) && !OTHER_ENV.has(name))
    .sort()
    .map((name) => {
      const near = closest(name, [...known, ...OTHER_ENV]);
      return `environment ${name}: unknown variable${near ? `; did you mean ${near}?` : ''} (every OTEL_SIGMA_* variable is listed in docs/configuration.md)`;
    });
}

/** The candidate within edit distance 3, if any. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function coerce(key: ConfigKey, v: string | readonly string[], where: string, problems: string[]): unknown {
  const values = typeof v === 'string' ? [v] : v;
  const last = values[values.length - 1] ?? '';
  switch (key.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(last.trim())) {
        problems.push(`${key.path} (${where}): got "${last}"; expected an integer`);
        return undefined;
      }
      return Number(last);
    }
    case 'list':
      return values.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    case 'map-list': {
      const out: Record<string, string[]> = {};
      for (const item of values.flatMap((s) => s.split(';'))) {
        const eq = item.indexOf('=');
        if (eq <= 0) {
          problems.push(`${key.path} (${where}): got "${item}"; expected NAME=value1,value2`);
          continue;
        }
        out[item.slice(0, eq).trim()] = item.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
      }
      return out;
    }
    default:
      return last;
  }
}

function set(root: Record<string, unknown>, key: ConfigKey, value: unknown): void {
  if (value === undefined) return;
  const parts = key.path.split('.');
  let node = root;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

interface Issue { readonly path: readonly PropertyKey[]; readonly message: string; readonly code?: string; readonly keys?: readonly string[] }

function describeIssue(issue: Issue, raw: Record<string, unknown>): string {
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    return issue.keys.map((k) => {
      const full = base === '' ? k : `${base}.${k}`;
      const known = CONFIG_KEYS.map((c) => c.path).filter((p) => p.startsWith(base === '' ? '' : `${base}.`)).map((p) => p.slice(base === '' ? 0 : base.length + 1).split('.')[0]);
      return `${full}: unknown key; allowed here: ${[...new Set(known)].join(', ')}`;
    }).join('\n  - ');
  }
  let value: unknown = raw;
  for (const p of issue.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[p] : undefined;
  const secret = CONFIG_KEYS.some((c) => c.path === base && c.kind === 'secret');
  const shown = secret ? '[redacted]' : JSON.stringify(value);
  return `${base || '(top level)'}: got ${shown}; ${issue.message}`;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** The config with secrets replaced, safe to log or print. */
export function redactConfig(cfg: Readonly<Config>): unknown {
  return JSON.parse(JSON.stringify(cfg, (k, v: unknown) => (CONFIG_KEYS.some((c) => c.kind === 'secret' && c.path.endsWith(`.${k}`)) && v !== '' ? '[redacted]' : v)));
}
