/**
 * Where a Sigma field of a Windows event lives in a SigNoz `logs_v2` row, as ClickHouse expressions.
 * Bodies are the windowseventlog receiver's map body as JSON text (both event_data shapes:
 * `{data: [{Name: value}]}` and flat `{Name: value}`, plus `user_data.data`), or the raw XML string.
 * An expression yields '' when it cannot find the field; callers treat '' as "unknown", never as "absent".
 */
import { sqlString } from '../hunt/reader.ts';

export const IS_JSON = "startsWith(body, '{')";
export const IS_XML = "startsWith(trimLeft(body), '<')";

/** System fields read from fixed places of the JSON body; everything else is an EventData/UserData item. */
const JSON_SYSTEM: Readonly<Record<string, string>> = {
  EventID: "toString(JSONExtractInt(body, 'event_id', 'id'))",
  Channel: "JSONExtractString(body, 'channel')",
  Provider_Name: "JSONExtractString(body, 'provider', 'name')",
  Computer: "JSONExtractString(body, 'computer')",
};

/** System fields the converter does not locate (their value is unknown, so conditions on them are not narrowed). */
const OTHER_SYSTEM = new Set([
  'EventID_Qualifiers', 'Version', 'Level', 'Task', 'Opcode', 'Keywords', 'TimeCreated', 'TimeCreated_SystemTime', 'EventRecordID',
  'Correlation_ActivityID', 'Correlation_RelatedActivityID', 'Execution_ProcessID', 'Execution_ThreadID', 'Security_UserID',
  'Provider_Guid', 'Provider_EventSourceName', 'Message',
]);

const XML_SYSTEM: Readonly<Record<string, string>> = {
  EventID: "extract(body, '<EventID[^>]*>\\\\s*(\\\\d+)\\\\s*</EventID>')",
  Channel: "extract(body, '<Channel>([^<]*)</Channel>')",
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

/** `WITH a AS n, …` for the aliases, '' when there are none. */
export function withClause(aliases: ReadonlyMap<string, string>): string {
  return aliases.size === 0 ? '' : `WITH ${[...aliases].map(([n, e]) => `${e} AS ${n}`).join(',\n  ')}\n`;
}

/** JSON-body expression for a field, or undefined when the converter cannot locate it. */
export function jsonFieldExpr(field: string): string | undefined {
  const sys = JSON_SYSTEM[field];
  if (sys !== undefined) return sys;
  if (OTHER_SYSTEM.has(field) || !/^[A-Za-z0-9_]+$/.test(field)) return undefined;
  const f = sqlString(field);
  const list = `arrayStringConcat(arrayMap(x -> JSONExtractString(x, ${f}), JSONExtractArrayRaw(body, 'event_data', 'data')))`;
  return `concat(${list}, JSONExtractString(body, 'event_data', ${f}), JSONExtractString(body, 'user_data', 'data', ${f}))`;
}

/** XML-body expression (system routing fields only: their text needs no entity decoding). */
export function xmlFieldExpr(field: string): string | undefined {
  return XML_SYSTEM[field];
}
