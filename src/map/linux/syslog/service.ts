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
