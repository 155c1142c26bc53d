/**
 * In-memory ExportHandler for receiver tests: records every request's raw bytes and answers with a
 * configurable outcome. By default it runs the real decoder (as the worker would) and accepts.
 */
import { decodeExport, type RawExport } from '../../../src/decode/export-request.ts';
import type { ExportOutcome } from '../../../src/decode/export-response.ts';
import type { ExportHandler, Transport } from '../../../src/receive/types.ts';

export type Call = RawExport & { transport: Transport; body: Buffer };

export const MAX_INFLATED = 8 * 1024 * 1024;
export const OK: ExportOutcome = { rejectedLogRecords: 0, errorMessage: '' };

export class RecordingHandler {
  readonly calls: Call[] = [];
  respond: (req: Call) => Promise<ExportOutcome> = (req) => {
    decodeExport(req, MAX_INFLATED);
    return Promise.resolve(OK);
  };
  readonly handler: ExportHandler = (req) => {
    const call: Call = { ...req, body: Buffer.from(req.body) };
    this.calls.push(call);
    return this.respond(call);
  };
}

/** A small OTLP/JSON ExportLogsServiceRequest with a resource, a scope and `n` records. */
export function sampleRequest(n = 2, tag = 'x'): Record<string, unknown> {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'host.name', value: { stringValue: `host-${tag}` } }] },
      scopeLogs: [{
        scope: { name: 'test-scope', version: '1.0' },
        logRecords: Array.from({ length: n }, (_, i) => ({
          timeUnixNano: '1700000000000000000',
          severityNumber: 9,
          severityText: 'INFO',
          body: { stringValue: `record ${tag} ${i}` },
          attributes: [{ key: 'seq', value: { intValue: String(i) } }, { key: 'tag', value: { stringValue: tag } }],
        })),
      }],
    }],
  };
}
