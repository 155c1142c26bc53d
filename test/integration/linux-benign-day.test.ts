/**
 * False alarms on a benign Linux host: the recorded benign day (test/fixtures/linux/benign-day/, a scripted and
 * time-compressed day of an ordinary Debian 12 host) through `otel-sigma eval` with the whole active SigmaHQ
 * ruleset and the repo's rules/, as the shipped agent (journald + audit.log) and as the file_log variant
 * (auth.log + syslog + audit.log) deliver it. The detections must be exactly the reviewed set below; the
 * fixture's README says why each one fires. Network-appliance rules fire on none of it.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AGENT_SETUPS, BENIGN_DAY_HOST, writeBenignDayRequests } from '../helpers/benign-day.ts';
import { ACTIVE_RULE_DIRS, hasCorpus, REPO_ROOT } from '../helpers/corpus.ts';

/** Reviewed detections of the day, per rule: the same for both agent set-ups. */
const EXPECTED: Readonly<Record<string, number>> = {
  // high (alerted at the default alerts.min_level)
  'dbfc90ca-eedf-4eac-9607-9efee6cc5492': 2, // User Added To An Administrative Group: usermod -aG sudo carol (group and gshadow lines)
  // medium
  '759d0d51-bc99-4b5e-9add-8f5b2c8e7512': 15, // Creation Of An User Account (auditd): useradd's SYSCALL records and ADD_USER
  '30bcce26-51c5-49f2-99c8-7b59e3af36c7': 2, // Execution Of Script Located In Potentially Suspicious Directory: /tmp in a command line
  '03c1928c-5600-4bab-83d5-fa21a2ba4768': 1, // Interactive Root Shell Through Sudo: sudo -i
  'af202fd3-7bff-4212-a25a-fb34606cfcbe': 1, // Modifying Crontab: crontab REPLACE
  'c2e234de-03a3-41e1-b39a-1e56dc17ba67': 1, // Remove Scheduled Cron Task/Job: crontab -r
  '08f26069-6f80-474b-8d1f-d971c6fedea0': 1, // User Has Been Deleted Via Userdel
  // low
  '6104e693-a7d6-4891-86cb-49a258523559': 3, // Bash Interactive Shell: sshd's `bash -c "… -i …"`
  '403ed92c-b7ec-4edd-9947-5b535ee12d46': 1, // Crontab Enumeration: crontab -l
  'ea34fb97-e2c4-4afb-810f-785e4459b194': 1, // Curl Usage on Linux
  'a3b5e3e9-1b49-4119-8b8e-0344a01f21ee': 2, // Data Compressed: tar czf
  '74c01ace-0152-4094-8ae2-6fd776dd43e5': 6, // File or Folder Permissions Change: chmod
  'd08722cd-3d09-449a-80b4-83ea2d9d4616': 2, // Hidden Files and Directories: mkdir -p /root/.pyenv/shims (root's profile)
  '95d61234-7f56-465c-6f2d-b562c6fedbc4': 3, // Linux Package Uninstall: apt-get remove, dpkg -r
  'b45e3d6f-42c6-47d8-a478-df6bd6cf534c': 5, // Local System Accounts Discovery - Linux: id
  '4e2f5868-08d4-413d-899f-dc2f1508627b': 2, // Process Discovery: ps, pgrep
  'f34047d9-20d3-4e8b-8672-0a35cc50dc71': 47, // System Information Discovery - Auditd: motd's uname per login, env -i, uptime
  '4c519226-f0cd-4471-bd2f-6fbb2bb68a79': 2, // System Network Connections Discovery - Linux: w, last
  '9a0d8ca0-2385-4020-b6c6-cb6153ca56f3': 41, // System Owner or User Discovery - Linux: uname, id, w, last, whoami
  // informational
  '30aed7b6-d2c1-4eaf-9382-b6bc43e50c57': 12, // File Deletion: rm
  'd3feb4ee-ff1d-4d3d-bd10-5b28a238cc72': 3, // File and Directory Discovery - Linux: find, tree
  '7b1f9d3c-4e62-4a85-b7c0-2d9e5f8a3b16': 33, // SSH Login Accepted (pack, feeds the brute-force correlations)
  '42df45e7-e6e9-43b5-8f26-bec5b39cc239': 34, // System Information Discovery: uname, uptime
  'e7bd1cfa-b446-4c88-8afb-403bcd79e3fa': 3, // System Network Discovery - Linux: ip, ss
  '4cb57c2f-1f29-41f8-893d-8bed8e1c1d2f': 153, // System Shutdown/Reboot - Linux: keyword "init" in --lsbsysinit, /etc/init.d/…
};
const APPLIANCES = new Set(['cisco', 'fortigate', 'fortios', 'huawei', 'juniper', 'paloalto']);

interface EvalLine {
  input: string;
  rule_id: string;
  rule_title: string;
  rule_level: string;
  host: string;
  logsource: { product: string | null };
}

describe('benign Linux day: detections with the active SigmaHQ ruleset and rules/', { skip: hasCorpus ? false : 'needs ../shared/sigma' }, () => {
  let tmp = '';
  const bySetup = new Map<string, EvalLine[]>();
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-sigma-benign-day-'));
    const files = writeBenignDayRequests(tmp);
    const rules = [...ACTIVE_RULE_DIRS, path.join(REPO_ROOT, 'rules')].flatMap((d) => ['--rules', d]);
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/otel-sigma.js'), 'eval', ...rules, ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    for (const l of r.stdout.split('\n')) {
      if (l === '') continue;
      const d = JSON.parse(l) as EvalLine;
      const setup = AGENT_SETUPS.find((s) => d.input.endsWith(`benign-day-${s}.json`))!;
      bySetup.set(setup, [...(bySetup.get(setup) ?? []), d]);
    }
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const setup of AGENT_SETUPS) {
    test(`${setup}: exactly the reviewed detections, per rule`, () => {
      const got: Record<string, number> = {};
      for (const d of bySetup.get(setup) ?? []) got[d.rule_id] = (got[d.rule_id] ?? 0) + 1;
      assert.deepEqual(got, EXPECTED);
    });

    test(`${setup}: no network-appliance rule fires; one host; 2 detections at the default alert level (high)`, () => {
      const ds = bySetup.get(setup) ?? [];
      assert.deepEqual(ds.filter((d) => APPLIANCES.has(d.logsource.product ?? '')), []);
      assert.deepEqual([...new Set(ds.map((d) => d.host))], [BENIGN_DAY_HOST]);
      const atLeast = (levels: string[]): number => ds.filter((d) => levels.includes(d.rule_level)).length;
      assert.equal(atLeast(['critical', 'high']), 2);
      assert.equal(atLeast(['critical', 'high', 'medium']), 23);
      assert.equal(ds.length, 376);
    });
  }
});
