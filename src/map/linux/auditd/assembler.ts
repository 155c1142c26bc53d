/**
 * Joins the records of one audit event (same `msg=audit(time:serial)` id, same source stream) so the
 * event builder can share the SYSCALL record's process context with EXECVE/PATH/CWD/PROCTITLE records.
 *
 * When is an event complete? auditd does not write EOE records to audit.log (checked: auditd 3.0.9 on
 * Debian 12 writes none), so EOE alone cannot be relied on:
 * - a kernel syscall event always ends with its PROCTITLE record (audit_log_exit writes it last);
 * - EOE (audisp/journald paths) also ends it and is itself dropped: it carries no fields;
 * - user-space records (`msg='…'`, USER_*, ADD_* …), DAEMON_* and kernel TTY records are events of one record;
 * - in the same stream, an open event whose audit time is more than `lateSeconds` older than a newly
 *   arrived record is complete (the kernel writes an event's records together at syscall exit);
 * - bounds: an event older than `maxAgeMs` (wall clock) or beyond `maxOpenEvents`, or reaching
 *   `maxRecordsPerEvent`, is emitted with what it has. Nothing is dropped silently.
 */
import type { LogRecordView } from '../../../decode/types.ts';
import type { AuditRecord } from './parse-line.ts';

export interface AuditPart {
  readonly record: AuditRecord;
  readonly view: LogRecordView;
}

export interface AuditEvent {
  readonly parts: readonly AuditPart[];
  /** How it was closed: `complete` (PROCTITLE/EOE/single record) or why it was cut short. */
  readonly closedBy: 'complete' | 'late' | 'age' | 'evicted' | 'size' | 'flush';
}

export interface AssemblerOptions {
  readonly maxOpenEvents?: number;
  readonly maxRecordsPerEvent?: number;
  readonly maxAgeMs?: number;
  readonly lateSeconds?: number;
  /** Wall clock in ms; injectable for tests. */
  readonly now?: () => number;
}

interface OpenEvent {
  readonly key: string;
  readonly stream: string;
  readonly id: string;
  readonly time: number;
  readonly openedAt: number;
  readonly parts: AuditPart[];
}

export class AuditAssembler {
  readonly #open = new Map<string, OpenEvent>();
  readonly #byStream = new Map<string, Map<string, OpenEvent>>();
  readonly #maxOpen: number;
  readonly #maxRecords: number;
  readonly #maxAgeMs: number;
  readonly #lateSeconds: number;
  readonly #now: () => number;
  #pendingRecords = 0;

  constructor(options: AssemblerOptions = {}) {
    this.#maxOpen = options.maxOpenEvents ?? 4096;
    this.#maxRecords = options.maxRecordsPerEvent ?? 256;
    this.#maxAgeMs = options.maxAgeMs ?? 2000;
    this.#lateSeconds = options.lateSeconds ?? 2;
    this.#now = options.now ?? Date.now;
  }

  get pendingEvents(): number {
    return this.#open.size;
  }

  get pendingRecords(): number {
    return this.#pendingRecords;
  }

  /** Adds one record of `stream` (host + file); appends events it completes to `out`. */
  push(stream: string, record: AuditRecord, view: LogRecordView, out: AuditEvent[]): void {
    const key = stream + '\u0000' + record.id;
    const time = Number(record.time);
    this.#closeLate(stream, time, out);
    let event = this.#open.get(key);
    if (record.type === 'EOE') {
      // EOE only terminates; after PROCTITLE already closed the event it has nothing left to say.
      if (event !== undefined) this.#close(event, 'complete', out);
      return;
    }
    if (event === undefined) {
      if (record.standalone) {
        out.push({ parts: [{ record, view }], closedBy: 'complete' });
        return;
      }
      if (this.#open.size >= this.#maxOpen) {
        const oldest = this.#open.values().next().value;
        if (oldest !== undefined) this.#close(oldest, 'evicted', out);
      }
      event = { key, stream, id: record.id, time, openedAt: this.#now(), parts: [] };
      this.#open.set(key, event);
      let streamEvents = this.#byStream.get(stream);
      if (streamEvents === undefined) this.#byStream.set(stream, (streamEvents = new Map<string, OpenEvent>()));
      streamEvents.set(key, event);
    }
    event.parts.push({ record, view });
    this.#pendingRecords++;
    if (record.type === 'PROCTITLE') {
      this.#close(event, 'complete', out);
    } else if (event.parts.length >= this.#maxRecords) {
      this.#close(event, 'size', out);
    }
  }

  /** Emits events open for longer than `maxAgeMs`. */
  expire(out: AuditEvent[]): void {
    const limit = this.#now() - this.#maxAgeMs;
    for (const event of this.#open.values()) {
      if (event.openedAt > limit) break; // insertion order is opening order
      this.#close(event, 'age', out);
    }
  }

  /** Emits every open event (shutdown, or a caller that wants no latency). */
  flush(out: AuditEvent[]): void {
    for (const event of this.#open.values()) this.#close(event, 'flush', out);
  }

  #closeLate(stream: string, time: number, out: AuditEvent[]): void {
    const streamEvents = this.#byStream.get(stream);
    if (streamEvents === undefined || Number.isNaN(time)) return;
    for (const event of streamEvents.values()) {
      if (!(event.time < time - this.#lateSeconds)) break;
      this.#close(event, 'late', out);
    }
  }

  #close(event: OpenEvent, closedBy: AuditEvent['closedBy'], out: AuditEvent[]): void {
    this.#open.delete(event.key);
    const streamEvents = this.#byStream.get(event.stream);
    if (streamEvents !== undefined) {
      streamEvents.delete(event.key);
      if (streamEvents.size === 0) this.#byStream.delete(event.stream);
    }
    this.#pendingRecords -= event.parts.length;
    out.push({ parts: event.parts, closedBy });
  }
}
