/** Progress on stderr: a one-line bar (rows, records/s, ETA, rules matched) on a terminal, a plain line every 10 s otherwise. */
export interface Progress {
  /** False when no total is needed (plain lines): the hunt then skips counting the rows. */
  readonly active?: boolean;
  update(done: number, total: number, rulesMatched?: number): void;
  end(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const t0 = performance.now();
  if (!stream.isTTY) {
    let next = 10_000;
    return {
      active: false,
      update(done, _total, rules = 0) {
        const ms = performance.now() - t0;
        if (ms < next) return;
        next = ms + 10_000;
        stream.write(`hunt: ${done} records, ${Math.round((done / ms) * 1000)} records/s, ${rules} rules matched\n`);
      },
      end: () => undefined,
    };
  }
  let last = 0;
  let drawn = false;
  return {
    active: true,
    update(done, total, rules = 0) {
      const now = performance.now();
      if (now - last < 200 && done < total) return; // redraw at most 5×/s
      last = now;
      const secs = (now - t0) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const width = 30;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const eta = rate > 0 && total > done ? `${Math.ceil((total - done) / rate)} s` : '-';
      stream.write(`\r[${bar}] ${done}/${total} records  ${Math.round(rate)} records/s  ETA ${eta}  ${rules} rules matched `);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
