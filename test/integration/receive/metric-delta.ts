/** Reads a labelled prom-client counter so tests can assert on increments. */
import type { Counter } from 'prom-client';

export async function counterValue<T extends string>(c: Counter<T>, labels: Partial<Record<T, string>>): Promise<number> {
  const { values } = await c.get();
  let sum = 0;
  for (const v of values) {
    if (Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want)) sum += v.value;
  }
  return sum;
}
