/**
 * A Sigma keyword (the engine: some leaf value of the mapped event contains it, case-insensitively) as
 * a superset condition over the stored row: every literal piece of the keyword occurs in the row's text
 * (body, attribute and resource maps). Mapped values are the row's own text except where a mapper
 * decodes: JSON and ClickHouse's map serialization escape quotes, backslashes and `/`, XML bodies carry
 * entities, CEF/LEEF and RFC 5424 escape `=`, `|`, `]`, and auditd hex-encodes values. So the keyword
 * is cut at those characters (and at wildcards and non-ASCII, which positionCaseInsensitive does not
 * fold) and only the remaining (at most three longest) pieces are required; auditd lines are not narrowed.
 */
import { sqlString } from '../hunt/reader.ts';
import { BODY, type Aliases } from './signoz-fields.ts';

/** The row's text a keyword is looked for in (one alias: computed once per row however many keywords). */
export const TEXT = 'sigma_text';
const TEXT_EXPR = `concat(${BODY}, '\\n', toString(attributes_string), '\\n', toString(attributes_number), '\\n', toString(attributes_bool), '\\n', toString(resources_string))`;

/**
 * auditd records (audit.log lines, journald's audit transport): the mapper decodes hex-encoded values
 * (proctitle, execve arguments) and joins the records of one event, so a value may be in another row.
 */
export const AUDITD = 'sigma_audit';
const AUDITD_EXPR = `positionCaseInsensitive(${BODY}, 'audit') > 0`;

/** Characters whose stored form may differ from the mapped value (see above), and Sigma's wildcards. */
const CUT = /[\\"'<>&=|\]/*?]|[^\x20-\x7e]/u;
/** Shorter pieces narrow little and cost a search each. */
const MIN_PIECE = 3;

/** Literal pieces (at most three, longest first) every value the keyword matches contains as stored. */
export function keywordPieces(keyword: string): string[] {
  // Sigma's escapes (\*, \?, \\) only change wildcards into literals; cutting at `\`, `*` and `?` covers both.
  const pieces = keyword.split(CUT).filter((p) => p.length >= MIN_PIECE);
  return [...new Set(pieces)].sort((a, b) => b.length - a.length).slice(0, 3);
}

/** The pieces in the row's text ('1' when the keyword has none to require); without the auditd exception. */
export function piecesCond(literal: string, aliases: Aliases): string {
  const pieces = keywordPieces(literal);
  if (pieces.length === 0) return '1';
  aliases.set(TEXT, TEXT_EXPR);
  return pieces.map((p) => `positionCaseInsensitive(${TEXT}, ${sqlString(p)}) > 0`).join(' AND ');
}

/** Rows where some of the literals' pieces occur, and every auditd row. */
export function textCond(conds: readonly string[], q: 'any' | 'all', aliases: Aliases): string {
  if (q === 'any' ? conds.includes('1') : conds.every((c) => c === '1')) return '1';
  aliases.set(AUDITD, AUDITD_EXPR);
  const parts = [...new Set(conds.filter((c) => c !== '1'))];
  return `${AUDITD} OR ${parts.map((c) => `(${c})`).join(q === 'any' ? ' OR ' : ' AND ')}`;
}

/** A keyword as a condition ('1' when nothing of it can be required). */
export function keywordCond(keyword: string, aliases: Aliases): string {
  return textCond([piecesCond(keyword, aliases)], 'any', aliases);
}
