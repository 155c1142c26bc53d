/**
 * Which SigmaHQ Linux `service` a syslog/journald message belongs to, and the per-program fields
 * rules name.
 *
 * SigmaHQ's services are programs (sshd, sudo, cron, clamav, vsftpd, guacamole) plus two files:
 * `auth` (/var/log/auth.log, /var/log/secure: the auth and authpriv facilities) and `syslog`
 * (/var/log/syslog, /var/log/messages: the rest). meta.service gets the program when known, else
 * `auth` when the facility (4, 10) or file says so, else `syslog`; linux.yaml lets the `auth` rules
 * also see sshd and sudo (they log to authpriv) and the `syslog` rules see the other programs.
 */
const PROGRAMS: Readonly<Record<string, string>> = {
  sshd: 'sshd', 'sshd-session': 'sshd', 'sshd-auth': 'sshd',
  sudo: 'sudo',
  cron: 'cron', crond: 'cron', crontab: 'cron', anacron: 'cron',
  clamd: 'clamav', freshclam: 'clamav', clamscan: 'clamav', clamonacc: 'clamav', 'clamav-milter': 'clamav',
  vsftpd: 'vsftpd',
  guacd: 'guacamole', guacamole: 'guacamole',
};

const AUTH_FACILITIES = new Set([4, 10]);

export function serviceOf(appname: string, facility: number | undefined, fileName: string): string {
  const program = PROGRAMS[appname] ?? PROGRAMS[appname.toLowerCase()];
  if (program !== undefined) return program;
  if (facility !== undefined) return AUTH_FACILITIES.has(facility) ? 'auth' : 'syslog';
  if (fileName.startsWith('auth.log') || fileName.startsWith('secure')) return 'auth';
  return 'syslog';
}

/**
 * sudo's log line `  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id` → its
 * `KEY=value` pairs (TTY, PWD, USER, GROUP, ENV, COMMAND …; CVE-2019-14287's rule tests USER) and
 * the invoking user as `SUDO_USER`. Not a sudo command line: nothing.
 */
export function sudoFields(message: string, out: Record<string, string>): void {
  const colon = message.indexOf(' : ');
  if (colon < 0 || colon > 64) return;
  const user = message.slice(0, colon).trim();
  if (user === '' || user.includes(' ')) return;
  let found = false;
  const parts = message.slice(colon + 3).split(' ; ');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq);
    if (!/^[A-Z]+$/.test(key)) continue;
    // COMMAND is last and may itself contain " ; ".
    const value = key === 'COMMAND' ? parts.slice(i).join(' ; ').slice(eq + 1) : part.slice(eq + 1);
    out[key] = value.trimEnd().replace(/ ;$/, '');
    found = true;
    if (key === 'COMMAND') break;
  }
  if (found) out.SUDO_USER = user;
}

const SSHD_AUTH = /^(Failed|Accepted) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)/;
const SSHD_INVALID = /^Invalid user (.*?) from (\S+?)(?: port (\d+))?$/;
const SSHD_CLOSED = /^(?:Connection closed|Disconnected) (?:by|from) (authenticating|invalid) user (.*?) (\S+) port (\d+)/;

/**
 * sshd's authentication lines → `user`, `src_ip`, `src_port`, `auth_method` and `auth_outcome`
 * (`failure` / `success`), the fields correlation rules group and count on (brute force by source
 * address, spraying across users). `Failed password for invalid user bob from 203.0.113.5 port 4242 ssh2`
 * → user bob, src_ip 203.0.113.5, src_port 4242, auth_method password, auth_outcome failure,
 * invalid_user true. Anything else: nothing.
 */
export function sshdFields(message: string, out: Record<string, string>): void {
  let m = SSHD_AUTH.exec(message);
  if (m) {
    out.auth_outcome = m[1] === 'Failed' ? 'failure' : 'success';
    out.auth_method = m[2]!;
    if (m[3]) out.invalid_user = 'true';
    out.user = m[4]!;
    out.src_ip = m[5]!;
    out.src_port = m[6]!;
    return;
  }
  m = SSHD_INVALID.exec(message);
  if (m) {
    out.auth_outcome = 'failure';
    out.invalid_user = 'true';
    out.user = m[1]!;
    out.src_ip = m[2]!;
    if (m[3]) out.src_port = m[3];
    return;
  }
  m = SSHD_CLOSED.exec(message);
  if (m) {
    if (m[1] === 'invalid') out.invalid_user = 'true';
    out.user = m[2]!;
    out.src_ip = m[3]!;
    out.src_port = m[4]!;
  }
}
