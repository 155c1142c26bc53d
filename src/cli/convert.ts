/** `otel-sigma convert --target clickhouse [--json] RULE...`: Sigma rules → ClickHouse SQL over SigNoz's logs table. */
import { statSync } from 'node:fs';
import { loadConfig } from '../config/load.ts';
import { convertRuleFiles, ruleQuery } from '../convert/convert.ts';
import { findRuleFiles } from '../detect/rules/load.ts';
import { loadLogsourceMapping } from '../map/logsource-mapping.ts';
import { assertTableName } from '../hunt/reader.ts';

export function runConvert(paths: readonly string[], o: { target: string; json?: boolean; signozTable: string }, configFile: string | undefined, flags: Record<string, string | string[] | undefined>): number {
  if (o.target !== 'clickhouse') throw new Error(`--target: got "${o.target}"; only "clickhouse" is supported`);
  const table = assertTableName(o.signozTable);
  const cfg = loadConfig({ file: configFile, env: process.env, flags });
  const mapping = loadLogsourceMapping({ overrideFiles: cfg.rules.mapping_files });
  const files = paths.flatMap((p) => (statSync(p).isDirectory() ? findRuleFiles([p], []) : [p]));
  const rules = convertRuleFiles(files, mapping, cfg.rules.placeholders);
  for (const r of rules) {
    if (o.json === true) {
      process.stdout.write(`${JSON.stringify({ file: r.file, id: r.id, title: r.title, translation: r.translation, notes: r.notes, sql: ruleQuery(r, table) })}\n`);
    } else {
      const head = `-- ${r.title} (${r.id}) ${r.file}\n-- translation: ${r.translation}${r.notes.map((n) => `\n--   ${n}`).join('')}\n`;
      process.stdout.write(`${head}${ruleQuery(r, table)};\n\n`);
    }
  }
  return rules.some((r) => r.translation === 'untranslatable') ? 3 : 0;
}
