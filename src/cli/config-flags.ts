/** Every config key as a command-line flag (see src/config/keys.ts), so the flags and the config file never drift apart. */
import { Option, type Command } from 'commander';
import { CONFIG_KEYS } from '../config/keys.ts';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/**
 * Adds the config flags (all, or those named in `only`). A boolean key is a switch: `--x` sets it, `--no-x`
 * clears it; it takes no value, so it can never swallow the flag after it.
 */
export function addConfigFlags(cmd: Command, only?: readonly string[]): Command {
  cmd.option('--config <file>', 'YAML config file (env OTEL_SIGMA_CONFIG)');
  for (const key of CONFIG_KEYS) {
    if (only && !only.includes(key.flag)) continue;
    if (key.kind === 'bool') {
      cmd.addOption(new Option(`--${key.flag}`, `${key.help} [${key.path}, env ${key.env}=true]`));
      cmd.addOption(new Option(`--no-${key.flag}`, `turn ${key.path} off`).hideHelp());
      continue;
    }
    const repeatable = key.kind === 'list' || key.kind === 'map-list';
    const opt = new Option(`--${key.flag} <value>`, `${key.help} [${key.path}, env ${key.env}]`);
    cmd.addOption(repeatable ? opt.argParser(collect) : opt);
  }
  return cmd;
}

/** Commander camel-cases option names; the config loader wants them by flag name, as text. */
export function flagsByName(opts: Record<string, unknown>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const key of CONFIG_KEYS) {
    const camel = key.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[camel];
    if (typeof v === 'string' || Array.isArray(v)) out[key.flag] = v as string | string[];
    else if (typeof v === 'boolean') out[key.flag] = String(v);
  }
  return out;
}
