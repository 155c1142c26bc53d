/** The receivers' side of the contract with the pipeline: raw bytes in, an ExportOutcome (or a PipelineError) out. */
import type { RawExport } from '../decode/export-request.ts';
import type { ExportOutcome } from '../decode/export-response.ts';

export type Transport = 'grpc' | 'http';

/**
 * Decodes and processes one export request (in a worker). Resolves with the partial-success outcome;
 * rejects with a PipelineError whose `code`/`retryable` decide the wire status.
 */
export type ExportHandler = (req: RawExport & { transport: Transport }) => Promise<ExportOutcome>;

export interface HealthSource {
  live(): boolean;
  ready(): { ready: boolean; reasons: string[] };
}

export interface RunningServer {
  /** host:port actually bound (the real port when 0 was asked for). */
  readonly address: string;
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then cuts the rest. Safe to call twice. */
  close(graceMs: number): Promise<void>;
}
