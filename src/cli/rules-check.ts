/** `otel-sigma rules check [--json] [--profile --events FILE...] PATH...` */
import { loadConfig } from '../config/load.ts';
import { loadRuleset, type RuleCost, type Ruleset } from '../detect/ruleset.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { createRecordMapper } from '../map/map-records.ts';
import type { LogsourceMapping } from '../map/types.ts';
import { readRequests } from './eval.ts';
import { selectionFromConfig } from '../config/from-config.ts';
import { assertRulePaths } from '../config/rule-paths.ts';

export interface ProfileOptions {
  /** OTLP request files (as `eval` reads them) to evaluate. */
  readonly events: readonly string[];
  /** How many rules to print. */
  readonly top: number;
}

export function runRulesCheck(paths: readonly string[], json: boolean, configFile: string | undefined, flags: Record<string, string | string[] | undefined>, profile?: ProfileOptions): number {
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  assertRulePaths(paths, 'rules check PATH');
  const t0 = performance.now();
  const mapping = loadLogsourceMapping({ overrideFiles: cfg.rules.mapping_files });
  const rs = loadRuleset({
    paths,
    mapping,
    placeholders: cfg.rules.placeholders,
    select: selectionFromConfig(cfg),
    profile: profile !== undefined,
  });
  const ms = Math.round(performance.now() - t0);
  const problems = rs.problems.map((p) => ({
    file: p.file,
    ...(p.line !== undefined ? { line: p.line } : {}),
    ...(p.ruleId !== undefined ? { rule_id: p.ruleId } : {}),
    severity: p.severity,
    reason: p.reason,
  }));
  const prof = profile ? profileRules(rs, profile, mapping) : undefined;
  if (!json) {
    for (const p of problems) process.stdout.write(`${p.severity === 'error' ? 'error' : 'warning'}: ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}\n`);
    if (prof) {
      process.stdout.write(`profile: ${prof.events} events in ${prof.ms.toFixed(0)} ms (${Math.round(prof.events / (prof.ms / 1000))} events/s), ${prof.evaluations} rule tests run; top ${prof.top.length} rules by time in their tests:\n`);
      for (const c of prof.top) {
        process.stdout.write(`  ${c.ms.toFixed(2).padStart(9)} ms  ${String(c.evaluations).padStart(7)} tests  ${String(c.matches).padStart(6)} matches  ${(c.evaluations ? (c.ms * 1000) / c.evaluations : 0).toFixed(1).padStart(7)} µs/test  ${c.rule.id}  ${c.rule.title}  (${c.rule.file})\n`);
      }
    }
    process.stdout.write(`${rs.loaded} rules loaded, ${rs.rejected} rejected, ${rs.skipped} not selected, in ${ms} ms\n`);
  } else {
    const profileJson = prof
      ? {
          profile: {
            events: prof.events,
            ms: Math.round(prof.ms),
            rule_tests: prof.evaluations,
            top: prof.top.map((c) => ({ rule_id: c.rule.id, title: c.rule.title, file: c.rule.file, tests: c.evaluations, matches: c.matches, ms: Number(c.ms.toFixed(3)) })),
          },
        }
      : {};
    process.stdout.write(`${JSON.stringify({ loaded: rs.loaded, rejected: rs.rejected, skipped: rs.skipped, compile_ms: ms, problems, ...profileJson })}\n`);
  }
  return rs.rejected > 0 ? 1 : 0;
}

/** Evaluates the files' events through the whole ruleset (decode → map → detect, as `eval`) and ranks the rules by time spent in their tests. */
function profileRules(rs: Ruleset, opts: ProfileOptions, mapping: LogsourceMapping): { events: number; ms: number; evaluations: number; top: RuleCost[] } {
  const mapper = createRecordMapper({ mapping });
  const events = opts.events.flatMap((f) => [...mapper.map(readRequests(f)), ...mapper.flush()]);
  const t0 = performance.now();
  for (const { event } of events) rs.detector.evaluate(event);
  const ms = performance.now() - t0;
  const costs = rs.detector.ruleCosts();
  return { events: events.length, ms, evaluations: costs.reduce((n, c) => n + c.evaluations, 0), top: costs.filter((c) => c.evaluations > 0).slice(0, opts.top) };
}

