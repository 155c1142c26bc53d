/** The coverage report as text for a terminal: the family lines, one row per logsource, what cannot fire, ATT&CK totals. */
import { familyLines, type CoverageReport, type LogsourceState } from './report.ts';

const STATE_ORDER: readonly LogsourceState[] = ['receiving', 'waiting', 'not_collected', 'unmapped'];

export function coverageText(report: CoverageReport): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const out: string[] = [];
  const c = report.counters;
  out.push(`${n(report.rules)} rules over ${n(report.logsources.length)} logsources; ${n(report.rules_receiving)} rules receive data. ` +
    (c.since === null ? 'No events counted yet (serve keeps the counters in <data_dir>/coverage.json).' : `Events counted since ${c.since} (as of ${c.updated_at ?? '?'}).`));
  out.push('');
  for (const f of familyLines(report)) out.push(f.line);
  out.push('');
  const rows = [...report.logsources].sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) || b.rules - a.rules || a.key.localeCompare(b.key));
  const table: string[][] = [['STATE', 'RULES', 'EVENTS', 'LAST SEEN', 'LOGSOURCE (product/category/service)', 'FROM']];
  for (const l of rows) {
    const from = l.state === 'unmapped' ? 'no mapping: only generic events'
      : l.state === 'not_collected' ? `${l.not_collected.join(', ')} (not collected by the shipped agent)`
        : l.any_generic_event ? 'any generic event' : l.family === 'generic' ? 'generic events its mapping identifies' : l.needs.join(', ');
    table.push([l.state, n(l.rules), n(l.events), l.last_seen ?? '-', l.key, from]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const r of table) {
    out.push(r.map((cell, i) => (i === r.length - 1 ? cell : i === 1 || i === 2 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd());
  }
  out.push('');
  const cf = report.cannot_fire;
  out.push(`Cannot fire with the shipped agent configs: ${n(report.rules_cannot_fire)} rules: ${n(cf.not_collected.rules)} need a channel or source the shipped agent does not collect` +
    `${cf.not_collected.logsources.length > 0 ? ` (${cf.not_collected.logsources.join(', ')})` : ''}; ${n(cf.unmapped.rules)} have a logsource with no mapping.`);
  const live = report.techniques.filter((t) => t.state === 'receives_data').length;
  out.push(`ATT&CK: ${n(report.techniques.length)} techniques and sub-techniques tagged, ${n(live)} covered by rules that receive data, ${n(report.techniques.length - live)} by rules only loaded.`);
  return `${out.join('\n')}\n`;
}
