import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { AnyValue, LogRecordView } from '../../../../src/decode/types.ts';
import { createLinuxMapper } from '../../../../src/map/linux/index.ts';
import { syscallName } from '../../../../src/map/linux/auditd/syscalls.ts';

function view(body: AnyValue, attributes: Record<string, AnyValue> = {}, resource: Record<string, AnyValue> = {}): LogRecordView {
  return {
    timeUnixNano: '0', observedTimeUnixNano: '0', severityNumber: 0, severityText: '', body, attributes,
    traceId: '', spanId: '', flags: 0, eventName: '', resource: { attributes: resource }, scope: { name: '', version: '' },
  };
}

// The chmod u+s event as auditd 3.0.9 wrote it (Debian 12), minus BPRM_FCAPS and the second PATH.
const CHMOD = [
  'type=SYSCALL msg=audit(1795314109.332:51): arch=c000003e syscall=59 success=yes exit=0 a0=560688bc6a50 a1=560688bcf310 a2=560688ba3100 a3=e9363d2598538df9 items=2 ppid=10652 pid=10661 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="chmod" exe="/usr/bin/chmod" key="exec"\x1dARCH=x86_64 SYSCALL=execve AUID="unset" UID="root" GID="root"',
  'type=EXECVE msg=audit(1795314109.332:51): argc=3 a0="chmod" a1="u+s" a2="/tmp/recw/crond"',
  'type=CWD msg=audit(1795314109.332:51): cwd="/tmp/recw"',
  'type=PATH msg=audit(1795314109.332:51): item=0 name="/usr/bin/chmod" inode=260143 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL\x1dOUID="root" OGID="root"',
  'type=PROCTITLE msg=audit(1795314109.332:51): proctitle=63686D6F6400752B73002F746D702F726563772F63726F6E64',
];

describe('createLinuxMapper', () => {
  test('auditd: one event per record with shared process context, plus process_creation', () => {
    const m = createLinuxMapper();
    const { events, unhandled } = m.mapBatch(CHMOD.map((l) => view(l, { 'log.file.name': 'audit.log' }, { 'host.name': 'web1' })));
    assert.equal(unhandled.length, 0);
    assert.deepEqual(events.map((e) => e.event.fields.type ?? 'process_creation'), ['SYSCALL', 'EXECVE', 'CWD', 'PATH', 'PROCTITLE', 'process_creation']);
    const execve = events[1]!.event;
    assert.equal(execve.fields.a0, 'chmod');
    assert.equal(execve.fields.exe, '/usr/bin/chmod', 'shared from SYSCALL');
    assert.equal(execve.fields.SYSCALL, 'execve');
    assert.equal(execve.fields.key, undefined, 'key stays on SYSCALL so key-only rules fire once');
    assert.equal(execve.fields.msg, 'audit(1795314109.332:51)');
    assert.deepEqual(execve.meta, { source: 'auditd', product: 'linux', service: 'auditd', host: 'web1' });
    assert.equal(events[0]!.event.fields.a0, '560688bc6a50', 'SYSCALL keeps its own a0');
    const pc = events[5]!;
    assert.deepEqual(pc.event.fields, { CommandLine: 'chmod u+s /tmp/recw/crond', Image: '/usr/bin/chmod', CurrentDirectory: '/tmp/recw', ProcessId: '10661', ParentProcessId: '10652', User: 'root', LogonId: '4294967295' });
    assert.equal(pc.event.meta.source, 'auditd-execve');
    assert.equal(pc.record.body, CHMOD[4], 'the joined event points at its last record');
  });

  test('auditd: an event cut across batches is joined; expire and flush emit incomplete ones', () => {
    let now = 0;
    const m = createLinuxMapper({ maxAgeMs: 1000, now: () => now });
    const first = m.mapBatch(CHMOD.slice(0, 2).map((l) => view(l)));
    assert.equal(first.events.length, 0);
    assert.equal(m.pendingRecords, 2);
    const second = m.mapBatch(CHMOD.slice(2).map((l) => view(l)));
    assert.equal(second.events.length, 6);
    m.mapBatch([view(CHMOD[0]!.replace(':51)', ':52)'))]);
    assert.deepEqual(m.expire(), []);
    now = 1001;
    const expired = m.expire();
    assert.deepEqual(expired.map((e) => e.event.fields.msg), ['audit(1795314109.332:52)']);
    m.mapBatch([view(CHMOD[0]!.replace(':51)', ':53)'))]);
    assert.equal(m.flush().length, 1);
    assert.equal(m.pendingRecords, 0);
  });

  test('auditd RAW format: SYSCALL name from the arch table; node= gives the host without host.name', () => {
    const m = createLinuxMapper();
    const { events } = m.mapBatch([
      view('node=db1 type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=133 success=yes exit=0 a0=1 comm="mknod" exe="/usr/bin/mknod" key=6B310100'.replace('6B310100', Buffer.from('k1\x01k2').toString('hex').toUpperCase())),
      view('node=db1 type=PROCTITLE msg=audit(1.000:1): proctitle="mknod"'),
    ]);
    assert.equal(events[0]!.event.fields.SYSCALL, 'mknod');
    assert.deepEqual(events[0]!.event.fields.key, ['k1', 'k2']);
    assert.equal(events[0]!.event.fields.node, 'db1');
    assert.equal(events[0]!.event.meta.host, 'db1');
    assert.equal(syscallName('c00000b7', '221'), 'execve');
    assert.equal(syscallName('40000003', '11'), 'execve');
    assert.equal(syscallName('deadbeef', '1'), undefined);
  });

  test('audisp-syslog: auditd lines forwarded through syslog join like file lines', () => {
    const m = createLinuxMapper();
    const { events, unhandled } = m.mapBatch(CHMOD.map((l) => view(`Nov 22 02:22:28 vm audisp-syslog: ${l}`, { 'log.file.name': 'syslog' })));
    assert.equal(unhandled.length, 0);
    assert.equal(events.length, 6);
    assert.equal(events[1]!.event.fields.a1, 'u+s');
  });

  test('journald: map body, byte-array MESSAGE, audit transport, semantic-conventions shape', () => {
    const m = createLinuxMapper();
    const msg = Buffer.from('   bob : TTY=pts/1 ; PWD=/ ; USER=#-1 ; COMMAND=/usr/bin/id');
    const { events, unhandled } = m.mapBatch([
      view({ MESSAGE: [...msg], SYSLOG_IDENTIFIER: 'sudo', SYSLOG_FACILITY: '10', _HOSTNAME: 'box', _PID: '7', __CURSOR: 's=1', __MONOTONIC_TIMESTAMP: '5' }),
      view({ _TRANSPORT: 'audit', _AUDIT_TYPE_NAME: 'SYSCALL', _AUDIT_ID: '2995', _SOURCE_REALTIME_TIMESTAMP: '1795314162988000', MESSAGE: 'SYSCALL arch=c000003e syscall=49 success=yes exit=0 a0=9 comm="systemd-journal" exe="/usr/lib/systemd/systemd-journald"', _HOSTNAME: 'box' }),
      view({ _TRANSPORT: 'audit', _AUDIT_TYPE_NAME: 'PROCTITLE', _AUDIT_ID: '2995', _SOURCE_REALTIME_TIMESTAMP: '1795314162988000', MESSAGE: 'PROCTITLE proctitle="/lib/systemd/systemd-journald"', _HOSTNAME: 'box' }),
      view('(root) REPLACE (root)', { 'journald.SYSLOG_IDENTIFIER': 'crontab', 'syslog.facility.code': 9, 'syslog.pid': 41 }, { 'host.name': 'box', 'process.command': 'crontab' }),
    ]);
    assert.equal(unhandled.length, 0);
    const sudo = events.find((e) => e.event.fields.appname === 'sudo')!.event;
    assert.equal(sudo.fields.USER, '#-1');
    assert.equal(sudo.fields.MESSAGE, msg.toString());
    assert.equal(sudo.fields.__CURSOR, undefined);
    assert.deepEqual(sudo.meta, { source: 'journald', product: 'linux', service: 'sudo', host: 'box' });
    const audit = events.filter((e) => e.event.meta.source === 'auditd').map((e) => e.event.fields);
    assert.deepEqual(audit.map((f) => [f.type, f.SYSCALL, f.msg, f.node]), [['SYSCALL', 'bind', 'audit(1795314162.988:2995)', 'box'], ['PROCTITLE', 'bind', 'audit(1795314162.988:2995)', 'box']]);
    assert.ok(events.filter((e) => e.event.meta.source === 'auditd').every((e) => e.event.meta.host === 'box'));
    const cron = events.find((e) => e.event.fields.appname === 'crontab')!.event;
    assert.equal(cron.meta.service, 'cron');
    assert.equal(cron.fields.message, '(root) REPLACE (root)');
    assert.equal(cron.fields.proc_id, '41');
  });

  test('syslog: parser attributes win over the body; sysmon XML becomes a sysmon event', () => {
    const m = createLinuxMapper();
    const xml = '<Event><System><EventID>3</EventID><Channel>Linux-Sysmon/Operational</Channel><Computer>lx</Computer></System><EventData><Data Name="Image">/usr/bin/bash</Data><Data Name="DestinationIp">203.0.113.9</Data></EventData></Event>';
    const { events } = m.mapBatch([
      view('raw body ignored', { appname: 'sshd', hostname: 'h', message: 'Corrupted MAC on input.', proc_id: '9', facility: 4, priority: 38 }),
      view(`Nov 22 02:30:01 lx sysmon: ${xml}`),
      view(`<134>1 2026-11-22T02:30:01Z lx sysmon 1 - - ${xml}`, { appname: 'sysmon', hostname: 'lx', message: xml }),
    ]);
    assert.deepEqual(events[0]!.event.fields, { hostname: 'h', appname: 'sshd', proc_id: '9', message: 'Corrupted MAC on input.', facility: 4, priority: 38 });
    assert.equal(events[0]!.event.meta.service, 'sshd');
    for (const e of events.slice(1)) {
      assert.deepEqual(e.event.fields, { EventID: 3, Channel: 'Linux-Sysmon/Operational', Computer: 'lx', Image: '/usr/bin/bash', DestinationIp: '203.0.113.9' });
      assert.deepEqual(e.event.meta, { source: 'sysmon-linux', product: 'linux', service: 'sysmon', host: 'lx' });
    }
  });

  test('records that are not Linux logs go back unhandled', () => {
    const m = createLinuxMapper();
    const others = [view({ EventID: 4624, Channel: 'Security' }), view('{"level":"info","msg":"hi"}'), view(null), view(42), view(['a']), view('type=SYSCALL but not auditd'), view('GET / HTTP/1.1'), view({ MESSAGE: 'app log with a MESSAGE key', level: 'info' }), view('2026-11-22T02:21:49.123Z INFO request served')];
    const { events, unhandled } = m.mapBatch(others);
    assert.equal(events.length, 0);
    assert.equal(unhandled.length, others.length);
  });

  test('throughput (reported, loose bound)', () => {
    const m = createLinuxMapper();
    const audit = Array.from({ length: 20_000 }, (_, i) => view(CHMOD[i % 5]!.replace(':51)', `:${51 + Math.floor(i / 5)})`), { 'log.file.name': 'audit.log' }));
    const syslog = Array.from({ length: 20_000 }, () => view('Nov 22 02:22:28 vm sudo:    alice : PWD=/work/main ; USER=root ; COMMAND=/usr/bin/id', { 'log.file.name': 'auth.log' }));
    m.mapBatch(audit.slice(0, 1000));
    m.mapBatch(syslog.slice(0, 1000));
    let t = performance.now();
    const a = m.mapBatch(audit);
    const auditMs = performance.now() - t;
    t = performance.now();
    const s = m.mapBatch(syslog);
    const syslogMs = performance.now() - t;
    assert.equal(a.events.length, 24_000);
    assert.equal(s.events.length, 20_000);
    console.log(`auditd ${Math.round(20_000 / (auditMs / 1000))} records/s, syslog ${Math.round(20_000 / (syslogMs / 1000))} records/s`);
    assert.ok(auditMs < 5000 && syslogMs < 5000);
  });
});
