/**
 * Calls `onChange` (debounced) when a rule file under the given paths changes. Uses fs.watch with
 * `recursive`, which Node supports on Linux since v20; a path that cannot be watched is reported once.
 */
import fs from 'node:fs';
import type { Logger } from '../telemetry/logger.ts';

export function watchRules(paths: readonly string[], debounceMs: number, onChange: () => void, log: Logger): () => void {
  const watchers: fs.FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  const fire = (file: string | null): void => {
    if (file !== null && !/\.ya?ml$/i.test(file)) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  for (const p of paths) {
    try {
      const w = fs.watch(p, { recursive: true, persistent: false }, (_event, file) => fire(file === null ? null : String(file)));
      w.on('error', (err) => log.warn({ stage: 'rules', path: p, err: err.message }, 'Stopped watching a rule path.'));
      watchers.push(w);
    } catch (err) {
      log.warn({ stage: 'rules', path: p, err: (err as Error).message }, 'Cannot watch a rule path; reload with SIGHUP instead.');
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
