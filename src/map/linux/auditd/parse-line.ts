/**
 * One raw auditd line → its record type, event id and decoded key=value fields.
 *
 * auditd writes `[node=N ]type=T msg=audit(SECONDS.MS:SERIAL): k=v k="v" …` and, with the default
 * ENRICHED log format, appends a 0x1d byte and the interpreted fields (`ARCH=x86_64 SYSCALL=execve
 * UID="root" …`). Untrusted strings (exe, comm, name, EXECVE arguments, proctitle …) are written
 * double-quoted when printable and as unquoted upper-case hex otherwise, so an unquoted value of such a
 * field is decoded here: SigmaHQ rules compare the text the program saw (`a0: sysctl`), never the hex.
 * User-space records carry their payload in `msg='k=v …'`; those pairs are flattened into the record.
 * The scanner is a single linear pass: hostile lines (unterminated quotes, megabytes long) cost O(n).
 */
export interface AuditRecord {
  /** Record type name as written (`SYSCALL`, `EXECVE`, `UNKNOWN[1334]` …). */
  readonly type: string;
  /** `node=` prefix (auditd `name_format`), "" when absent. */
  readonly node: string;
  /** `SECONDS.MS:SERIAL`: equal for all records of one event. */
  readonly id: string;
  /** Event time in seconds since the epoch as auditd wrote it (`1795314109.332`). */
  readonly time: string;
  /** Decoded fields; the ENRICHED part's upper-case names are included when they do not collide. */
  readonly fields: Record<string, string>;
  /** True for records that are an event of their own: user-space messages, DAEMON_*, kernel TTY. */
  readonly standalone: boolean;
}

/** Fields libauparse treats as escaped strings: unquoted means hex-encoded. */
const ESCAPED = new Set([
  'acct', 'cgroup', 'cmd', 'comm', 'cwd', 'data', 'device', 'dir', 'exe', 'file', 'key', 'name', 'new-chardev', 'new-disk',
  'new-fs', 'new-rng', 'ocomm', 'old-chardev', 'old-disk', 'old-fs', 'old-rng', 'path', 'proctitle', 'root_dir', 'sw', 'vm', 'watch',
]);

const GS = '\x1d';

/** Parses one auditd line; undefined when it is not one (no `type=` or no `msg=audit(…):`). */
export function parseAuditLine(line: string): AuditRecord | undefined {
  let pos = 0;
  let node = '';
  if (line.startsWith('node=')) {
    const sp = line.indexOf(' ');
    if (sp < 0) return undefined;
    node = line.slice(5, sp);
    pos = sp + 1;
  }
  if (!line.startsWith('type=', pos)) return undefined;
  const typeEnd = line.indexOf(' ', pos);
  if (typeEnd < 0) return undefined;
  const type = line.slice(pos + 5, typeEnd);
  if (!line.startsWith('msg=audit(', typeEnd + 1)) return undefined;
  const idStart = typeEnd + 11;
  const idEnd = line.indexOf(')', idStart);
  if (idEnd < 0 || idEnd - idStart > 40) return undefined;
  const id = line.slice(idStart, idEnd);
  const colon = id.indexOf(':');
  if (colon <= 0) return undefined;
  let body = idEnd + 1;
  if (line.charCodeAt(body) === 58 /* : */) body++;

  const gs = line.indexOf(GS, body);
  const mainEnd = gs < 0 ? line.length : gs;
  const fields: Record<string, string> = {};
  const state: ScanState = { userMsg: false, argParts: undefined };
  scanPairs(line, body, mainEnd, fields, type === 'EXECVE', true, state);
  if (state.argParts !== undefined) {
    for (const [name, parts] of state.argParts) fields[name] = decodeHex(parts.join(''));
  }
  if (gs >= 0) {
    const enriched: Record<string, string> = {};
    scanPairs(line, gs + 1, line.length, enriched, false, false, state);
    for (const key in enriched) if (!(key in fields)) fields[key] = enriched[key]!;
  }
  return { type, node, id, time: id.slice(0, colon), fields, standalone: state.userMsg || isStandaloneType(type) };
}

/** User-space message types (some, like USER_TTY, carry no `msg='…'`), auditd's own, and kernel TTY records. */
const STANDALONE_PREFIXES = ['USER_', 'CRED_', 'ADD_', 'DEL_', 'GRP_', 'CHGRP_', 'CHUSER_', 'ACCT_', 'SERVICE_', 'SYSTEM_', 'DAEMON_', 'ANOM_LOGIN', 'ROLE_', 'LABEL_', 'VIRT_', 'CRYPTO_'];

function isStandaloneType(type: string): boolean {
  return type === 'TTY' || STANDALONE_PREFIXES.some((p) => type.startsWith(p));
}

interface ScanState {
  userMsg: boolean;
  /** EXECVE arguments too long for one field arrive as `a1[0]=HEX a1[1]=HEX …` (after `a1_len=`). */
  argParts: Map<string, string[]> | undefined;
}

function scanPairs(
  line: string, start: number, end: number, out: Record<string, string>, execve: boolean, decode: boolean, state: ScanState,
): void {
  let i = start;
  let lastUnquotedKey: string | undefined;
  while (i < end) {
    while (i < end && line.charCodeAt(i) === 32) i++;
    if (i >= end) break;
    let keyEnd = i;
    while (keyEnd < end) {
      const c = line.charCodeAt(keyEnd);
      if (c === 61 /* = */ || c === 32) break;
      keyEnd++;
    }
    if (keyEnd >= end || line.charCodeAt(keyEnd) !== 61) {
      // A bare word continues the previous unquoted value: user records write `op=adding user id=0`.
      if (lastUnquotedKey !== undefined) out[lastUnquotedKey] += ' ' + line.slice(i, keyEnd);
      i = keyEnd;
      continue;
    }
    const key = line.slice(i, keyEnd);
    let v = keyEnd + 1;
    const open = line.charCodeAt(v);
    if (open === 34 /* " */ || open === 39 /* ' */ || open === 123 /* { */) {
      const close = open === 123 ? '}' : open === 34 ? '"' : "'";
      let stop = line.indexOf(close, v + 1);
      if (stop < 0 || stop > end) stop = end; // unterminated: the rest of the line is the value
      const value = line.slice(v + 1, stop);
      i = stop + 1;
      lastUnquotedKey = undefined;
      if (open === 39 && key === 'msg') {
        state.userMsg = true;
        scanPairs(line, v + 1, stop, out, false, decode, state);
        continue;
      }
      out[key] = open === 123 ? value.trim() : value;
      continue;
    }
    while (v < end && line.charCodeAt(v) !== 32) v++;
    let value = line.slice(keyEnd + 1, v);
    i = v;
    lastUnquotedKey = key;
    if (!decode) {
      out[key] = value;
      continue;
    }
    if (execve && key.charCodeAt(0) === 97 /* a */) {
      const bracket = key.indexOf('[');
      if (bracket > 0) {
        const name = key.slice(0, bracket);
        state.argParts ??= new Map();
        let parts = state.argParts.get(name);
        if (parts === undefined) state.argParts.set(name, (parts = []));
        parts.push(value);
        lastUnquotedKey = undefined;
        continue;
      }
      if (isArgName(key)) value = decodeHex(value);
    } else if (ESCAPED.has(key)) {
      value = key === 'proctitle' ? decodeProctitle(value) : decodeHex(value);
    }
    out[key] = value;
  }
}

function isArgName(key: string): boolean {
  for (let i = 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return key.length > 1;
}

function isHex(value: string): boolean {
  if (value.length === 0 || value.length % 2 !== 0) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70))) return false;
  }
  return true;
}

/** Upper-case hex → UTF-8 text; anything else (`(null)`, `?`) is returned unchanged. */
export function decodeHex(value: string): string {
  return isHex(value) ? Buffer.from(value, 'hex').toString('utf8') : value;
}

/** proctitle is argv joined by NUL bytes: decoded with spaces, as `ps` shows it. */
export function decodeProctitle(value: string): string {
  if (!isHex(value)) return value;
  // eslint-disable-next-line no-control-regex
  return Buffer.from(value, 'hex').toString('utf8').replace(/\x00+$/, '').replace(/\x00/g, ' ');
}
