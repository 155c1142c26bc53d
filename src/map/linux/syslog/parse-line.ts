/**
 * A syslog line as files and the network carry it → header parts and message.
 *
 * Accepted shapes (all seen from rsyslog 8.2302 on Debian 12, see test/fixtures/linux/):
 * - traditional file format `Mmm dd HH:MM:SS host tag[pid]: msg` (day space-padded);
 * - Debian 12's default RFC3339 high-precision file format `2026-11-22T02:21:49.730928+00:00 host tag[pid]: msg`;
 * - either of them behind a `<PRI>` (RFC3164 on the wire);
 * - RFC5424 `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG` (`-` = nil).
 * Hand-written and linear: no regular expression can backtrack on a hostile megabyte line.
 */
export interface SyslogLine {
  /** Timestamp text as written (not converted: the OTLP record carries the time). */
  readonly timestamp: string;
  readonly hostname: string;
  /** The tag's program part; "" when the line has no `tag:`. */
  readonly appname: string;
  readonly procId: string;
  readonly msgId: string;
  readonly message: string;
  /** From `<PRI>`; undefined when the line has none (files). */
  readonly priority: number | undefined;
  readonly facility: number | undefined;
  readonly severity: number | undefined;
  /** RFC5424 structured data text, "" when nil/absent. */
  readonly structuredData: string;
}

const MONTHS = new Set(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']);

export function parseSyslogLine(line: string): SyslogLine | undefined {
  let pos = 0;
  let priority: number | undefined;
  if (line.charCodeAt(0) === 60 /* < */) {
    const close = line.indexOf('>');
    if (close < 2 || close > 4) return undefined;
    priority = digits(line, 1, close);
    if (priority === undefined || priority > 191) return undefined;
    pos = close + 1;
    if (line.charCodeAt(pos) === 49 /* 1 */ && line.charCodeAt(pos + 1) === 32) return parse5424(line, pos + 2, priority);
  }
  const tsEnd = timestampEnd(line, pos);
  if (tsEnd === undefined) return undefined;
  const timestamp = line.slice(pos, tsEnd);
  const hostStart = tsEnd + 1;
  const hostEnd = line.indexOf(' ', hostStart);
  if (hostEnd <= hostStart) return undefined;
  const hostname = line.slice(hostStart, hostEnd);
  const { appname, procId, message } = splitTag(line, hostEnd + 1);
  // Without <PRI> and without a tag, "timestamp word rest" is as likely an application's own log
  // line as syslog: leave it to the generic mapper.
  if (appname === '' && priority === undefined) return undefined;
  return withPri({ timestamp, hostname, appname, procId, msgId: '', message, structuredData: '' }, priority);
}

function withPri(parts: Omit<SyslogLine, 'priority' | 'facility' | 'severity'>, priority: number | undefined): SyslogLine {
  return {
    ...parts,
    priority,
    facility: priority === undefined ? undefined : priority >> 3,
    severity: priority === undefined ? undefined : priority & 7,
  };
}

/** End of a traditional (`Nov 22 02:22:28`, `Nov  2 …`) or RFC3339 timestamp at `pos`, followed by a space. */
function timestampEnd(line: string, pos: number): number | undefined {
  if (MONTHS.has(line.slice(pos, pos + 3)) && line.charCodeAt(pos + 3) === 32) {
    // "Mmm dd HH:MM:SS" is 15 characters; a day may be space-padded.
    const end = pos + 15;
    if (line.charCodeAt(end) !== 32 || line.charCodeAt(pos + 9) !== 58 || line.charCodeAt(pos + 12) !== 58) return undefined;
    return end;
  }
  // RFC3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  if (line.charCodeAt(pos + 4) !== 45 || line.charCodeAt(pos + 10) !== 84 || digits(line, pos, pos + 4) === undefined) return undefined;
  const end = line.indexOf(' ', pos);
  if (end < 0 || end - pos > 40) return undefined;
  return end;
}

/** `tag[pid]: message` or `tag: message`; a line without a tag has all of it as message. */
function splitTag(line: string, start: number): { appname: string; procId: string; message: string } {
  let i = start;
  const limit = Math.min(line.length, start + 256);
  while (i < limit) {
    const c = line.charCodeAt(i);
    if (c === 58 /* : */ || c === 91 /* [ */ || c === 32) break;
    i++;
  }
  const c = line.charCodeAt(i);
  if (c === 58 && i > start) return { appname: line.slice(start, i), procId: '', message: afterColon(line, i) };
  if (c === 91 && i > start) {
    const close = line.indexOf(']', i);
    if (close > i && close - i < 32 && line.charCodeAt(close + 1) === 58) {
      return { appname: line.slice(start, i), procId: line.slice(i + 1, close), message: afterColon(line, close + 1) };
    }
  }
  return { appname: '', procId: '', message: line.slice(start) };
}

function afterColon(line: string, colon: number): string {
  return line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
}

function parse5424(line: string, start: number, priority: number): SyslogLine | undefined {
  const fields: string[] = [];
  let pos = start;
  for (let n = 0; n < 5; n++) {
    const sp = line.indexOf(' ', pos);
    if (sp < 0) return undefined;
    fields.push(line.slice(pos, sp));
    pos = sp + 1;
  }
  const nil = (v: string | undefined): string => (v === undefined || v === '-' ? '' : v);
  let structuredData = '';
  if (line.charCodeAt(pos) === 91 /* [ */) {
    const end = sdEnd(line, pos);
    structuredData = line.slice(pos, end);
    pos = end;
  } else if (line.charCodeAt(pos) === 45 /* - */) {
    pos++;
  }
  if (line.charCodeAt(pos) === 32) pos++;
  let message = line.slice(pos);
  if (message.startsWith('\ufeff')) message = message.slice(1);
  return withPri(
    { timestamp: nil(fields[0]), hostname: nil(fields[1]), appname: nil(fields[2]), procId: nil(fields[3]), msgId: nil(fields[4]), message, structuredData },
    priority,
  );
}

/** End of the SD-ELEMENTs at `pos` (`[id k="v"]…`), honouring `\]` and `\"` inside values. */
function sdEnd(line: string, pos: number): number {
  let inValue = false;
  for (let i = pos; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
    } else if (c === 34) {
      inValue = !inValue;
    } else if (c === 93 /* ] */ && !inValue && line.charCodeAt(i + 1) !== 91) {
      return i + 1;
    }
  }
  return line.length;
}

function digits(line: string, start: number, end: number): number | undefined {
  if (end <= start) return undefined;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    n = n * 10 + (c - 48);
  }
  return n;
}
