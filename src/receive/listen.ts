/** Listen-address parsing and limits shared by both receivers. */

/** OTLP's recommended request limit; grpc-js's own 4 MiB default would make the collector drop big batches. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** "host:port", "[v6]:port" → parts; the host keeps its brackets (it is echoed back in `address`). */
export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535 || listen.slice(i + 1) === '') {
    throw new TypeError(`listen address must be host:port, got ${JSON.stringify(listen)}`);
  }
  return { host: listen.slice(0, i), port };
}

export const unbracket = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');
