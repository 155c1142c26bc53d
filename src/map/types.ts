/**
 * The Sigma event a rule is evaluated against, and the log-source mapping data that tells which
 * events a rule with a given `logsource` may see.
 */
import type { LogRecordView } from '../decode/types.ts';

export type FieldValue = string | number | boolean | null | readonly FieldValue[] | { readonly [key: string]: FieldValue };

/** Sigma field name (e.g. `Image`, `CommandLine`, `EventID`, `a.b.c` for nested generic fields) → value. */
export type SigmaFields = Record<string, FieldValue>;

export interface SigmaEvent {
  /** Fields as Sigma rules name them. Keyword searches run over these values. */
  readonly fields: SigmaFields;
  /**
   * Routing facts about the event that are not event fields: which parser produced it
   * (`windows`, `auditd`, `syslog`, `journald`, `sysmon-linux`, `generic`, …) and the product.
   * Logsource predicates may test them as `@source` / `@product` / `@service`.
   */
  readonly meta: EventMeta;
}

export interface EventMeta {
  readonly source: string;
  readonly product: string | undefined;
  readonly service: string | undefined;
  /** Best host name for the event (resource host.name, Computer, hostname …); "" when unknown. */
  readonly host: string;
}

/** One way a logsource can appear in the event stream, e.g. process_creation as Sysmon EID 1. */
export interface LogsourceVariant {
  /** Every key must match: field (or `@meta`) → allowed values (any of, compared as strings, case-insensitive). */
  readonly when: Readonly<Record<string, readonly (string | number)[]>>;
  /** Rule field name → event field name for this variant (thor.yml's field renames). */
  readonly rename?: Readonly<Record<string, string>>;
}

export interface LogsourceEntry {
  readonly product?: string;
  readonly category?: string;
  readonly service?: string;
  readonly variants: readonly LogsourceVariant[];
}

/**
 * Names the product of the events that carry given values (a mapping file's `products:`), e.g. resource
 * attribute `device.vendor: Cisco` → `cisco`. Read for syslog, journald and generic events only.
 */
export interface ProductRule {
  readonly product: string;
  /** Every key must match: log attribute, else resource attribute, else event field (`@x`: event.meta.x) → allowed values (as in LogsourceVariant). */
  readonly when: Readonly<Record<string, readonly (string | number)[]>>;
}

export interface LogsourceMapping {
  readonly entries: readonly LogsourceEntry[];
  /** Product rules, user files first; tried before the appliance log formats (src/map/appliance/). */
  readonly products?: readonly ProductRule[];
  /**
   * Used for rules whose logsource has no entry: they see events whose meta matches this
   * (by default the generic, flattened events), and `rules check` reports them.
   */
  readonly fallback: LogsourceVariant;
}

/** A mapped event and the OTLP record it came from (several auditd records can join into one event: `record` is the last). */
export interface MappedEvent {
  readonly event: SigmaEvent;
  readonly record: LogRecordView;
}

/**
 * Maps batches of decoded records to Sigma events. Stateful per worker where a source needs it
 * (auditd records of one event may straddle batches); state is bounded.
 */
export interface RecordMapper {
  map(records: readonly LogRecordView[]): MappedEvent[];
}
