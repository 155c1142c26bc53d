/**
 * The otel-sigma command line. This is the only module that reads argv and calls process.exit.
 */
import { Command } from 'commander';
import { addConfigFlags, flagsByName } from './config-flags.ts';
import { runConvert } from './convert.ts';
import { runDetections } from './detections.ts';
import { runEval } from './eval.ts';
import { runHuntCommand, type HuntCliOptions } from './hunt.ts';
import { runRulesCheck } from './rules-check.ts';
import { runServe } from './serve.ts';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const OTLP_REQUEST_FILE = /\.(json|jsonl|ndjson|pb|binpb)$/i;

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
  .option('--json', 'last output line is {"loaded", "rejected", "problems"}')
  .option('--profile', 'evaluate the --events files and print the rules that cost the most time')
  .option('--events <file>', 'OTLP request file for --profile (OTLP/JSON lines or document, .pb protobuf; repeatable; with --profile, request files among the PATHs are read as events too)', collect)
  .option('--top <n>', 'rules to list with --profile', '20'), ['placeholder', 'mapping-file', 'rule-status', 'rule-min-level', 'rule-tags', 'rule-exclude-tags', 'rule-logsources', 'disable-rule'])
  .action((args: string[], opts: Record<string, unknown>) => {
    // `--events A B C DIR` gives commander one events file and three paths: request files among the paths are events.
    const requestFile = (p: string): boolean => Boolean(opts['profile']) && OTLP_REQUEST_FILE.test(p);
    const events = [...((opts['events'] as string[] | undefined) ?? []), ...args.filter(requestFile)];
    const paths = args.filter((p) => !requestFile(p));
    if (opts['profile'] && events.length === 0) throw new Error('rules check --profile needs at least one --events FILE to evaluate');
    if (!opts['profile'] && events.length > 0) throw new Error('rules check: --events is only read with --profile');
    const profile = opts['profile'] ? { events, top: Math.max(1, Number(opts['top']) || 20) } : undefined;
    process.exitCode = runRulesCheck(paths, Boolean(opts['json']), opts['config'] as string | undefined, flagsByName(opts), profile);
  });

addConfigFlags(program.command('detections').description('show recent detections')
  .option('--since <duration>', 'how far back, e.g. 30m, 24h, 7d', '24h')
  .option('--rule <id>', 'only this rule id')
  .option('--limit <n>', 'at most this many rows', '100')
  .option('--json', 'one JSON object per line'), ['data-dir', 'clickhouse-url', 'clickhouse-user', 'clickhouse-password', 'clickhouse-password-file', 'clickhouse-ca-file', 'database', 'table'])
  .action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runDetections(opts, flagsByName(opts));
  });

const RULE_FLAGS = ['rules', 'placeholder', 'mapping-file', 'rule-status', 'rule-min-level', 'rule-tags', 'rule-exclude-tags', 'rule-logsources', 'disable-rule'];
const STORE_FLAGS = ['data-dir', 'clickhouse-url', 'clickhouse-user', 'clickhouse-password', 'clickhouse-password-file', 'clickhouse-ca-file', 'database', 'table', 'ttl-days', 'batch-rows'];
const ALERT_FLAGS = ['keep-url', 'keep-api-key', 'keep-api-key-file', 'keep-ca-file', 'alert-min-level', 'environment', 'log-level'];

addConfigFlags(program.command('hunt').description('run the rules over logs SigNoz already stored in ClickHouse; detections are stored with source = hunt')
  .option('--since <duration>', 'hunt this far back from now, e.g. 30m, 24h, 7d (default 24h)')
  .option('--from <time>', 'start: ISO date-time or duration back from now')
  .option('--to <time>', 'end (exclusive): ISO date-time or duration back from now (default now)')
  .option('--signoz-table <db.table>', 'SigNoz logs table', 'signoz_logs.logs_v2')
  .option('--page-size <rows>', 'rows read per query (bounds memory)', '10000')
  .option('--checkpoint <file>', 'progress file, written after every page (default <data-dir>/hunt-checkpoint.json)')
  .option('--resume', 'continue the hunt recorded in the checkpoint (same range, rules and page size)')
  .option('--follow', 'keep hunting new rows (for collectors that cannot fan out to otel-sigma)')
  .option('--interval <duration>', '--follow: pause between polls that found nothing', '10s')
  .option('--lookback <duration>', '--follow: re-read this far behind the newest row, for late inserts', '5m')
  .option('--sql', 'let ClickHouse prefilter rows with the rules converted to SQL (the engine still decides)')
  .option('--alert', 'also send the detections to Keep'), [...RULE_FLAGS, ...STORE_FLAGS, ...ALERT_FLAGS])
  .action(async (opts: Record<string, unknown>) => {
    // hunt may open an embedded database: exit explicitly once it has closed.
    process.exit(await runHuntCommand(opts as unknown as HuntCliOptions, opts['config'] as string | undefined, flagsByName(opts)));
  });

addConfigFlags(program.command('convert').description('translate Sigma rules into ClickHouse SQL over SigNoz\'s logs table')
  .argument('<rules...>', 'rule files or directories')
  .option('--target <target>', 'query language', 'clickhouse')
  .option('--signoz-table <db.table>', 'SigNoz logs table', 'signoz_logs.logs_v2')
  .option('--json', 'one JSON object per rule: file, id, title, translation, notes, sql'), ['mapping-file', 'placeholder'])
  .action((paths: string[], opts: Record<string, unknown>) => {
    process.exitCode = runConvert(paths, opts as unknown as { target: string; json?: boolean; signozTable: string }, opts['config'] as string | undefined, flagsByName(opts));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`otel-sigma: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
