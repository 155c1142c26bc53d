import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseSyslogLine } from '../../../../src/map/linux/syslog/parse-line.ts';
import { serviceOf, sudoFields } from '../../../../src/map/linux/syslog/service.ts';

// Header shapes as rsyslog 8.2302 wrote them on Debian 12 (test/fixtures/linux/cases.json).
describe('parseSyslogLine', () => {
  test('traditional file format', () => {
    const p = parseSyslogLine('Nov 22 02:22:28 vm sshd[11848]: Invalid user invaliduser from 127.0.0.1 port 38450')!;
    assert.deepEqual(
      { ...p },
      { timestamp: 'Nov 22 02:22:28', hostname: 'vm', appname: 'sshd', procId: '11848', msgId: '', message: 'Invalid user invaliduser from 127.0.0.1 port 38450', structuredData: '', priority: undefined, facility: undefined, severity: undefined },
    );
  });

  test('space-padded day, tag without pid, message with colons', () => {
    const p = parseSyslogLine('Nov  2 09:05:01 host-1 named: client @0x7f 203.0.113.5#53 (example.com): zone transfer denied')!;
    assert.equal(p.timestamp, 'Nov  2 09:05:01');
    assert.equal(p.hostname, 'host-1');
    assert.equal(p.appname, 'named');
    assert.equal(p.procId, '');
    assert.equal(p.message, 'client @0x7f 203.0.113.5#53 (example.com): zone transfer denied');
  });

  test("Debian 12's RFC3339 high-precision format", () => {
    const p = parseSyslogLine('2026-11-22T02:21:49.730928+00:00 vm useradd[10801]: new user: name=butter0, UID=0, GID=0')!;
    assert.equal(p.timestamp, '2026-11-22T02:21:49.730928+00:00');
    assert.equal(p.appname, 'useradd');
    assert.equal(p.procId, '10801');
    assert.equal(p.message, 'new user: name=butter0, UID=0, GID=0');
  });

  test('RFC3164 on the wire: <PRI> gives facility and severity', () => {
    const p = parseSyslogLine('<81>Nov 22 02:22:28 vm sudo:    alice : unknown user #-1 ; PWD=/work/main ; USER=#-1 ; ')!;
    assert.equal(p.priority, 81);
    assert.equal(p.facility, 10);
    assert.equal(p.severity, 1);
    assert.equal(p.appname, 'sudo');
    assert.equal(p.message, '   alice : unknown user #-1 ; PWD=/work/main ; USER=#-1 ; ');
  });

  test('RFC5424: nil values, structured data with escapes, BOM', () => {
    const p = parseSyslogLine('<38>1 2026-11-22T02:22:27.661472+00:00 vm sshd 11843 - -  Server listening on 0.0.0.0 port 2222.')!;
    assert.equal(p.appname, 'sshd');
    assert.equal(p.procId, '11843');
    assert.equal(p.msgId, '');
    assert.equal(p.facility, 4);
    assert.equal(p.message, ' Server listening on 0.0.0.0 port 2222.');
    const sd = parseSyslogLine('<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\\]ication"][x@1 a="b"] \ufeffAn application event')!;
    assert.equal(sd.msgId, 'ID47');
    assert.equal(sd.procId, '');
    assert.equal(sd.structuredData, '[exampleSDID@32473 iut="3" eventSource="Appl\\]ication"][x@1 a="b"]');
    assert.equal(sd.message, 'An application event');
  });

  test('a line without a tag: syslog only behind <PRI> (else it may be any application log)', () => {
    const p = parseSyslogLine('<46>Nov 22 02:22:28 vm -- MARK --')!;
    assert.equal(p.appname, '');
    assert.equal(p.message, '-- MARK --');
    assert.equal(parseSyslogLine('Nov 22 02:22:28 vm -- MARK --'), undefined);
    assert.equal(parseSyslogLine('2026-11-22T02:21:49.123Z INFO request served in 3 ms'), undefined);
  });

  test('not syslog: undefined', () => {
    for (const line of ['', 'hello world', '{"a":1}', '<999>Nov 22 02:22:28 vm x: y', 'Nov 22 02:22:28', 'Foo 22 02:22:28 vm x: y', '2026-11-22T02:21:49Z', 'type=SYSCALL msg=audit(1.0:1): a=1', '<13>1 2026 x']) {
      assert.equal(parseSyslogLine(line), undefined, line);
    }
  });

  test('hostile: 1 MB lines parse in linear time', () => {
    const start = performance.now();
    const long = parseSyslogLine(`Nov 22 02:22:28 vm app[1]: ${'A'.repeat(1 << 20)}`)!;
    assert.equal(long.message.length, 1 << 20);
    assert.equal(parseSyslogLine(`Nov 22 02:22:28 vm ${'x'.repeat(1 << 20)}`), undefined);
    const tagless = parseSyslogLine(`<13>Nov 22 02:22:28 vm ${'x'.repeat(1 << 20)}`)!;
    assert.equal(tagless.appname, '');
    const sd = parseSyslogLine(`<13>1 - - - - - [${'a="\\"'.repeat(1 << 18)}`)!;
    assert.ok(sd.structuredData.length > 0);
    assert.equal(parseSyslogLine('2'.repeat(1 << 20)), undefined);
    assert.ok(performance.now() - start < 1000);
  });
});

describe('service and sudo fields', () => {
  test('program, facility, then file decide the service', () => {
    assert.equal(serviceOf('sshd', undefined, 'syslog'), 'sshd');
    assert.equal(serviceOf('sshd-session', 4, ''), 'sshd');
    assert.equal(serviceOf('CRON', 9, ''), 'cron');
    assert.equal(serviceOf('clamd', undefined, ''), 'clamav');
    assert.equal(serviceOf('pkexec', 10, ''), 'auth');
    assert.equal(serviceOf('pkexec', 1, 'auth.log'), 'syslog', 'the facility wins over the file name');
    assert.equal(serviceOf('pkexec', undefined, 'auth.log'), 'auth');
    assert.equal(serviceOf('su', undefined, 'secure'), 'auth');
    assert.equal(serviceOf('kernel', undefined, 'syslog'), 'syslog');
  });

  test('sudo command lines', () => {
    const out: Record<string, string> = {};
    sudoFields('   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh -c echo a ; echo b', out);
    assert.deepEqual(out, { TTY: 'pts/0', PWD: '/home/alice', USER: 'root', COMMAND: '/bin/sh -c echo a ; echo b', SUDO_USER: 'alice' });
    const failed: Record<string, string> = {};
    sudoFields('    root : unknown user #-1 ; PWD=/work/main ; USER=#-1 ;', failed);
    assert.deepEqual(failed, { PWD: '/work/main', USER: '#-1', SUDO_USER: 'root' });
    const none: Record<string, string> = {};
    sudoFields('pam_unix(sudo:session): session opened for user root(uid=0) by (uid=1002)', none);
    assert.deepEqual(none, {});
  });
});
