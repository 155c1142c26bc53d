/**
 * The spool's on-disk record: one batch of detection rows.
 *
 *   u32 LE magic 'OSP1' | u32 LE payload length | u32 LE crc32(payload) | payload
 *   payload = JSON header line {"token","rows","tried"?} '\n' + the rows as JSONEachRow text
 *
 * `tried`: the batch was inserted (and failed) with its own token before it was spooled, so it may
 * already be in the table under that token and must be replayed alone, with that token.
 *
 * The length and checksum let recovery tell a complete record from one torn by a crash mid-append,
 * and the magic keeps a stray file in the directory from being read as a batch.
 */
import { crc32 } from 'node:zlib';

export const RECORD_MAGIC = 0x3150534f; // 'OSP1' read as u32 LE
export const HEADER_BYTES = 12;
/** No batch comes near this; a larger length field means a torn or foreign header. */
const MAX_PAYLOAD = 1024 * 1024 * 1024;

export interface RecordHeader {
  readonly token: string;
  readonly rows: number;
  readonly tried?: boolean;
}

export interface DecodedRecord extends RecordHeader {
  /** JSONEachRow text, one row per line, each line ending in '\n'. */
  readonly body: Buffer;
}

export function encodeRecord(token: string, rows: number, body: string, tried = false): Buffer {
  const head = `${JSON.stringify({ token, rows, ...(tried ? { tried } : {}) } satisfies RecordHeader)}\n`;
  const headLen = Buffer.byteLength(head);
  const bodyLen = Buffer.byteLength(body);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + headLen + bodyLen);
  buf.write(head, HEADER_BYTES, 'utf8');
  buf.write(body, HEADER_BYTES + headLen, 'utf8');
  const payload = buf.subarray(HEADER_BYTES);
  buf.writeUInt32LE(RECORD_MAGIC, 0);
  buf.writeUInt32LE(payload.length, 4);
  buf.writeUInt32LE(crc32(payload), 8);
  return buf;
}

/** Payload length from a 12-byte header, or undefined when it cannot start a record. */
export function payloadLength(header: Buffer): number | undefined {
  if (header.length < HEADER_BYTES || header.readUInt32LE(0) !== RECORD_MAGIC) return undefined;
  const len = header.readUInt32LE(4);
  return len > 0 && len <= MAX_PAYLOAD ? len : undefined;
}

/** Decodes one whole record (header + payload); undefined when the checksum or header is wrong. */
export function decodeRecord(rec: Buffer): DecodedRecord | undefined {
  const len = payloadLength(rec);
  if (len === undefined || rec.length !== HEADER_BYTES + len) return undefined;
  const payload = rec.subarray(HEADER_BYTES);
  if (crc32(payload) !== rec.readUInt32LE(8)) return undefined;
  const nl = payload.indexOf(0x0a);
  if (nl < 0) return undefined;
  try {
    const h = JSON.parse(payload.subarray(0, nl).toString('utf8')) as Partial<RecordHeader>;
    if (typeof h.token !== 'string' || typeof h.rows !== 'number') return undefined;
    return { token: h.token, rows: h.rows, ...(h.tried === true ? { tried: true } : {}), body: payload.subarray(nl + 1) };
  } catch {
    return undefined;
  }
}

export interface ScanResult {
  /** Bytes of complete, valid records from the start of the file. */
  readonly validBytes: number;
  /** End offset of every valid record, in order. */
  readonly ends: readonly number[];
  /** Row count of every valid record, in order. */
  readonly rows: readonly number[];
  /** Whether each record was tried before it was spooled (see RecordHeader.tried). */
  readonly tried: readonly boolean[];
}

/** Walks a segment's records from the start and stops at the first one that is torn or corrupt. */
export function scanSegment(data: Buffer): ScanResult {
  const ends: number[] = [];
  const rows: number[] = [];
  const tried: boolean[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= data.length) {
    const len = payloadLength(data.subarray(at, at + HEADER_BYTES));
    if (len === undefined || at + HEADER_BYTES + len > data.length) break;
    const rec = decodeRecord(data.subarray(at, at + HEADER_BYTES + len));
    if (rec === undefined) break;
    at += HEADER_BYTES + len;
    ends.push(at);
    rows.push(rec.rows);
    tried.push(rec.tried === true);
  }
  return { validBytes: at, ends, rows, tried };
}

/** JSONEachRow text back to row objects for the client (one JSON.parse for the whole batch). */
export function parseRows(body: Buffer): object[] {
  const text = body.toString('utf8');
  if (text.length === 0) return [];
  // JSON.stringify never emits a raw newline, so the line breaks are exactly the row separators.
  const joined = text.endsWith('\n') ? text.slice(0, -1) : text;
  return JSON.parse(`[${joined.replaceAll('\n', ',')}]`) as object[];
}
