/**
 * A throwaway redis-server (Debian's package) on a free loopback port, without persistence.
 * Missing redis-server is an error, never a skip: CI installs it (.ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function startOnce(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not become ready within 5 s: ${out.slice(-500)}`));
    }, 5000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    // A missing binary emits 'error' and no 'exit': without this the caller would wait forever.
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start redis-server (Debian package redis-server; .ci/run installs it): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`));
    });
  });
}

/** `port`: listen there (one attempt), e.g. a port a service under test is already trying to reach. */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RedisServer> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server is not installed; install it with `apt-get install -y redis-server` (.ci/run does this)');
  }
  let lastErr: unknown;
  for (let i = 0; i < (opts.port !== undefined ? 1 : 3); i++) {
    const port = opts.port ?? await freePort();
    try {
      const child = await startOnce(port);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    } catch (err) {
      lastErr = err; // most likely the port was taken between probe and bind: try another
    }
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}
