/** `--name N` on a benchmark's command line: a positive number, or `dflt` when the flag is absent. */
export function positiveFlag(argv: readonly string[], flag: string, dflt: number): number {
  const at = argv.indexOf(flag);
  const v = at >= 0 ? Number(argv[at + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} takes a positive number, not ${argv[at + 1]}`);
  return v;
}
