/**
 * The coverage report: per logsource of the loaded rules, how many rules and whether its events have been
 * received (the service's counters), which rules cannot fire with the shipped agent configurations (a
 * Windows channel or Linux source the agent does not collect, or no logsource mapping at all), and the
 * ATT&CK techniques covered by rules that receive data vs rules that are only loaded.
 *
 * Pure: rules summary + mapping + shipped agents + counters in, report out. `serve` (GET /api/v1/coverage)
 * and `otel-sigma rules coverage` build the same report.
 */
import type { LogsourceMapping, LogsourceVariant } from '../../map/types.ts';
import type { ShippedAgents } from './agents.ts';
import { compareTechniques, NO_TACTIC } from './attack.ts';
import { FALLBACK_KEY, logsourceKey, type LogsourceRules, type RuleCoverage } from './rule-stats.ts';

export type Family = 'windows' | 'linux' | 'generic';
export const FAMILIES: readonly Family[] = ['windows', 'linux', 'generic'];
export const FAMILY_LABEL: Readonly<Record<Family, string>> = { windows: 'windows', linux: 'linux', generic: 'generic/cloud' };

/**
 * receiving: events of the logsource have reached its rules. waiting: none yet, but the shipped agent (or,
 * for cloud and other generic logs, your own pipeline) can deliver them. not_collected: every way the
 * logsource arrives needs a channel or source the shipped agent does not collect. unmapped: no mapping;
 * the rules only run on generic events and cannot fire as written.
 */
export type LogsourceState = 'receiving' | 'waiting' | 'not_collected' | 'unmapped';

export interface CoverageCount {
  readonly events: number;
  readonly first_seen: string;
  readonly last_seen: string;
}

/** The service's counters (persisted as <data_dir>/coverage.json). */
export interface CoverageCounts {
  /** When counting started (the first start of serve on this data directory). */
  readonly since: string;
  readonly updated_at: string;
  /** Logsource key (`product/category/service`, or `(fallback)`) → events routed to its rules. */
  readonly logsources: Readonly<Record<string, CoverageCount>>;
}

export interface LogsourceCoverage {
  readonly key: string;
  readonly product: string;
  readonly category: string;
  readonly service: string;
  readonly family: Family;
  readonly rules: number;
  readonly state: LogsourceState;
  readonly events: number;
  readonly first_seen: string | null;
  readonly last_seen: string | null;
  /** Windows: the event log channels its events come from; Linux: the event sources (journald, auditd, …). */
  readonly needs: readonly string[];
  /** Those of `needs` the shipped agent does not collect. */
  readonly not_collected: readonly string[];
  /** The mapping does not tell this product's events apart: any generic event reaches these rules. */
  readonly any_generic_event: boolean;
  /** ATT&CK techniques its rules are tagged with. */
  readonly techniques: number;
}

export interface FamilyCoverage {
  readonly family: Family;
  readonly label: string;
  readonly rules: number;
  readonly logsources: number;
  readonly rules_receiving: number;
  /** Windows: channels the rules need; Linux: event sources; generic: products (or the category, when a rule names none). */
  readonly needs: readonly string[];
  /** What the not_collected logsources need and the shipped agent does not collect. */
  readonly not_collected: readonly string[];
  readonly rules_not_collected: number;
  readonly rules_unmapped: number;
  /** The shipped agent file the family was checked against (null: none ships, or it could not be read). */
  readonly agent: string | null;
}

export interface TechniqueCoverage {
  readonly id: string;
  readonly tactics: readonly string[];
  readonly rules: number;
  readonly rules_receiving: number;
  readonly state: 'receives_data' | 'loaded_only';
}

export interface CoverageReport {
  readonly generated_at: string;
  /** Where the received-state comes from; null fields when nothing has been counted yet. */
  readonly counters: { readonly since: string | null; readonly updated_at: string | null };
  readonly rules: number;
  readonly rules_receiving: number;
  readonly rules_cannot_fire: number;
  readonly families: readonly FamilyCoverage[];
  readonly logsources: readonly LogsourceCoverage[];
  readonly cannot_fire: {
    readonly not_collected: { readonly rules: number; readonly logsources: readonly string[] };
    readonly unmapped: { readonly rules: number; readonly logsources: readonly string[] };
  };
  /** Generic events the unmapped logsources' rules ran on (the mapping's fallback). */
  readonly fallback_events: number;
  readonly techniques: readonly TechniqueCoverage[];
  /** Per technique with its sub-techniques folded in: rules tagged with any of them, each rule once. */
  readonly technique_groups: readonly { readonly id: string; readonly rules: number; readonly rules_receiving: number }[];
}

export interface ReportInput {
  readonly rules: RuleCoverage;
  readonly mapping: LogsourceMapping;
  readonly agents: ShippedAgents;
  readonly counts?: CoverageCounts | undefined;
  readonly now?: Date;
}

export function buildCoverageReport(input: ReportInput): CoverageReport {
  const { mapping, agents } = input;
  const counts = input.counts?.logsources ?? {};
  const entries = new Map(mapping.entries.map((e) => [logsourceKey(e), e.variants]));
  const channels = agents.windows && new Set(agents.windows.channels.map((c) => c.toLowerCase()));
  const sources = agents.linux && new Set(agents.linux.sources.map((s) => s.toLowerCase()));

  const logsources = input.rules.logsources.map((ls): LogsourceCoverage => {
    const key = logsourceKey(ls);
    const variants = ls.mapped ? (entries.get(key) ?? []) : [];
    const family = familyOf(ls, variants);
    const reach = reachOf(family, variants, channels, sources);
    const count = ls.mapped ? counts[key] : undefined;
    const events = count?.events ?? 0;
    const state: LogsourceState = !ls.mapped ? 'unmapped' : events > 0 ? 'receiving' : reach.reachable ? 'waiting' : 'not_collected';
    return {
      key,
      product: ls.product,
      category: ls.category,
      service: ls.service,
      family,
      rules: ls.rules,
      state,
      events,
      first_seen: count?.first_seen ?? null,
      last_seen: count?.last_seen ?? null,
      needs: reach.needs,
      not_collected: reach.notCollected,
      any_generic_event: family === 'generic' && variants.length > 0 && variants.every((v) => Object.keys(v.when).every((k) => k === '@source')),
      techniques: Object.keys(ls.techniques).length,
    };
  });

  const sum = (xs: readonly LogsourceCoverage[]): number => xs.reduce((n, x) => n + x.rules, 0);
  const notCollected = logsources.filter((l) => l.state === 'not_collected');
  const unmapped = logsources.filter((l) => l.state === 'unmapped');
  const families = FAMILIES.map((family): FamilyCoverage => {
    const mine = logsources.filter((l) => l.family === family);
    const needs = family === 'generic' ? [...new Set(mine.filter((l) => l.state !== 'unmapped').map((l) => l.product || l.category || l.service))].sort() : union(mine.map((l) => l.needs));
    const agent = family === 'windows' ? agents.windows?.file : family === 'linux' ? agents.linux?.file : undefined;
    return {
      family,
      label: FAMILY_LABEL[family],
      rules: sum(mine),
      logsources: mine.length,
      rules_receiving: sum(mine.filter((l) => l.state === 'receiving')),
      needs,
      not_collected: union(mine.filter((l) => l.state === 'not_collected').map((l) => l.not_collected)),
      rules_not_collected: sum(mine.filter((l) => l.state === 'not_collected')),
      rules_unmapped: sum(mine.filter((l) => l.state === 'unmapped')),
      agent: agent ?? null,
    };
  });

  return {
    generated_at: (input.now ?? new Date()).toISOString(),
    counters: { since: input.counts?.since ?? null, updated_at: input.counts?.updated_at ?? null },
    rules: sum(logsources),
    rules_receiving: sum(logsources.filter((l) => l.state === 'receiving')),
    rules_cannot_fire: sum(notCollected) + sum(unmapped),
    families,
    logsources,
    cannot_fire: {
      not_collected: { rules: sum(notCollected), logsources: notCollected.map((l) => l.key) },
      unmapped: { rules: sum(unmapped), logsources: unmapped.map((l) => l.key) },
    },
    fallback_events: counts[FALLBACK_KEY]?.events ?? 0,
    techniques: techniqueCoverage(input.rules, logsources),
    technique_groups: groupCoverage(input.rules, logsources),
  };
}

function familyOf(ls: LogsourceRules, variants: readonly LogsourceVariant[]): Family {
  if (ls.product === 'windows') return 'windows';
  if (ls.product === 'linux') return 'linux';
  if (variants.some((v) => 'Channel' in v.when)) return 'windows';
  return 'generic';
}

/**
 * What a logsource's events need (channels, or Linux sources) and whether the shipped agent delivers any
 * of its variants: a variant without a Channel (@source) condition is reachable from any event of the family.
 * Without the agent file nothing is ruled out.
 */
function reachOf(family: Family, variants: readonly LogsourceVariant[], channels: ReadonlySet<string> | undefined, sources: ReadonlySet<string> | undefined): { needs: string[]; notCollected: string[]; reachable: boolean } {
  const key = family === 'windows' ? 'Channel' : family === 'linux' ? '@source' : undefined;
  const collected = family === 'windows' ? channels : sources;
  if (key === undefined) return { needs: [], notCollected: [], reachable: true };
  const needs = union(variants.map((v) => (v.when[key] ?? []).map(String)));
  if (collected === undefined) return { needs, notCollected: [], reachable: true };
  const notCollected = needs.filter((n) => !collected.has(n.toLowerCase()));
  const reachable = variants.length === 0 || variants.some((v) => {
    const vs = v.when[key];
    return vs === undefined || vs.some((x) => collected.has(String(x).toLowerCase()));
  });
  return { needs, notCollected, reachable };
}

function techniqueCoverage(rules: RuleCoverage, logsources: readonly LogsourceCoverage[]): TechniqueCoverage[] {
  const state = new Map(logsources.map((l) => [l.key, l.state]));
  const total = new Map<string, number>();
  const receiving = new Map<string, number>();
  for (const ls of rules.logsources) {
    const live = state.get(logsourceKey(ls)) === 'receiving';
    for (const [t, n] of Object.entries(ls.techniques)) {
      total.set(t, (total.get(t) ?? 0) + n);
      if (live) receiving.set(t, (receiving.get(t) ?? 0) + n);
    }
  }
  return [...total.keys()].sort(compareTechniques).map((id) => {
    const r = receiving.get(id) ?? 0;
    const tactics = rules.tactics[id] ?? [];
    return { id, tactics: tactics.length > 0 ? tactics : [NO_TACTIC], rules: total.get(id)!, rules_receiving: r, state: r > 0 ? 'receives_data' : 'loaded_only' };
  });
}

function groupCoverage(rules: RuleCoverage, logsources: readonly LogsourceCoverage[]): { id: string; rules: number; rules_receiving: number }[] {
  const live = new Set(logsources.filter((l) => l.state === 'receiving').map((l) => l.key));
  const out = new Map<string, { id: string; rules: number; rules_receiving: number }>();
  for (const ls of rules.logsources) {
    const receiving = live.has(logsourceKey(ls));
    for (const [id, n] of Object.entries(ls.groups)) {
      let g = out.get(id);
      if (g === undefined) out.set(id, (g = { id, rules: 0, rules_receiving: 0 }));
      g.rules += n;
      if (receiving) g.rules_receiving += n;
    }
  }
  return [...out.values()].sort((a, b) => compareTechniques(a.id, b.id));
}

function union(lists: readonly (readonly string[])[]): string[] {
  const seen = new Map<string, string>();
  for (const l of lists) for (const x of l) if (!seen.has(x.toLowerCase())) seen.set(x.toLowerCase(), x);
  return [...seen.values()].sort((a, b) => a.localeCompare(b));
}

/** One line per family, as serve logs them at start-up and `rules coverage` prints them. */
export function familyLines(report: CoverageReport): { family: Family; line: string; fields: Record<string, unknown> }[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  const count = (x: number, what: string): string => `${n(x)} ${what}${x === 1 ? '' : 's'}`;
  const list = (xs: readonly string[], max = 4): string => (xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')}, … (${xs.length - max} more)`);
  return report.families.filter((f) => f.rules > 0).map((f) => {
    const parts: string[] = [];
    if (f.family === 'windows') {
      parts.push(`${f.label}: ${count(f.rules, 'rule')} over ${count(f.needs.length, 'channel')}`);
      parts.push(f.agent === null ? 'shipped agent config not found' : f.not_collected.length === 0 ? 'every channel collected by the shipped agent'
        : `${count(f.not_collected.length, 'channel')} not collected by the shipped agent (${list(f.not_collected)}): ${count(f.rules_not_collected, 'rule')} cannot fire`);
    } else if (f.family === 'linux') {
      parts.push(`${f.label}: ${count(f.rules, 'rule')} over ${count(f.logsources, 'logsource')} from ${f.needs.length > 0 ? list(f.needs, 6) : 'any Linux event'}`);
      parts.push(f.agent === null ? 'shipped agent config not found' : f.rules_not_collected === 0 ? 'the shipped agent collects a source of every one'
        : `${count(f.rules_not_collected, 'rule')} need a source the shipped agent does not collect (${list(f.not_collected)})`);
    } else {
      parts.push(`${f.label}: ${count(f.rules, 'rule')} over ${count(f.logsources, 'logsource')}${f.needs.length > 0 ? ` (${list(f.needs, 6)})` : ''}`);
      parts.push('no shipped agent: they see what your own collector pipelines send');
    }
    if (f.rules_unmapped > 0) parts.push(`${count(f.rules_unmapped, 'rule')} with no logsource mapping cannot fire as written`);
    parts.push(`${count(f.rules_receiving, 'rule')} receiving data`);
    return {
      family: f.family,
      line: `${parts.join('; ')}.`,
      fields: { family: f.family, rules: f.rules, logsources: f.logsources, rulesReceiving: f.rules_receiving, notCollected: f.not_collected, rulesNotCollected: f.rules_not_collected, rulesUnmapped: f.rules_unmapped },
    };
  });
}
