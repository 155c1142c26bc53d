/**
 * A stand-in for a ClickHouse server over HTTP that accepts everything: `/ping` answers "Ok." and every
 * query or command an empty 200 (so a schema migration sees an empty database and succeeds). For tests
 * of connecting, not of SQL. With `refuseInserts` returning true, INSERTs fail as a ClickHouse with too
 * many parts does (code 252, retryable), for tests of a storage that refuses writes.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

export function fakeClickHouse(opts: { refuseInserts?: () => boolean } = {}): Server {
  return createServer((req, res) => {
    const isInsert = /^INSERT\b/i.test(new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '');
    req.resume();
    req.on('end', () => {
      if (isInsert && opts.refuseInserts?.() === true) {
        res.writeHead(500, { 'content-type': 'text/plain', 'x-clickhouse-exception-code': '252' });
        res.end('Code: 252. DB::Exception: Too many parts (3001) in all partitions in total. Merges are processing significantly slower than inserts. (TOO_MANY_PARTS)\n');
        return;
      }
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
