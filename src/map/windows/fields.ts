/**
 * Field naming and value rules shared by the three windowseventlog shapes, so the same event gives
 * the same Sigma fields whichever shape carried it. Names follow the XML/evtx convention SigmaHQ rules
 * and thor use: System elements by name (`EventID`, `Channel`), System attributes joined with `_`
 * (`Provider_Name`, `Execution_ProcessID`), EventData/UserData by name with spaces removed.
 */
import type { FieldValue } from '../types.ts';

/** Mutable field bag. */
export type FieldBag = Record<string, FieldValue>;

/**
 * Bags have no Object.prototype in their chain, so event-supplied names like `__proto__` or
 * `constructor` are plain keys and absent fields read as undefined. Built with a constructor whose
 * prototype is null-prototyped rather than Object.create(null): V8 keeps these in fast mode and shares
 * hidden classes between events of the same kind, which makes adding and reading fields cheaper.
 */
function Bag(): void {}
Bag.prototype = Object.create(null) as object;
const BagCtor = Bag as unknown as new () => FieldBag;

export function newFieldBag(): FieldBag {
  return new BagCtor();
}

/** System fields that are integers in the map shape; the XML shape's strings are converted to match. */
const NUMERIC_SYSTEM = new Set([
  'EventID',
  'EventID_Qualifiers',
  'Version',
  'EventRecordID',
  'Execution_ProcessID',
  'Execution_ThreadID',
  'Execution_ProcessorID',
  'Execution_SessionID',
  'Execution_KernelTime',
  'Execution_UserTime',
  'Execution_ProcessorTime',
]);

/**
 * Routing keys: logsource variants select on them, so an EventData/UserData item of the same name
 * (System 104 carries the cleared log's name as UserData `Channel`) must not replace them. The item
 * is kept as `EventData_<Name>` / `UserData_<Name>` instead.
 */
const ROUTING = new Set(['Channel', 'EventID', 'Provider_Name']);

/** Rendered level names (map shape with publisher metadata) back to System/Level numbers, as the XML has them. */
const LEVEL_NUMBER: Readonly<Record<string, string>> = {
  critical: '1',
  error: '2',
  warning: '3',
  information: '4',
  verbose: '5',
};

export function putSystem(out: FieldBag, name: string, value: FieldValue): void {
  if (name === 'Level' && typeof value === 'string') {
    out[name] = LEVEL_NUMBER[value.toLowerCase()] ?? value;
    return;
  }
  if (NUMERIC_SYSTEM.has(name)) {
    const n = toInt(value);
    // Qualifiers are 0 unless the provider sets them; the map shape cannot tell 0 from absent.
    if (name === 'EventID_Qualifiers' && (n === 0 || value === '' || value === null)) return;
    out[name] = n ?? value;
    return;
  }
  out[name] = value;
}

/** EventData / UserData item: spaces removed from the name; never replaces a routing key. */
export function putData(out: FieldBag, section: 'EventData' | 'UserData', rawName: string, value: FieldValue): void {
  const name = rawName.includes(' ') ? rawName.replaceAll(' ', '') : rawName;
  if (ROUTING.has(name) && name in out) {
    out[`${section}_${name}`] = value;
    return;
  }
  out[name] = value;
}

function toInt(v: FieldValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.length === 0 || v.length > 15) return undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(v);
}

/**
 * The Security log's two rendered keywords back to the System/Keywords mask the XML has (rules test
 * the mask, e.g. `Keywords: '0x8010000000000000'`). Other rendered names cannot be reversed.
 */
const AUDIT_KEYWORDS: Readonly<Record<string, string>> = {
  'audit failure': '0x8010000000000000',
  'audit success': '0x8020000000000000',
};

/** Keywords: one value as a plain string (as the XML has it), several as a list. */
export function keywordsValue(v: FieldValue): FieldValue {
  if (!Array.isArray(v) || v.length !== 1) return v;
  const one = v[0] as FieldValue;
  return typeof one === 'string' ? (AUDIT_KEYWORDS[one.toLowerCase()] ?? one) : one;
}
