/**
 * A durable-log record on disk:
 *
 *   u32 LE magic 'OSW1' | u32 LE payload length | u32 LE crc32(payload) | payload
 *
 * The length and checksum let recovery tell a complete record from one torn by a crash or a full
 * disk mid-append; the magic keeps a stray file from being read as records.
 */
import { crc32 } from 'node:zlib';

const MAGIC = 0x3157534f; // 'OSW1' read as u32 LE
export const HEADER_BYTES = 12;
/** No record comes near this; a larger length field means a torn or foreign header. */
export const MAX_PAYLOAD = 1024 * 1024 * 1024;

export function encodeRecord(payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(payload.length, 4);
  buf.writeUInt32LE(crc32(payload), 8);
  payload.copy(buf, HEADER_BYTES);
  return buf;
}

/** End offsets of the complete, valid records from the start of `data`; scanning stops at the first torn or corrupt one. */
export function scanRecords(data: Buffer): number[] {
  const ends: number[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= data.length) {
    if (data.readUInt32LE(at) !== MAGIC) break;
    const len = data.readUInt32LE(at + 4);
    const end = at + HEADER_BYTES + len;
    if (len > MAX_PAYLOAD || end > data.length) break;
    if (crc32(data.subarray(at + HEADER_BYTES, end)) !== data.readUInt32LE(at + 8)) break;
    ends.push(end);
    at = end;
  }
  return ends;
}

/** The payloads of consecutive records known to be valid (they were scanned or written by this process). */
export function payloads(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + HEADER_BYTES <= data.length; ) {
    const end = at + HEADER_BYTES + data.readUInt32LE(at + 4);
    out.push(data.subarray(at + HEADER_BYTES, end));
    at = end;
  }
  return out;
}
