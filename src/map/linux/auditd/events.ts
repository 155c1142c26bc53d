/**
 * An assembled audit event → Sigma events.
 *
 * One Sigma event per record, not one merged event: SigmaHQ's auditd rules are written against single
 * audit.log lines (`type: EXECVE` + `a0`, `type: PATH` + `name` + `nametype`, `type: SYSCALL` + `a0`
 * as the raw syscall argument). Merging would put SYSCALL's `a0` (hex register) beside EXECVE's `a0`
 * (argv[0]) and mix the `name`/`nametype` of different PATH items, so selections would match across
 * records. Each non-SYSCALL record is enriched with the SYSCALL record's process context (exe, comm,
 * pid, ppid, uid, auid, euid, ses, tty, syscall, SYSCALL, success) where it has no field of that name,
 * so an EXECVE detection still says which binary ran. `key` and a0–a3 are not copied: `key` only
 * exists on SYSCALL, and copying it would fire key-only rules (`key: susp_activity`) once per record.
 *
 * A successful execve/execveat with its EXECVE record also yields a `process_creation` event (meta
 * source `auditd-execve`): Image = exe, CommandLine = argv joined by spaces, CurrentDirectory = CWD,
 * ProcessId/ParentProcessId = pid/ppid, User = the ENRICHED UID name (else the numeric uid),
 * LogonId = ses. auditd does not know the parent's image or command line, so ParentImage and
 * ParentCommandLine are absent; rules that need them cannot match (and filters on them do not filter).
 */
import type { LogRecordView } from '../../../decode/types.ts';
import type { FieldValue, MappedEvent } from '../../types.ts';
import type { AuditEvent } from './assembler.ts';
import { syscallName } from './syscalls.ts';

const SHARED = ['SYSCALL', 'syscall', 'arch', 'success', 'exit', 'pid', 'ppid', 'uid', 'auid', 'euid', 'ses', 'tty', 'comm', 'exe', 'UID', 'AUID', 'EUID'];

export function auditEvents(event: AuditEvent, host: (view: LogRecordView, node: string) => string, out: MappedEvent[]): void {
  const parts = event.parts;
  let syscall: Record<string, string> | undefined;
  let execve: Record<string, string> | undefined;
  let cwd: string | undefined;
  for (const part of parts) {
    const type = part.record.type;
    if (type === 'SYSCALL' && syscall === undefined) {
      syscall = part.record.fields;
      if (syscall.SYSCALL === undefined && syscall.arch !== undefined && syscall.syscall !== undefined) {
        const name = syscallName(syscall.arch, syscall.syscall);
        if (name !== undefined) syscall.SYSCALL = name;
      }
    } else if (type === 'EXECVE' && execve === undefined) execve = part.record.fields;
    else if (type === 'CWD' && cwd === undefined) cwd = part.record.fields.cwd;
  }
  for (const part of parts) {
    const record = part.record;
    // The parsed record's object becomes the event's fields (no copy: it is not used elsewhere).
    const own = record.fields;
    const key = own.key;
    const fields: Record<string, FieldValue> = own;
    fields.type = record.type;
    fields.msg = `audit(${record.id})`;
    if (record.node !== '') fields.node = record.node;
    if (key !== undefined && key.includes('\x01')) fields.key = key.split('\x01');
    if (syscall !== undefined && own !== syscall) {
      for (const name of SHARED) {
        const value = syscall[name];
        if (value !== undefined && !(name in fields)) fields[name] = value;
      }
    }
    out.push({
      event: { fields, meta: { source: 'auditd', product: 'linux', service: 'auditd', host: host(part.view, record.node) } },
      record: part.view,
    });
  }
  if (syscall !== undefined && execve !== undefined && syscall.success === 'yes' && (syscall.SYSCALL === 'execve' || syscall.SYSCALL === 'execveat')) {
    const last = parts[parts.length - 1]!;
    out.push({ event: processCreation(syscall, execve, cwd, host(last.view, last.record.node)), record: last.view });
  }
}

function processCreation(syscall: Record<string, string>, execve: Record<string, string>, cwd: string | undefined, host: string): MappedEvent['event'] {
  const argc = Number(execve.argc ?? 0);
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) {
    const arg = execve[`a${i}`];
    if (arg === undefined) break;
    argv.push(arg);
  }
  const fields: Record<string, FieldValue> = { CommandLine: argv.join(' ') };
  if (syscall.exe !== undefined) fields.Image = syscall.exe;
  if (cwd !== undefined) fields.CurrentDirectory = cwd;
  if (syscall.pid !== undefined) fields.ProcessId = syscall.pid;
  if (syscall.ppid !== undefined) fields.ParentProcessId = syscall.ppid;
  const user = syscall.UID ?? syscall.uid;
  if (user !== undefined) fields.User = user;
  if (syscall.ses !== undefined) fields.LogonId = syscall.ses;
  return { fields, meta: { source: 'auditd-execve', product: 'linux', service: 'auditd', host } };
}
