/**
 * `otel-sigma rules coverage [--rules DIR]... [--json] [--layer FILE] [--svg FILE]`: what the rules can see,
 * offline. Loads the rules as `serve` would (same configuration), reads the event counters a `serve` on the
 * same data directory keeps (<data_dir>/coverage.json, saved every 2 s when it changed and at shutdown; readable while it
 * runs) and the shipped agent configs, and prints the coverage report: as a table, or one JSON document.
 */
import fs from 'node:fs';
import path from 'node:path';
import { selectionFromConfig } from '../config/from-config.ts';
import { loadConfig } from '../config/load.ts';
import { assertRulePaths } from '../config/rule-paths.ts';
import { readShippedAgents } from '../detect/rule-coverage/agents.ts';
import { coverageSvg } from '../detect/rule-coverage/heatmap.ts';
import { navigatorLayer } from '../detect/rule-coverage/navigator.ts';
import { buildCoverageReport, type CoverageCounts } from '../detect/rule-coverage/report.ts';
import { summarizeRules } from '../detect/rule-coverage/rule-stats.ts';
import { coverageText } from '../detect/rule-coverage/text.ts';
import { loadRuleset } from '../detect/ruleset.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { COVERAGE_FILE, readCoverageCounts } from '../telemetry/coverage-counters.ts';

export interface CoverageCliOptions {
  readonly json?: boolean;
  /** Navigator layer file ('-': stdout instead of the report). */
  readonly layer?: string;
  /** SVG heatmap file ('-': stdout instead of the report). */
  readonly svg?: string;
}

export function runRulesCoverage(opts: CoverageCliOptions, configFile: string | undefined, flags: Record<string, string | string[] | undefined>): number {
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  assertRulePaths(cfg.rules.paths);
  if (opts.layer === '-' && opts.svg === '-') throw new Error('--layer - and --svg - both ask for stdout; write one of them to a file');
  const mapping = loadLogsourceMapping({ overrideFiles: cfg.rules.mapping_files });
  const rs = loadRuleset({ paths: cfg.rules.paths, mapping, placeholders: cfg.rules.placeholders, select: selectionFromConfig(cfg) });
  if (rs.rejected > 0) process.stderr.write(`${rs.rejected} rule documents were refused and are not counted; "otel-sigma rules check" lists why.\n`);

  const countsFile = path.join(cfg.storage.data_dir, COVERAGE_FILE);
  let counts: CoverageCounts | undefined;
  try {
    counts = readCoverageCounts(countsFile);
  } catch (err) {
    process.stderr.write(`warning: ${(err as Error).message}; showing no events received.\n`);
  }
  if (counts === undefined) process.stderr.write(`No event counters in ${countsFile} (serve writes them there); every logsource shows as not received yet.\n`);

  const report = buildCoverageReport({ rules: summarizeRules(rs.rules, mapping), mapping, agents: readShippedAgents(), counts });
  const toStdout = opts.layer === '-' || opts.svg === '-';
  if (opts.layer !== undefined) write(opts.layer, `${JSON.stringify(navigatorLayer(report), null, 1)}\n`);
  if (opts.svg !== undefined) write(opts.svg, coverageSvg(report));
  if (!toStdout) process.stdout.write(opts.json === true ? `${JSON.stringify(report)}\n` : coverageText(report));
  return 0;
}

function write(file: string, text: string): void {
  if (file === '-') process.stdout.write(text);
  else {
    fs.writeFileSync(file, text);
    process.stderr.write(`wrote ${file}\n`);
  }
}
