/**
 * Where a Sigma field of a Windows event lives in a SigNoz `logs_v2` row, as ClickHouse expressions.
 * Bodies are the windowseventlog receiver's map body as JSON text (both event_data shapes:
 * `{data: [{Name: value}]}` and flat `{Name: value}`, plus `user_data.data`), or the raw XML string.
 * An expression yields '' when it cannot find the field; callers treat '' as "unknown", never as "absent".
 *
 * SigNoz stores a map body in one of two places: as JSON text in `body`, or, with the exporter's
 * `body_json_enabled`, in the JSON-typed `body_v2` with `body` left empty (and the paths an admin
 * promoted moved to `body_promoted`). Every expression reads the body through one alias, BODY, whose
 * definition (bodyExpr) turns either layout into JSON text: ClickHouse's own serialization of body_v2,
 * followed by body_promoted's when that holds anything. JSONExtract reads the first object of such a
 * concatenation and a field it misses falls back to a substring test of the whole text (still a superset).
 */
import { sqlString } from '../hunt/reader.ts';

/** The body as text, whichever layout stored it (see bodyExpr). */
export const BODY = 'sigma_body';
/** A Windows event's map body (the Windows mapper reads JSON text only when it names `event_id`); other JSON bodies are Linux or generic events. */
export const IS_JSON = 'sigma_win';
export const IS_XML = 'sigma_xml';
/** Defined once per query (WITH), after BODY: thousands of rule conditions name them. */
const BODY_KINDS: readonly (readonly [string, string])[] = [
  [IS_JSON, `startsWith(${BODY}, '{') AND position(${BODY}, '"event_id"') > 0`],
  [IS_XML, `startsWith(trimLeft(${BODY}), '<')`],
];

/** Which body columns a logs table has: SigNoz tables created before migration 2001 lack body_v2/body_promoted. */
export interface BodyLayout {
  readonly bodyV2: boolean;
  readonly bodyPromoted: boolean;
}

export const BOTH_LAYOUTS: BodyLayout = { bodyV2: true, bodyPromoted: true };

/** The definition of BODY for a table with these columns. */
export function bodyExpr(layout: BodyLayout = BOTH_LAYOUTS): string {
  if (!layout.bodyV2) return 'body';
  const v2 = 'toString(body_v2)';
  if (!layout.bodyPromoted) return `if(body != '', body, ${v2})`;
  return `if(body != '', body, if(toString(body_promoted) = '{}', ${v2}, concat(${v2}, toString(body_promoted))))`;
}

/** System fields read from fixed places of the JSON body; everything else is an EventData/UserData item. */
const JSON_SYSTEM: Readonly<Record<string, string>> = {
  EventID: `toString(JSONExtractInt(${BODY}, 'event_id', 'id'))`,
  Channel: `JSONExtractString(${BODY}, 'channel')`,
  Provider_Name: `JSONExtractString(${BODY}, 'provider', 'name')`,
  Computer: `JSONExtractString(${BODY}, 'computer')`,
};

/** System fields the converter does not locate (their value is unknown, so conditions on them are not narrowed). */
const OTHER_SYSTEM = new Set([
  'EventID_Qualifiers', 'Version', 'Level', 'Task', 'Opcode', 'Keywords', 'TimeCreated', 'TimeCreated_SystemTime', 'EventRecordID',
  'Correlation_ActivityID', 'Correlation_RelatedActivityID', 'Execution_ProcessID', 'Execution_ThreadID', 'Security_UserID',
  'Provider_Guid', 'Provider_EventSourceName', 'Message',
]);

const XML_SYSTEM: Readonly<Record<string, string>> = {
  EventID: `extract(${BODY}, '<EventID[^>]*>\\\\s*(\\\\d+)\\\\s*</EventID>')`,
  Channel: `extract(${BODY}, '<Channel>([^<]*)</Channel>')`,
};

/** Query-level aliases (`WITH expr AS name`) so each field is extracted once per row and the SQL stays readable. */
export type Aliases = Map<string, string>;

/** JSON-body alias for a field (registered in `aliases`), or undefined when the converter cannot locate it. */
export function jsonField(field: string, aliases: Aliases): string | undefined {
  const e = jsonFieldExpr(field);
  if (e === undefined) return undefined;
  const name = `j_${field}`;
  aliases.set(name, e);
  return name;
}

export function xmlField(field: string, aliases: Aliases): string | undefined {
  const e = xmlFieldExpr(field);
  if (e === undefined) return undefined;
  const name = `x_${field}`;
  aliases.set(name, e);
  return name;
}

/** `WITH body AS sigma_body, … AS sigma_win, … AS sigma_xml, a AS n, …` (the body alias first: the others read it). */
export function withClause(aliases: ReadonlyMap<string, string>, layout: BodyLayout = BOTH_LAYOUTS): string {
  return `WITH ${[[BODY, bodyExpr(layout)] as const, ...BODY_KINDS, ...aliases].map(([n, e]) => `${e} AS ${n}`).join(',\n  ')}\n`;
}

/** JSON-body expression for a field, or undefined when the converter cannot locate it. */
export function jsonFieldExpr(field: string): string | undefined {
  const sys = JSON_SYSTEM[field];
  if (sys !== undefined) return sys;
  if (OTHER_SYSTEM.has(field) || !/^[A-Za-z0-9_]+$/.test(field)) return undefined;
  const f = sqlString(field);
  const list = `arrayStringConcat(arrayMap(x -> JSONExtractString(x, ${f}), JSONExtractArrayRaw(${BODY}, 'event_data', 'data')))`;
  return `concat(${list}, JSONExtractString(${BODY}, 'event_data', ${f}), JSONExtractString(${BODY}, 'user_data', 'data', ${f}))`;
}

/** XML-body expression (system routing fields only: their text needs no entity decoding). */
export function xmlFieldExpr(field: string): string | undefined {
  return XML_SYSTEM[field];
}
