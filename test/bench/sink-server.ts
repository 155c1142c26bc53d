/**
 * The bench's baseline: a bare grpc-js server that only decodes each Export request with protobufjs
 * reflection (no mapping, no rules, no storage) and answers OK. Run as its own process, like serve,
 * so both are measured the same way. Prints `{"address": "127.0.0.1:PORT"}` once listening.
 */
import * as grpc from '@grpc/grpc-js';
import { ExportLogsServiceRequest } from '../helpers/otlp-proto.ts';
import { LOGS_EXPORT_PATH } from '../helpers/otlp-clients.ts';

const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
let records = 0;
server.addService(
  {
    Export: {
      path: LOGS_EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      requestDeserialize: (b: Buffer) => b,
      requestSerialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const req = ExportLogsServiceRequest.decode(call.request) as unknown as { resourceLogs?: { scopeLogs?: { logRecords?: unknown[] }[] }[] };
      for (const rl of req.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) records += sl.logRecords?.length ?? 0;
      cb(null, Buffer.alloc(0));
    },
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ address: `127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  process.stderr.write(`sink decoded ${records} records\n`);
  server.forceShutdown();
  process.exit(0);
});
