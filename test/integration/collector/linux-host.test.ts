/**
 * A Linux host as the shipped agent sees it: real programs on this machine (sudo, useradd, and uname under an
 * auditd execve rule) log through syslog(3) and auditd, the real collector runs collector-config/linux-agent.yaml
 * (only its paths and its exporter endpoint changed), and otel-sigma, running the SigmaHQ Linux rules, stores
 * the expected detections once each. Two hosts:
 * - journald and rsyslog, as on a stock Debian server: journald takes /dev/log and forwards to rsyslog, which
 *   writes auth.log. The sshd/sudo lines are in both; the agent reads journald and audit.log only, so each
 *   line is detected once (reading auth.log as well would detect it twice, with different fingerprints);
 * - rsyslog without journald: the agent's documented file_log variant tails auth.log and audit.log.
 *
 * Needs root and Debian's rsyslog, auditd, sudo and systemd (journald); .ci/run installs them. While a test
 * runs, /dev/log and the kernel audit stream are this test's (journald in a private mount namespace, so its
 * sockets and journal stay in the test folder); everything is stopped and removed after.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { startCollector, until } from '../../helpers/collector.ts';
import { hasCorpus, REPO_ROOT, SHARED_SIGMA } from '../../helpers/corpus.ts';
import { startServe, type ServiceProcess } from '../../helpers/service-process.ts';
import { storedDetections } from './records.ts';

const EXPECTED: Record<string, string> = {
  '7fcc54cb-f27d-4684-84b7-436af096f858': 'sudo -u#-1 (CVE-2019-14287, syslog)',
  '0ac15ec3-d24f-4246-aa2a-3077bb1cf90e': 'useradd uid 0 (syslog)',
  '759d0d51-bc99-4b5e-9add-8f5b2c8e7512': 'useradd uid 0 (auditd ADD_USER)',
  '42df45e7-e6e9-43b5-8f26-bec5b39cc239': 'uname -a (auditd EXECVE)',
};
const CVE_RULE = 'rules-emerging-threats/2019/Exploits/CVE-2019-14287/lnx_sudo_exploit_cve_2019_14287.yml';
const AUDIT_KEY = 'sigma_e2e_exec';
const USER = 'sigma-e2e-uid0';
const JOURNALD = '/lib/systemd/systemd-journald';

const processed = async (svc: ServiceProcess): Promise<number> =>
  Number(/^otel_sigma_records_processed_total (\d+)/m.exec(await (await fetch(`http://${svc.http}/metrics`)).text())?.[1] ?? 0);
const lineCount = (f: string): number => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').length : 0);
const has = (b: string): boolean => spawnSync('sh', ['-c', `command -v ${b}`]).status === 0;
const needs = !hasCorpus ? ' (skipped: ../shared/sigma not present)' : process.getuid?.() !== 0 ? ' (skipped: needs root)' : '';

type Agent = Record<string, Record<string, unknown>> & { service: { pipelines: { logs: { receivers: string[] } } } };

describe('collector on a real Linux host' + needs, { skip: needs !== '' }, () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });
  const daemon = (cmd: string, args: string[]): ChildProcess => {
    const d = spawn(cmd, args, { stdio: 'ignore' });
    cleanups.push(async () => { if (d.exitCode === null && d.signalCode === null) { d.kill('SIGTERM'); await new Promise((r) => d.once('exit', r)); } });
    return d;
  };
  const mkdirOwned = (dir: string): void => {
    if (fs.existsSync(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    cleanups.push(() => { try { fs.rmdirSync(dir); } catch { /* something else put files there: leave it */ } });
  };

  async function scenario(withJournald: boolean): Promise<void> {
    const missing = ['rsyslogd', 'auditd', 'auditctl', 'sudo', 'useradd', 'logger', ...(withJournald ? ['journalctl', 'unshare', JOURNALD] : [])].filter((b) => !has(b));
    assert.deepEqual(missing, [], 'rsyslog, auditd, sudo and systemd are installed (.ci/run installs them)');
    assert.ok(!fs.existsSync('/dev/log'), '/dev/log is free (no other syslog daemon runs here)');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-linux-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const authLog = path.join(tmp, 'auth.log');
    const auditLog = path.join(tmp, 'audit.log');
    const sock = path.join(tmp, 'journal-sockets');
    const journal = path.join(tmp, 'journal');

    // syslog: journald (private mount namespace: its sockets and journal live in tmp) forwarding to rsyslog,
    // or rsyslog alone on /dev/log. rsyslog writes auth,authpriv in Debian's default file format.
    const rsyslogInput = withJournald ? `module(load="imuxsock" SysSock.Name="${path.join(sock, 'syslog')}")` : 'module(load="imuxsock")';
    fs.writeFileSync(path.join(tmp, 'rsyslog.conf'), `${rsyslogInput}\n$WorkDirectory ${tmp}\nauth,authpriv.* action(type="omfile" file="${authLog}" template="RSYSLOG_FileFormat")\n`);
    if (withJournald) {
      fs.mkdirSync(sock);
      fs.mkdirSync(journal);
      fs.writeFileSync(path.join(tmp, 'journald.conf'), '[Journal]\nStorage=volatile\nForwardToSyslog=yes\n');
      mkdirOwned('/run/systemd/journal');
      mkdirOwned('/run/log/journal');
      daemon('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
        `mount --bind ${sock} /run/systemd/journal && mount --bind ${journal} /run/log/journal && mount --bind ${path.join(tmp, 'journald.conf')} /etc/systemd/journald.conf && exec ${JOURNALD}`]);
      await until('journald to listen', () => fs.existsSync(path.join(sock, 'dev-log')), 20_000);
      fs.symlinkSync(path.join(sock, 'dev-log'), '/dev/log');
      cleanups.push(() => fs.rmSync('/dev/log', { force: true }));
    }
    daemon('rsyslogd', ['-n', '-f', path.join(tmp, 'rsyslog.conf'), '-i', path.join(tmp, 'rsyslog.pid')]);
    await until('rsyslog to listen', () => fs.existsSync(withJournald ? path.join(sock, 'syslog') : '/dev/log'), 20_000);
    if (!withJournald) cleanups.push(() => fs.rmSync('/dev/log', { force: true }));
    // The audit stream, after journald (which turns kernel auditing off when it starts): auditd writing our
    // file (ENRICHED, Debian's default), one execve rule.
    const auditDir = path.join(tmp, 'audit');
    fs.mkdirSync(path.join(auditDir, 'plugins.d'), { recursive: true });
    fs.writeFileSync(path.join(auditDir, 'auditd.conf'), [
      `log_file = ${auditLog}`, 'log_format = ENRICHED', 'flush = DATA', 'write_logs = yes', 'local_events = yes', 'max_log_file_action = IGNORE',
      'space_left = 2', 'space_left_action = IGNORE', 'admin_space_left = 1', 'admin_space_left_action = IGNORE', 'disk_full_action = IGNORE',
      'disk_error_action = IGNORE', `plugin_dir = ${path.join(auditDir, 'plugins.d')}`, '',
    ].join('\n'), { mode: 0o640 });
    const auditWasEnabled = /^enabled 1/m.test(execFileSync('auditctl', ['-s'], { encoding: 'utf8' }));
    cleanups.push(() => { if (!auditWasEnabled) spawnSync('auditctl', ['-e', '0']); });
    daemon('auditd', ['-n', '-c', auditDir]);
    await until('auditd to open its log', () => fs.existsSync(auditLog), 20_000);
    execFileSync('auditctl', ['-e', '1']);
    execFileSync('auditctl', ['-a', 'always,exit', '-F', 'arch=b64', '-S', 'execve', '-F', 'exe=/usr/bin/uname', '-k', AUDIT_KEY]);
    cleanups.push(() => { spawnSync('auditctl', ['-D', '-k', AUDIT_KEY]); });

    // A first line, so that the files exist and have a fingerprint before the collector starts at their end.
    execFileSync('logger', ['-p', 'auth.info', '-t', 'otel-sigma-e2e', 'collector test starts']);
    await until('the first line in auth.log', () => lineCount(authLog) > 0, 10_000);

    const svc = await startServe(['--rules', path.join(SHARED_SIGMA, 'rules/linux'), '--rules', path.join(SHARED_SIGMA, CVE_RULE), '--workers', '1', '--data-dir', path.join(tmp, 'data')]);
    cleanups.push(async () => { await svc.stop('SIGKILL'); });

    // The shipped agent, pointed at this test's files, journal, storage and otel-sigma.
    const agent = parse(fs.readFileSync(path.join(REPO_ROOT, 'collector-config/linux-agent.yaml'), 'utf8')) as Agent;
    fs.mkdirSync(path.join(tmp, 'storage'));
    (agent['extensions']!['file_storage'] as Record<string, unknown>)['directory'] = path.join(tmp, 'storage');
    const receivers = agent['receivers']!;
    (receivers['file_log/audit'] as Record<string, unknown>)['include'] = [auditLog];
    if (withJournald) {
      (receivers['journald'] as Record<string, unknown>)['directory'] = journal;
    } else {
      delete receivers['journald'];
      receivers['file_log/auth'] = { include: [authLog], start_at: 'end', storage: 'file_storage' };
      agent.service.pipelines.logs.receivers = ['file_log/auth', 'file_log/audit'];
    }
    (agent['exporters']!['otlp'] as Record<string, unknown>)['endpoint'] = svc.grpc;
    (agent['processors']!['batch'] as Record<string, unknown>)['timeout'] = '200ms';
    const col = await startCollector(tmp, stringify(agent));
    cleanups.push(async () => { await col.stop('SIGKILL'); });
    await until('the collector to watch its files', () => col.count(/Started watching file/) >= (withJournald ? 1 : 2), 20_000);
    if (withJournald) await col.waitFor(/journalctl|journald/i, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const before = await processed(svc);

    // Real programs. sudo refuses -u#-1 (the CVE is fixed) and logs the attempt, which is what the rule reads.
    spawnSync('sudo', ['-u#-1', '/usr/bin/id'], { stdio: 'ignore' });
    execFileSync('useradd', ['-o', '-u', '0', '-g', '0', '-M', '-N', '-s', '/usr/sbin/nologin', USER], { stdio: 'ignore' });
    cleanups.push(() => { spawnSync('userdel', ['-f', USER]); });
    execFileSync('userdel', ['-f', USER], { stdio: 'ignore' });
    execFileSync('/usr/bin/uname', ['-a'], { stdio: 'ignore' });
    await until('sudo and useradd in auth.log, uname in audit.log', () => /USER=#-1/.test(fs.readFileSync(authLog, 'utf8')) && /useradd.*new user.*UID=0/.test(fs.readFileSync(authLog, 'utf8'))
      && new RegExp(`^type=SYSCALL.*key="${AUDIT_KEY}"`, 'm').test(fs.readFileSync(auditLog, 'utf8')), 20_000);
    execFileSync('auditctl', ['-D', '-k', AUDIT_KEY]);
    // Every expected detection counted by otel-sigma, then a quiet second for stragglers.
    const detectionsOf = async (): Promise<number> => {
      const m = await (await fetch(`http://${svc.http}/metrics`)).text();
      return Object.keys(EXPECTED).filter((id) => new RegExp(`^otel_sigma_detections_total\\{rule_id="${id}"`, 'm').test(m)).length;
    };
    await until('otel-sigma to detect every expected rule', async () => (await detectionsOf()) === Object.keys(EXPECTED).length, 30_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000));
    const sent = (await processed(svc)) - before;
    assert.equal(await col.stop(), 0);
    assert.equal(await svc.stop(), 0);

    const rows = await storedDetections(path.join(tmp, 'data'));
    const byRule = new Map<string, number>();
    for (const r of rows) byRule.set(r.rule_id, (byRule.get(r.rule_id) ?? 0) + 1);
    const authText = fs.readFileSync(authLog, 'utf8');
    console.log(`linux host (${withJournald ? 'journald + rsyslog; agent reads journald + audit.log' : 'rsyslog; agent reads auth.log + audit.log'}): ${sent} records evaluated, auth.log ${lineCount(authLog)} lines, audit.log ${lineCount(auditLog)} lines, ${rows.length} detections ${JSON.stringify(Object.fromEntries(byRule))}`);
    for (const [id, what] of Object.entries(EXPECTED)) assert.equal(byRule.get(id), 1, `${what}: one detection, got ${byRule.get(id) ?? 0}`);
    if (withJournald) assert.match(authText, /USER=#-1/, 'rsyslog wrote the sudo line to auth.log too: reading it as well would have doubled it');
  }

  test('journald + rsyslog host, the shipped agent (journald and audit.log): sudo, useradd and an audited exec detected once each', { timeout: 150_000 }, () => scenario(true));
  test('rsyslog-only host, the agent\'s file_log variant (auth.log and audit.log): the same detections once each', { timeout: 150_000 }, () => scenario(false));
});
