/**
 * The windowseventlog receiver's `raw: false` map body → Sigma fields. Two shapes of `event_data`:
 * contrib v0.89–v0.144 (SigNoz today) `{data: [{Name: value}, …], binary?, name?}` with `""` for
 * unnamed items, and newer contrib `{Name: value, …, param1: …, binary?, name?}` plus `user_data
 * {name, data{…}}`. Field names and value types match the XML shape (see fields.ts).
 */
import type { AnyValue } from '../../decode/types.ts';
import { keywordsValue, putData, putSystem, type FieldBag } from './fields.ts';

type Obj = { readonly [key: string]: AnyValue };

const EXECUTION: Readonly<Record<string, string>> = {
  process_id: 'Execution_ProcessID',
  thread_id: 'Execution_ThreadID',
  processor_id: 'Execution_ProcessorID',
  session_id: 'Execution_SessionID',
  kernel_time: 'Execution_KernelTime',
  user_time: 'Execution_UserTime',
  processor_time: 'Execution_ProcessorTime',
};
const CORRELATION: Readonly<Record<string, string>> = {
  activity_id: 'Correlation_ActivityID',
  related_activity_id: 'Correlation_RelatedActivityID',
};

export function isObj(v: AnyValue | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `body` has the receiver's map shape (the keys every version always writes). */
export function isWindowsBody(body: AnyValue): body is Obj {
  return isObj(body) && isObj(body['event_id']) && typeof body['channel'] === 'string' && 'provider' in body;
}

/** Writes the Sigma fields of a map-shaped Windows body. System fields first: data items must not replace routing keys. */
export function readEventBody(b: Obj, out: FieldBag): void {
  const eventId = b['event_id'] as Obj;
  putSystem(out, 'EventID', eventId['id'] ?? null);
  if (eventId['qualifiers'] !== undefined) putSystem(out, 'EventID_Qualifiers', eventId['qualifiers']);
  const provider = b['provider'];
  if (isObj(provider)) {
    nonEmpty(out, 'Provider_Name', provider['name']);
    nonEmpty(out, 'Provider_Guid', provider['guid']);
    nonEmpty(out, 'Provider_EventSourceName', provider['event_source']);
  }
  putSystem(out, 'Channel', b['channel'] ?? '');
  putSystem(out, 'Computer', b['computer'] ?? '');
  if (b['record_id'] !== undefined) putSystem(out, 'EventRecordID', b['record_id']);
  nonEmpty(out, 'TimeCreated_SystemTime', b['system_time']);
  if (b['level'] !== undefined) putSystem(out, 'Level', b['level']);
  if (b['task'] !== undefined) putSystem(out, 'Task', b['task']);
  if (b['opcode'] !== undefined) putSystem(out, 'Opcode', b['opcode']);
  if (b['keywords'] !== undefined) putSystem(out, 'Keywords', keywordsValue(b['keywords']));
  if (b['version'] !== undefined) putSystem(out, 'Version', b['version']);
  const security = b['security'];
  if (isObj(security)) nonEmpty(out, 'Security_UserID', security['user_id']);
  subMap(out, b['execution'], EXECUTION);
  subMap(out, b['correlation'], CORRELATION);
  nonEmpty(out, 'Message', b['message']);
  nonEmpty(out, 'BinaryEventData', b['binary_event_data']);

  const ed = b['event_data'];
  if (isObj(ed)) readEventData(ed, out);
  const ud = b['user_data'];
  if (isObj(ud) && isObj(ud['data'])) {
    for (const [k, v] of Object.entries(ud['data'])) putData(out, 'UserData', k, v);
  }
}

function readEventData(ed: Obj, out: FieldBag): void {
  const list = ed['data'];
  if (Array.isArray(list)) {
    // Array shape: one single-key map per <Data>; the key is "" for unnamed items.
    let unnamed = 0;
    for (const item of list) {
      if (!isObj(item)) continue;
      for (const k in item) putData(out, 'EventData', k === '' ? `param${++unnamed}` : k, item[k]!);
    }
  } else {
    for (const k in ed) {
      if (k === 'binary' || k === 'name') continue;
      putData(out, 'EventData', k, ed[k]!);
    }
  }
  nonEmpty(out, 'Binary', ed['binary']);
}

function nonEmpty(out: FieldBag, name: string, v: AnyValue | undefined): void {
  if (v !== undefined && v !== null && v !== '') putSystem(out, name, v);
}

function subMap(out: FieldBag, v: AnyValue | undefined, names: Readonly<Record<string, string>>): void {
  if (!isObj(v)) return;
  for (const k in v) {
    const name = names[k];
    if (name !== undefined) nonEmpty(out, name, v[k]);
  }
}
