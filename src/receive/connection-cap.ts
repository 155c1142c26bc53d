/**
 * Connection hygiene below the protocols: a cap per port, and a deadline for a connection's first bytes.
 *
 * At most `max` connections open on one listening port; past it a new connection is closed at once and
 * counted. Without a cap, thousands of silent connections (gRPC holds an idle one up to
 * max_connection_idle_ms) take every file descriptor, and the ClickHouse client, the durable logs and
 * healthy senders then fail with EMFILE.
 */
import type { Server, Socket } from 'node:net';
import { metrics } from '../telemetry/metrics.ts';

export const DEFAULT_MAX_CONNECTIONS = 4096;

export function capConnections(server: Server, max: number, transport: 'grpc' | 'http'): void {
  server.maxConnections = max;
  server.on('drop', () => metrics.connectionsRefused.inc({ transport, reason: 'cap' }));
}

/**
 * A connection that has sent nothing `ms` after it opened is closed: on the gRPC port a silent TCP
 * connection otherwise waits out max_connection_idle_ms (5 min) while holding a slot under the cap above,
 * so a few thousand of them would lock senders out. (The HTTP port closes them at its headers timeout.)
 * Reads the socket's byte count, adding no listener that could change how HTTP/2 consumes it.
 */
export function closeSilentConnections(server: Server, ms: number, transport: 'grpc' | 'http'): void {
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      if (socket.bytesRead > 0 || socket.destroyed) return;
      metrics.connectionsRefused.inc({ transport, reason: 'silent' });
      socket.destroy();
    }, ms);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
