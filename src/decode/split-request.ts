/**
 * An encoded ExportLogsServiceRequest cut into `parts` smaller requests along its ResourceLogs (field 1),
 * balanced by size, without decoding anything below them. A request splits only where one host's
 * records (one ResourceLogs) stay together, so auditd's multi-record events are not torn apart.
 * Anything unexpected at the top level (another field, a truncated length) → the request whole, so
 * the worker that decodes it reports the fault.
 */
import protobuf from 'protobufjs/minimal.js';

const { Reader } = protobuf;

export function splitExportRequest(bytes: Uint8Array, parts: number): Uint8Array[] {
  const spans: [number, number][] = [];
  const r = Reader.create(bytes);
  try {
    while (r.pos < r.len) {
      const start = r.pos;
      if (r.uint32() !== 0x0a) return [bytes]; // field 1, length-delimited
      r.skip(r.uint32());
      spans.push([start, r.pos]);
    }
  } catch {
    return [bytes]; // a length past the end
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
