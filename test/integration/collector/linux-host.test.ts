/**
 * A Linux host as the shipped agent sees it: real programs on this machine (sudo, useradd, uname under an
 * auditd execve rule) write through rsyslog into auth.log and through auditd into audit.log, the real
 * collector tails both files with collector-config/linux-agent.yaml's receivers (the file_log variant it
 * documents for hosts without journald), and otel-sigma, running the SigmaHQ Linux rules, stores the
 * expected detections once each.
 *
 * Needs root and Debian's rsyslog, auditd and sudo (.ci/run installs them). rsyslog owns /dev/log and
 * auditd the kernel audit stream while the test runs; both are stopped and the audit rule removed after.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startCollector, until } from '../../helpers/collector.ts';
import { hasCorpus, REPO_ROOT, SHARED_SIGMA } from '../../helpers/corpus.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { storedDetections } from './records.ts';

const SUDO_CVE_2019_14287 = '7fcc54cb-f27d-4684-84b7-436af096f858';
const USERADD_UID0_SYSLOG = '0ac15ec3-d24f-4246-aa2a-3077bb1cf90e';
const USERADD_UID0_AUDITD = '759d0d51-bc99-4b5e-9add-8f5b2c8e7512';
const UNAME_AUDITD = '42df45e7-e6e9-43b5-8f26-bec5b39cc239';
const AUDIT_KEY = 'sigma_e2e_exec';
const USER = 'sigma-e2e-uid0';

const processed = async (svc: ServiceProcess): Promise<number> =>
  Number(/^otel_sigma_records_processed_total (\d+)/m.exec(await (await fetch(`http://${svc.http}/metrics`)).text())?.[1] ?? 0);
const lineCount = (f: string): number => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').length;
const daemonsMissing = ['rsyslogd', 'auditd', 'auditctl', 'sudo', 'useradd'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
const needs = !hasCorpus ? ' (skipped: ../shared/sigma not present)' : process.getuid?.() !== 0 ? ' (skipped: needs root)' : '';

describe('collector on a real Linux host' + needs, { skip: needs !== '' }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-linux-'));
  const daemons: ChildProcess[] = [];
  let auditWasEnabled: boolean | undefined;
  const running: { stop(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  after(async () => {
    for (const p of running) await p.stop('SIGKILL');
    spawnSync('auditctl', ['-D', '-k', AUDIT_KEY]);
    spawnSync('userdel', ['-f', USER]);
    for (const d of daemons) if (d.exitCode === null) { d.kill('SIGTERM'); await new Promise((r) => d.once('exit', r)); }
    if (auditWasEnabled === false) spawnSync('auditctl', ['-e', '0']);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('sudo, useradd and an audited exec become detections once each via auth.log and audit.log', { timeout: 150_000 }, async () => {
    assert.deepEqual(daemonsMissing, [], 'rsyslog, auditd and sudo are installed (.ci/run installs them)');
    assert.ok(!fs.existsSync('/dev/log'), '/dev/log is free (no other syslog daemon runs here)');
    const authLog = path.join(tmp, 'auth.log');
    const auditLog = path.join(tmp, 'audit.log');
    fs.writeFileSync(authLog, '');

    // rsyslog with Debian's file format for auth,authpriv (RFC3339 timestamps).
    fs.writeFileSync(path.join(tmp, 'rsyslog.conf'), `module(load="imuxsock")\n$WorkDirectory ${tmp}\nauth,authpriv.* action(type="omfile" file="${authLog}" template="RSYSLOG_FileFormat")\n`);
    const rsyslog = spawn('rsyslogd', ['-n', '-f', path.join(tmp, 'rsyslog.conf'), '-i', path.join(tmp, 'rsyslog.pid')], { stdio: 'ignore' });
    daemons.push(rsyslog);
    // auditd writing to our file, ENRICHED as Debian's default, every record flushed.
    const auditDir = path.join(tmp, 'audit');
    fs.mkdirSync(path.join(auditDir, 'plugins.d'), { recursive: true });
    fs.writeFileSync(path.join(auditDir, 'auditd.conf'), [
      `log_file = ${auditLog}`, 'log_format = ENRICHED', 'flush = DATA', 'write_logs = yes', 'local_events = yes', 'max_log_file_action = IGNORE',
      'space_left = 2', 'space_left_action = IGNORE', 'admin_space_left = 1', 'admin_space_left_action = IGNORE', 'disk_full_action = IGNORE', 'disk_error_action = IGNORE', `plugin_dir = ${path.join(auditDir, 'plugins.d')}`, '',
    ].join('\n'), { mode: 0o640 });
    auditWasEnabled = /^enabled 1/m.test(execFileSync('auditctl', ['-s'], { encoding: 'utf8' }));
    const auditd = spawn('auditd', ['-n', '-c', auditDir], { stdio: 'ignore' });
    daemons.push(auditd);
    await until('rsyslog to own /dev/log and auditd to open its log', () => fs.existsSync('/dev/log') && fs.existsSync(auditLog), 20_000);
    execFileSync('auditctl', ['-e', '1']);
    execFileSync('auditctl', ['-a', 'always,exit', '-F', 'arch=b64', '-S', 'execve', '-F', 'exe=/usr/bin/uname', '-k', AUDIT_KEY]);

    // The SigmaHQ Linux rules, and the emerging-threats rule for sudo's CVE-2019-14287.
    const svc = await startServe(['--rules', path.join(SHARED_SIGMA, 'rules/linux'), '--rules', path.join(SHARED_SIGMA, 'rules-emerging-threats/2019/Exploits/CVE-2019-14287/lnx_sudo_exploit_cve_2019_14287.yml'), '--workers', '1', '--data-dir', path.join(tmp, 'data')]);
    running.push(svc);

    // The shipped agent, pointed at this test's files, storage and otel-sigma.
    const agent = parse(fs.readFileSync(path.join(REPO_ROOT, 'collector-config/linux-agent.yaml'), 'utf8')) as Record<string, Record<string, unknown>> & { service: { pipelines: { logs: { receivers: string[] } } } };
    fs.mkdirSync(path.join(tmp, 'storage'));
    (agent['extensions']!['file_storage'] as Record<string, unknown>)['directory'] = path.join(tmp, 'storage');
    const receivers = agent['receivers']!;
    delete receivers['journald'];
    (receivers['file_log/audit'] as Record<string, unknown>)['include'] = [auditLog];
    receivers['file_log/auth'] = { include: [authLog], start_at: 'end', storage: 'file_storage' };
    agent.service.pipelines.logs.receivers = ['file_log/auth', 'file_log/audit'];
    const exporter = agent['exporters']!['otlp'] as Record<string, unknown>;
    exporter['endpoint'] = svc.grpc;
    (agent['processors']!['batch'] as Record<string, unknown>)['timeout'] = '200ms';
    // The collector fingerprints a file by its first bytes: give auth.log a line before it starts watching.
    execFileSync('logger', ['-p', 'auth.info', '-t', 'otel-sigma-e2e', 'collector test starts']);
    await until('the line in auth.log', () => lineCount(authLog) > 0, 10_000);
    const col = await startCollector(tmp, stringify(agent));
    running.push(col);
    await until('the collector to watch both files', () => col.count(/Started watching file/) >= 2, 20_000);
    // start_at: end — what is in the files now is not sent.
    const before = lineCount(authLog) + lineCount(auditLog);

    // Real programs. sudo refuses -u#-1 (fixed CVE) but logs the attempt, which is what the rule reads.
    spawnSync('sudo', ['-u#-1', '/usr/bin/id'], { stdio: 'ignore' });
    execFileSync('useradd', ['-o', '-u', '0', '-g', '0', '-M', '-N', '-s', '/usr/sbin/nologin', USER]);
    execFileSync('userdel', ['-f', USER]);
    execFileSync('/usr/bin/uname', ['-a'], { stdio: 'ignore' });
    await until('sudo and useradd in auth.log, uname in audit.log', () => /sudo.*-u#-1|#-1/.test(fs.readFileSync(authLog, 'utf8')) && /useradd.*new user.*UID=0/i.test(fs.readFileSync(authLog, 'utf8'))
      && fs.readFileSync(auditLog, 'utf8').includes(`key="${AUDIT_KEY}"`), 20_000);
    // Everything written so far, then nothing new for a moment (auditd writes our own processes too).
    execFileSync('auditctl', ['-D', '-k', AUDIT_KEY]);
    await new Promise((r) => setTimeout(r, 1000));
    const lines = lineCount(authLog) + lineCount(auditLog) - before;
    await until(`otel-sigma to process the ${lines} lines`, async () => (await processed(svc)) >= lines, 30_000);
    assert.equal(await col.stop(), 0);
    assert.equal(await svc.stop(), 0);

    const rows = await storedDetections(path.join(tmp, 'data'));
    const byRule = new Map<string, number>();
    for (const r of rows) byRule.set(r.rule_id, (byRule.get(r.rule_id) ?? 0) + 1);
    console.log(`linux host: auth.log ${lineCount(authLog)} lines, audit.log ${lineCount(auditLog)} lines, ${rows.length} detections: ${JSON.stringify(Object.fromEntries(byRule))}`);
    assert.equal(byRule.get(SUDO_CVE_2019_14287), 1, 'sudo -u#-1: one detection');
    assert.equal(byRule.get(USERADD_UID0_SYSLOG), 1, 'useradd uid 0: one detection');
    assert.equal(byRule.get(USERADD_UID0_AUDITD), 1, 'useradd uid 0 (auditd ADD_USER): one detection');
    assert.equal(byRule.get(UNAME_AUDITD), 1, 'uname -a (auditd EXECVE): one detection');
    const keys = rows.map((r) => JSON.stringify([r.rule_id, (r as unknown as Record<string, unknown>)['event_id'] ?? r.event_time]));
    assert.equal(new Set(keys).size, keys.length, 'no detection stored twice');
  });
});
