/**
 * At most `max` connections open on one listening port; past it a new connection is closed at once and
 * counted. Without a cap, thousands of silent connections (gRPC holds an idle one up to
 * max_connection_idle_ms) take every file descriptor, and the ClickHouse client, the durable logs and
 * healthy senders then fail with EMFILE.
 */
import type { Server } from 'node:net';
import { metrics } from '../telemetry/metrics.ts';

export const DEFAULT_MAX_CONNECTIONS = 4096;

export function capConnections(server: Server, max: number, transport: 'grpc' | 'http'): void {
  server.maxConnections = max;
  server.on('drop', () => metrics.connectionsRefused.inc({ transport }));
}
