/**
 * `otel-sigma convert --target clickhouse [--json] RULE...`: Sigma rules → ClickHouse SQL over SigNoz's logs table.
 * Exit status (also in `convert --help` and docs/hunting.md): 0 every rule's query narrows the rows (exact or
 * prefiltered); 1 a rule file cannot be read or parsed; 3 some rule's query narrows nothing (unfiltered).
 */
import { statSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { convertRuleFiles, countsText, ruleQuery, translationCounts, type CorrelationSummary } from '../convert/convert.ts';
import { findRuleFiles } from '../detect/rules/load.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { assertTableName } from '../hunt/reader.ts';

export function runConvert(paths: readonly string[], o: { target: string; json?: boolean; signozTable: string }, configFile: string | undefined, flags: Record<string, string | string[] | undefined>): number {
  if (o.target !== 'clickhouse') throw new Error(`--target: got "${o.target}"; only "clickhouse" is supported`);
  const table = assertTableName(o.signozTable);
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  const mapping = loadLogsourceMapping({ overrideFiles: cfg.rules.mapping_files });
  const files = paths.flatMap((p) => (statSync(p).isDirectory() ? findRuleFiles([p], []) : [p]));
  const correlations: CorrelationSummary[] = [];
  const rules = convertRuleFiles(files, mapping, cfg.rules.placeholders, correlations);
  for (const r of rules) {
    if (o.json === true) {
      process.stdout.write(`${JSON.stringify({ file: r.file, id: r.id, title: r.title, translation: r.translation, notes: r.notes, sql: ruleQuery(r, table) })}\n`);
    } else {
      const head = `-- ${r.title} (${r.id}) ${r.file}\n-- translation: ${r.translation}${r.notes.map((n) => `\n--   ${n}`).join('')}\n`;
      process.stdout.write(`${head}${ruleQuery(r, table)};\n\n`);
    }
  }
  // Correlations are no query of their own: they run over their rules' matches (serve, eval); their rules' queries are above.
  for (const c of correlations) {
    const note = `correlation ${c.type} over ${c.rules.join(', ')}${c.groupBy.length > 0 ? ` by ${c.groupBy.join(', ')}` : ''} within ${c.timespan}: evaluated over its rules' matches by serve and eval, not translated to SQL`;
    if (o.json === true) process.stdout.write(`${JSON.stringify({ file: c.file, id: c.id, title: c.title, translation: 'correlation', notes: [note], sql: null })}\n`);
    else process.stdout.write(`-- ${c.title} (${c.id}) ${c.file}\n-- translation: correlation\n--   ${note}\n\n`);
  }
  const counts = translationCounts(rules);
  const unreadable = rules.filter((r) => r.unreadable === true).length;
  process.stderr.write(`${rules.length - unreadable} rules: ${countsText(counts)}` +
    `${correlations.length > 0 ? `; ${correlations.length} correlation rules (not SQL: they run over their rules' matches)` : ''}` +
    `${unreadable > 0 ? `; ${unreadable} file(s) unreadable or not valid YAML` : ''}\n`);
  if (unreadable > 0) return 1;
  return counts.unfiltered > 0 ? 3 : 0;
}
