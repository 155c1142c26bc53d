/**
 * Throw-away PKI for TLS tests, made with the openssl CLI in a temp dir: a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate signed by that CA, plus a client certificate from an
 * unrelated CA (must be refused under mTLS). EC P-256 keys keep generation well under a second.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Pki {
  readonly dir: string;
  readonly caCert: Buffer;
  readonly serverCert: Buffer;
  readonly serverKey: Buffer;
  readonly clientCert: Buffer;
  readonly clientKey: Buffer;
  /** Signed by a different CA than `caCert`. */
  readonly rogueClientCert: Buffer;
  readonly rogueClientKey: Buffer;
  /** Paths of the same files, for config tests. */
  readonly files: { readonly caCert: string; readonly serverCert: string; readonly serverKey: string };
  remove(): void;
}

export function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-pki-'));
  const p = (name: string): string => path.join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const key = (name: string): void => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(name));
  const ca = (name: string, cn: string): void => {
    key(`${name}.key`);
    ssl('req', '-x509', '-new', '-key', p(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '2', '-out', p(`${name}.crt`),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (name: string, caName: string, cn: string, ext: string): void => {
    key(`${name}.key`);
    ssl('req', '-new', '-key', p(`${name}.key`), '-subj', `/CN=${cn}`, '-out', p(`${name}.csr`));
    fs.writeFileSync(p(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.crt`), '-CAkey', p(`${caName}.key`), '-CAcreateserial',
      '-days', '2', '-out', p(`${name}.crt`), '-extfile', p(`${name}.ext`));
  };
  ca('ca', 'otel-sigma test CA');
  ca('rogue-ca', 'some other CA');
  leaf('server', 'ca', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  leaf('client', 'ca', 'collector', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  leaf('rogue-client', 'rogue-ca', 'collector', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  const r = (name: string): Buffer => fs.readFileSync(p(name));
  return {
    dir,
    caCert: r('ca.crt'),
    serverCert: r('server.crt'),
    serverKey: r('server.key'),
    clientCert: r('client.crt'),
    clientKey: r('client.key'),
    rogueClientCert: r('rogue-client.crt'),
    rogueClientKey: r('rogue-client.key'),
    files: { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key') },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
