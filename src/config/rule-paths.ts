/**
 * Rule paths are checked before anything loads: a missing or unreadable path would otherwise cost
 * the rules it holds without more than a warning, and coverage would shrink silently.
 */
import fs from 'node:fs';
import { ConfigError } from './load.ts';

/** Throws a ConfigError naming every rule path that is missing or cannot be read; `key` says where the paths came from. */
export function assertRulePaths(paths: readonly string[], key = 'rules.paths'): void {
  const problems: string[] = [];
  if (paths.length === 0) problems.push(`${key}: no rule path given`);
  for (const p of paths) {
    const why = unreadable(p);
    if (why !== undefined) problems.push(`${key}: rule path "${p}" ${why}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function unreadable(p: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
  }
  try {
    if (st.isDirectory()) fs.readdirSync(p);
    else fs.accessSync(p, fs.constants.R_OK);
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  return undefined;
}
