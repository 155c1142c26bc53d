/**
 * An encoded ExportLogsServiceRequest cut into `parts` smaller requests along its ResourceLogs (field 1),
 * balanced by size, without decoding anything below them. A request splits only where one host's
 * records (one ResourceLogs) stay together, so auditd's multi-record events are not torn apart.
 * Anything unexpected at the top level (another field, a truncated length) → the request whole, so
 * the worker that decodes it reports the fault.
 */
export function splitExportRequest(bytes: Uint8Array, parts: number): Uint8Array[] {
  const spans: [number, number][] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    const tag = varint(bytes, i);
    if (tag === undefined || tag.value !== 0x0a) return [bytes]; // field 1, length-delimited
    const len = varint(bytes, tag.next);
    if (len === undefined || len.next + len.value > bytes.length) return [bytes];
    i = len.next + len.value;
    spans.push([start, i]);
  }
  if (parts < 2 || spans.length < 2) return [bytes];
  const n = Math.min(parts, spans.length);
  const out: Uint8Array[] = [];
  let from = 0;
  for (let s = 0; s < spans.length; s++) {
    const partsLeft = n - out.length;
    const spansLeft = spans.length - s - 1;
    // Cut at the share of what is left, or where each part still to come needs one ResourceLogs of its own.
    const share = (bytes.length - spans[from]![0]) / partsLeft;
    if (partsLeft > 1 && (spans[s]![1] - spans[from]![0] >= share || spansLeft === partsLeft - 1)) {
      out.push(bytes.slice(spans[from]![0], spans[s]![1]));
      from = s + 1;
    }
  }
  out.push(bytes.slice(spans[from]![0], bytes.length));
  return out;
}

/** A protobuf varint at `at` (up to 35 bits: lengths and tags), or undefined when cut short. */
export function varint(b: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let shift = 0, i = at; i < b.length && shift < 35; shift += 7, i++) {
    const byte = b[i]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return { value, next: i + 1 };
  }
  return undefined;
}
