/**
 * Runs `otel-sigma serve` as a real child process (the way an operator runs it) and reads its pino
 * log lines to learn the bound addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const BIN = path.resolve(import.meta.dirname, '../../bin/otel-sigma.js');

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  /** Every log line the service printed, parsed. */
  readonly logs: Record<string, unknown>[];
  /** The same lines as printed (JSON.parse hides a repeated key). */
  readonly lines: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `onLog` sees each log line as it arrives, before serve listens too (to act on a start-up step); `onSpawn`
 * the process as soon as it exists (to put it in a cgroup before it starts up).
 */
export async function startServe(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onLog?: (rec: Record<string, unknown>) => void; onSpawn?: (child: ChildProcess) => void } = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child);
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<{ grpc: string; http: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${opts.timeoutMs ?? 60_000} ms; logs: ${JSON.stringify(logs.slice(-5))} ${stderr.join('')}`)), opts.timeoutMs ?? 60_000);
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const rec = JSON.parse(line) as Record<string, unknown>;
        logs.push(rec);
        opts.onLog?.(rec);
        if (rec['msg'] === 'otel-sigma is listening.') {
          clearTimeout(timer);
          resolve({ grpc: String(rec['grpc']), http: String(rec['http']) });
        }
      } catch {
        logs.push({ raw: line });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; logs: ${JSON.stringify(logs.slice(-5))} ${stderr.join('')}`));
    });
  });
  const { grpc, http } = await listening;
  // Whether a signal that ends the process was sent already (SIGHUP only reloads the rules).
  let stopping = false;
  const kill = child.kill.bind(child);
  child.kill = (sig?: NodeJS.Signals | number): boolean => {
    if (sig !== 'SIGHUP') stopping = true;
    return kill(sig);
  };
  return {
    child, grpc, http, logs, lines,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      // A test that already told the process to stop waits for that: a second SIGTERM during the graceful
      // shutdown would kill it at once (serve handles the first only), exit code null.
      if (!stopping) child.kill(signal);
      return exited;
    },
  };
}
