/**
 * The coverage report as a picture: an SVG heatmap with the ATT&CK tactics as columns (matrix order) and
 * one cell per technique the rules are tagged with, green when rules of a logsource that receives data
 * cover it, amber when its rules are only loaded. Sub-techniques are folded into their technique's cell
 * (green if any of them receives data; `+N` says how many), so a column stays readable; the cell's
 * tooltip lists them, and the Navigator layer has every one. Self-contained, no dependency.
 */
import { compareTactics, compareTechniques } from './attack.ts';
import { COLOR_LOADED_ONLY, COLOR_RECEIVES_DATA } from './navigator.ts';
import type { CoverageReport, TechniqueCoverage } from './report.ts';

const COL_W = 132;
const GAP = 8;
const CELL_H = 22;
const CELL_GAP = 3;
const MARGIN = 16;
const TOP = 104;
const HEADER_H = 56;
const FONT = 'font-family="DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif"';

interface Cell {
  readonly id: string;
  readonly receiving: boolean;
  readonly rules: number;
  readonly rulesReceiving: number;
  readonly subs: readonly TechniqueCoverage[];
}

export function coverageSvg(report: CoverageReport, title = 'otel-sigma ATT&CK coverage'): string {
  const columns = tacticColumns(report.techniques, report.technique_groups);
  const rows = Math.max(1, ...columns.map((c) => c.cells.length));
  const width = Math.max(840, MARGIN * 2 + columns.length * (COL_W + GAP) - GAP);
  const height = TOP + HEADER_H + rows * (CELL_H + CELL_GAP) + MARGIN;
  const receiving = report.techniques.filter((t) => t.state === 'receives_data').length;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`);
  out.push(`<title>${esc(title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN}" y="30" font-size="20" font-weight="bold" fill="#222">${esc(title)}</text>`);
  out.push(`<text x="${MARGIN}" y="52" font-size="13" fill="#444">${esc(
    `${report.techniques.length} techniques and sub-techniques in the rules' tags: ${receiving} covered by rules that receive data, ` +
    `${report.techniques.length - receiving} by rules only loaded.`)}</text>`);
  out.push(`<text x="${MARGIN}" y="70" font-size="11" fill="#777">${esc(
    `${report.rules_receiving} of ${report.rules} rules receive data. Generated ${report.generated_at}; counting since ${report.counters.since ?? 'never (no counters yet)'}.`)}</text>`);
  legend(out, MARGIN, 90);

  columns.forEach((col, i) => {
    const x = MARGIN + i * (COL_W + GAP);
    const live = col.cells.filter((c) => c.receiving).length;
    out.push(`<rect x="${x}" y="${TOP}" width="${COL_W}" height="${HEADER_H - 6}" rx="3" fill="#3b4a5a"/>`);
    const label = headerLines(tacticLabel(col.tactic));
    label.forEach((line, k) => {
      const y = TOP + (label.length === 1 ? 20 : 14 + k * 14);
      out.push(`<text x="${x + COL_W / 2}" y="${y}" font-size="11.5" font-weight="bold" fill="#fff" text-anchor="middle">${esc(line)}</text>`);
    });
    out.push(`<text x="${x + COL_W / 2}" y="${TOP + 43}" font-size="10" fill="#d8e0e8" text-anchor="middle">${live} / ${col.cells.length} with data</text>`);
    col.cells.forEach((c, j) => {
      const y = TOP + HEADER_H + j * (CELL_H + CELL_GAP);
      const tip = [`${c.id}: ${c.rules} rules, ${c.rulesReceiving} receiving data`, ...c.subs.map((s) => `${s.id}: ${s.rules} rules, ${s.rules_receiving} receiving data`)].join('\n');
      const fg = c.receiving ? '#ffffff' : '#3d2b00';
      out.push(`<g><title>${esc(tip)}</title>`);
      out.push(`<rect x="${x}" y="${y}" width="${COL_W}" height="${CELL_H}" rx="2" fill="${c.receiving ? COLOR_RECEIVES_DATA : COLOR_LOADED_ONLY}"/>`);
      out.push(`<text x="${x + 6}" y="${y + 15}" font-size="11.5" font-weight="bold" fill="${fg}">${esc(c.id)}${c.subs.length > 0 ? `<tspan font-weight="normal" font-size="10"> +${c.subs.length}</tspan>` : ''}</text>`);
      out.push(`<text x="${x + COL_W - 6}" y="${y + 15}" font-size="10.5" fill="${fg}" text-anchor="end">${c.rules} rule${c.rules === 1 ? '' : 's'}</text>`);
      out.push('</g>');
    });
  });
  if (columns.length === 0) out.push(`<text x="${MARGIN}" y="${TOP + 20}" font-size="13" fill="#777">No loaded rule carries an ATT&amp;CK technique tag.</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function legend(out: string[], x: number, y: number): void {
  out.push(`<rect x="${x}" y="${y - 12}" width="14" height="14" rx="2" fill="${COLOR_RECEIVES_DATA}"/>`);
  out.push(`<text x="${x + 20}" y="${y}" font-size="12" fill="#222">rules receive data</text>`);
  out.push(`<rect x="${x + 150}" y="${y - 12}" width="14" height="14" rx="2" fill="${COLOR_LOADED_ONLY}"/>`);
  out.push(`<text x="${x + 170}" y="${y}" font-size="12" fill="#222">rules loaded, no data yet</text>`);
  out.push(`<text x="${x + 340}" y="${y}" font-size="11" fill="#777">Sub-techniques are folded into their technique (+N).</text>`);
}

/**
 * Tactic → its techniques' cells (sub-techniques folded into the parent), receiving first within each, then
 * by id. A cell's rule counts come from `groups` (each rule once) when given.
 */
export function tacticColumns(techniques: readonly TechniqueCoverage[], groups: CoverageReport['technique_groups'] = []): { tactic: string; cells: Cell[] }[] {
  const groupOf = new Map(groups.map((g) => [g.id, g]));
  type Group = { own: TechniqueCoverage | undefined; subs: TechniqueCoverage[] };
  const byTactic = new Map<string, Map<string, Group>>();
  for (const t of techniques) {
    const parent = t.id.split('.')[0]!;
    for (const tactic of t.tactics) {
      let col = byTactic.get(tactic);
      if (col === undefined) byTactic.set(tactic, (col = new Map<string, Group>()));
      let group = col.get(parent);
      if (group === undefined) col.set(parent, (group = { own: undefined, subs: [] }));
      if (t.id === parent) group.own = t;
      else group.subs.push(t);
    }
  }
  return [...byTactic.entries()].sort(([a], [b]) => compareTactics(a, b)).map(([tactic, col]) => ({
    tactic,
    cells: [...col.entries()].map(([id, g]): Cell => {
      const all = g.own !== undefined ? [g.own, ...g.subs] : g.subs;
      const counted = groupOf.get(id);
      return {
        id,
        receiving: all.some((t) => t.state === 'receives_data'),
        rules: counted?.rules ?? all.reduce((n, t) => n + t.rules, 0),
        rulesReceiving: counted?.rules_receiving ?? all.reduce((n, t) => n + t.rules_receiving, 0),
        subs: [...g.subs].sort((a, b) => compareTechniques(a.id, b.id)),
      };
    }).sort((a, b) => Number(b.receiving) - Number(a.receiving) || compareTechniques(a.id, b.id)),
  }));
}

/** A header that does not fit the column on one line (about 17 bold characters) is split at the space nearest its middle. */
function headerLines(label: string): string[] {
  if (label.length <= 17 || !label.includes(' ')) return [label];
  const spaces = [...label.matchAll(/ /g)].map((m) => m.index);
  const cut = spaces.reduce((best, i) => (Math.abs(i - label.length / 2) < Math.abs(best - label.length / 2) ? i : best));
  return [label.slice(0, cut), label.slice(cut + 1)];
}

/** `command-and-control` → `Command and Control`, `no-tactic` → `No Tactic Tag`. */
function tacticLabel(t: string): string {
  if (t === 'no-tactic') return 'No Tactic Tag';
  return t.split('-').map((w) => (w === 'and' ? 'and' : w.charAt(0).toUpperCase() + w.slice(1))).join(' ');
}

function esc(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
