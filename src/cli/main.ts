/**
 * The otel-sigma command line. This is the only module that reads argv and calls process.exit.
 */
import { Command, Option } from 'commander';
import { CONFIG_KEYS } from '../config/keys.ts';
import { runDetections } from './detections.ts';
import { runEval } from './eval.ts';
import { runRulesCheck } from './rules-check.ts';
import { runServe } from './serve.ts';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** Adds every config key as a flag (see src/config/keys.ts), so the flags and the config file never drift apart. */
function addConfigFlags(cmd: Command, only?: readonly string[]): Command {
  cmd.option('--config <file>', 'YAML config file (env OTEL_SIGMA_CONFIG)');
  for (const key of CONFIG_KEYS) {
    if (only && !only.includes(key.flag)) continue;
    const repeatable = key.kind === 'list' || key.kind === 'map-list';
    const opt = new Option(`--${key.flag} <value>`, `${key.help} [${key.path}, env ${key.env}]`);
    cmd.addOption(repeatable ? opt.argParser(collect) : opt);
  }
  return cmd;
}

/** Commander camel-cases option names; the config loader wants them by flag name. */
export function flagsByName(opts: Record<string, unknown>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const key of CONFIG_KEYS) {
    const camel = key.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[camel];
    if (typeof v === 'string' || Array.isArray(v)) out[key.flag] = v as string | string[];
  }
  return out;
}

const program = new Command('otel-sigma')
  .description('Streaming Sigma detection for OpenTelemetry logs')
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

addConfigFlags(program.command('serve').description('receive OTLP logs, detect with Sigma rules, store detections in ClickHouse, alert to Keep'))
  .action(async (opts: Record<string, unknown>) => {
    // serve owns worker threads and an embedded database: exit explicitly once it has shut down.
    process.exit(await runServe(opts['config'] as string | undefined, flagsByName(opts)));
  });

addConfigFlags(program.command('eval').description('evaluate OTLP log requests from files (OTLP/JSON lines or documents, .pb protobuf) and print one JSON detection per line')
  .argument('<files...>', 'OTLP request files'), ['rules', 'placeholder', 'mapping-file', 'rule-status', 'rule-min-level', 'rule-tags', 'rule-exclude-tags', 'rule-logsources', 'disable-rule'])
  .action(async (files: string[], opts: Record<string, unknown>) => {
    process.exitCode = await runEval(files, opts['config'] as string | undefined, flagsByName(opts));
  });

const rules = program.command('rules').description('work with rule files');
addConfigFlags(rules.command('check').description('load rules and report every problem')
  .argument('<paths...>', 'rule files or directories')
  .option('--json', 'last output line is {"loaded", "rejected", "problems"}'), ['placeholder', 'mapping-file'])
  .action((paths: string[], opts: Record<string, unknown>) => {
    process.exitCode = runRulesCheck(paths, Boolean(opts['json']), opts['config'] as string | undefined, flagsByName(opts));
  });

addConfigFlags(program.command('detections').description('show recent detections')
  .option('--since <duration>', 'how far back, e.g. 30m, 24h, 7d', '24h')
  .option('--rule <id>', 'only this rule id')
  .option('--limit <n>', 'at most this many rows', '100')
  .option('--json', 'one JSON object per line'), ['data-dir', 'clickhouse-url', 'clickhouse-user', 'clickhouse-password', 'clickhouse-password-file', 'clickhouse-ca-file', 'database', 'table'])
  .action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runDetections(opts, flagsByName(opts));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`otel-sigma: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
