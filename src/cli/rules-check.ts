/** `otel-sigma rules check [--json] PATH...` */
import { loadConfig } from '../config/load.ts';
import { rulesetFromConfig } from './ruleset-from-config.ts';

export function runRulesCheck(paths: readonly string[], json: boolean, configFile: string | undefined, flags: Record<string, string | string[] | undefined>): number {
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  const t0 = performance.now();
  const rs = rulesetFromConfig(cfg, paths);
  const ms = Math.round(performance.now() - t0);
  const problems = rs.problems.map((p) => ({
    file: p.file,
    ...(p.line !== undefined ? { line: p.line } : {}),
    ...(p.ruleId !== undefined ? { rule_id: p.ruleId } : {}),
    severity: p.severity,
    reason: p.reason,
  }));
  if (!json) {
    for (const p of problems) process.stdout.write(`${p.severity === 'error' ? 'error' : 'warning'}: ${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.reason}\n`);
    process.stdout.write(`${rs.loaded} rules loaded, ${rs.rejected} rejected, ${rs.skipped} not selected, in ${ms} ms\n`);
  } else {
    process.stdout.write(`${JSON.stringify({ loaded: rs.loaded, rejected: rs.rejected, skipped: rs.skipped, compile_ms: ms, problems })}\n`);
  }
  return rs.rejected > 0 ? 1 : 0;
}
