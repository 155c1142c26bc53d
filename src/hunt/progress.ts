/** A one-line progress bar on stderr (terminals only): rows done, records/s and ETA. */
export interface Progress {
  /** False when nothing is drawn (not a terminal): the hunt then skips counting the rows. */
  readonly active?: boolean;
  update(done: number, total: number): void;
  end(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { active: false, update: () => undefined, end: () => undefined };
  const t0 = performance.now();
  let last = 0;
  let drawn = false;
  return {
    active: true,
    update(done, total) {
      const now = performance.now();
      if (now - last < 200 && done < total) return; // redraw at most 5×/s
      last = now;
      const secs = (now - t0) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)} s` : '-';
      stream.write(`\r[${bar}] ${done}/${total} records  ${Math.round(rate)} records/s  ETA ${eta} `);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
