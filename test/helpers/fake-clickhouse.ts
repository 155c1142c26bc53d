/**
 * A stand-in for a ClickHouse server over HTTP that accepts everything: `/ping` answers "Ok." and every
 * query or command an empty 200 (so a schema migration sees an empty database and succeeds). For tests
 * of connecting, not of SQL.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

export function fakeClickHouse(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-clickhouse-summary': '{}' });
      res.end(req.url?.startsWith('/ping') === true ? 'Ok.\n' : '');
    });
  });
}

/** A loopback port with nothing listening on it (yet). */
export async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
