/**
 * The otel-sigma command line. This is the only module that reads argv and calls process.exit.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addConfigFlags, flagsByName } from './config-flags.ts';
import { runConvert } from './convert.ts';
import { runRulesCoverage, type CoverageCliOptions } from './coverage.ts';
import { runDetections } from './detections.ts';
import { runEval } from './eval.ts';
import { runHuntCommand, type HuntCliOptions } from './hunt.ts';
import { runRulesCheck } from './rules-check.ts';
import { runServe } from './serve.ts';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const OTLP_REQUEST_FILE = /\.(json|jsonl|ndjson|pb|binpb)$/i;

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('otel-sigma')
  .description('Streaming Sigma detection for OpenTelemetry logs')
  .version(version, '-V, --version', 'print the otel-sigma version')
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

addConfigFlags(program.command('detections').description('show stored detections, newest first (from the running serve when it holds the embedded data directory)')
  .option('--since <duration>', 'how far back in detection time, e.g. 30m, 24h, 7d, 100y, or all', '24h')
  .option('--event-time', '--since and the order apply to the event time (when the log record happened) instead of the detection time')
  .option('--rule <id>', 'only this rule id')
  .option('--level <level>', 'only this level and above: informational, low, medium, high, critical')
  .option('--host <host>', 'only this host')
  .option('--source <source>', 'only stream (live) or hunt (retro-hunt) detections')
  .option('--tag <tag>', 'only rules with this tag, e.g. attack.t1110 (also matches its sub-techniques) or attack.credential_access')
  .option('--limit <n>', 'at most this many rows, 0 for all (stderr says when it cut)', '100')
  .option('--format <format>', 'table, json (one object per line) or csv', undefined)
  .option('--json', 'same as --format json')
  .option('--client-cert <file>', 'client certificate for a running serve that requires one (mutual TLS)')
  .option('--client-key <file>', 'private key of --client-cert'),
['data-dir', 'clickhouse-url', 'clickhouse-user', 'clickhouse-password', 'clickhouse-password-file', 'clickhouse-ca-file', 'database', 'table',
  'auth-token', 'auth-tokens-file', 'tls-cert-file', 'tls-key-file', 'tls-client-ca-file'])
  .action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runDetections(opts, flagsByName(opts));
  });

const RULE_FLAGS = ['rules', 'placeholder', 'mapping-file', 'rule-status', 'rule-min-level', 'rule-tags', 'rule-exclude-tags', 'rule-logsources', 'disable-rule'];
const STORE_FLAGS = ['data-dir', 'clickhouse-url', 'clickhouse-user', 'clickhouse-password', 'clickhouse-password-file', 'clickhouse-ca-file', 'database', 'table', 'ttl-days', 'batch-rows', 'insert-interval-ms', 'store-body'];
addConfigFlags(rules.command('coverage').description('per logsource: rules loaded and whether its events were received (the counters serve keeps in <data_dir>/coverage.json), rules that cannot fire with the shipped agent configs, ATT&CK coverage')
  .option('--json', 'print the report as one JSON document')
  .option('--layer <file>', 'write an ATT&CK Navigator layer (JSON, layer format 4.5) to FILE; - prints it instead of the report')
  .option('--svg <file>', 'write an ATT&CK heatmap (SVG) to FILE; - prints it instead of the report'), [...RULE_FLAGS, 'data-dir'])
  .action((opts: Record<string, unknown>) => {
    const cli: CoverageCliOptions = {
      json: opts['json'] === true,
      ...(typeof opts['layer'] === 'string' ? { layer: opts['layer'] } : {}),
      ...(typeof opts['svg'] === 'string' ? { svg: opts['svg'] } : {}),
    };
    process.exitCode = runRulesCoverage(cli, opts['config'] as string | undefined, flagsByName(opts));
  });

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
  .option('--sql', 'always let ClickHouse filter the rows by the rules converted to SQL (the engine still decides on every row); default: used when it keeps at most half of a sample of the range')
  .option('--no-sql', 'read every row of the range (no SQL filter)')
  .option('--alert', 'also send the detections to Keep'), [...RULE_FLAGS, 'workers', ...STORE_FLAGS, ...ALERT_FLAGS])
  .action(async (opts: Record<string, unknown>) => {
    // hunt may open an embedded database: exit explicitly once it has closed.
    process.exit(await runHuntCommand(opts as unknown as HuntCliOptions, opts['config'] as string | undefined, flagsByName(opts)));
  });

addConfigFlags(program.command('convert').description('translate Sigma rules into ClickHouse SQL over SigNoz\'s logs table')
  .argument('<rules...>', 'rule files or directories')
  .option('--target <target>', 'query language', 'clickhouse')
  .option('--signoz-table <db.table>', 'SigNoz logs table', 'signoz_logs.logs_v2')
  .option('--json', 'one JSON object per rule: file, id, title, translation, notes, sql'), ['mapping-file', 'placeholder'])
  .addHelpText('after', `
Exit status:
  0  every rule has a query that narrows the rows: exact, or prefiltered (it may return more rows than
     the rule matches, never fewer; the notes say why)
  1  an argument is wrong, or a rule file cannot be read or is not valid YAML
  3  some rule's query narrows nothing (translation: unfiltered, WHERE 1: an aggregation); every query is
     still printed; a hunt with such a rule (but an aggregation, which the engine refuses) reads every row
A summary (exact / prefiltered / unfiltered, unreadable files) goes to stderr.`)
  .action((paths: string[], opts: Record<string, unknown>) => {
    process.exitCode = runConvert(paths, opts as unknown as { target: string; json?: boolean; signozTable: string }, opts['config'] as string | undefined, flagsByName(opts));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`otel-sigma: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
