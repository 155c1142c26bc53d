/**
 * Network appliances recognised by their documented log formats, so that the appliance logsources
 * (generic.yaml: cisco, fortigate/fortios, huawei, juniper, paloalto) see appliance events and never
 * a Linux host's own syslog. Most of those SigmaHQ rules are bare keyword searches (`delete`,
 * `username`, `dir`, `copy`): run on every syslog line they fire on `userdel: delete user …`.
 *
 * | product | recognised by |
 * |---|---|
 * | cisco | `%FACILITY-SEVERITY-MNEMONIC:` (IOS, IOS-XE, NX-OS, IOS-XR, ASA, FTD: `%SYS-5-CONFIG_I:`, `%ASA-6-302013:`); TACACS+ command accounting (`task_id=… service=shell … cmd=…`); ISE/ACS program names (`CISE_…`, `CSCOacs_…`) |
 * | fortigate | FortiOS key=value lines: `devid=` of a Fortinet serial (`FG…`, `FW…`, `FOS…`) and a 10-digit `logid=` |
 * | paloalto | PAN-OS CSV syslog: `FUTURE_USE,YYYY/MM/DD HH:MM:SS,serial,TYPE,` with TYPE one of PAN-OS's log types (TRAFFIC, THREAT, SYSTEM, CONFIG, GLOBALPROTECT, …) |
 * | juniper | RFC 5424 structured data of Juniper's enterprise number (`[junos@2636.…]`); `RT_…` tags (SRX `RT_FLOW`); Junos' `/kernel`; a Junos daemon (rpd, mgd, chassisd …) writing an upper-case event tag (`UI_COMMIT:`) |
 * | huawei | VRP `%%01MODULE/SEVERITY/MNEMONIC(l)[n]:` |
 * | any of these | a CEF or LEEF header naming the vendor (`CEF:0|Palo Alto Networks|PAN-OS|…`) |
 *
 * Only the first 512 characters are looked at (every marker above is in a line's header); the
 * patterns are anchored on a literal that is looked for first and have bounded repetitions.
 */

export type ApplianceProduct = 'cisco' | 'fortigate' | 'paloalto' | 'juniper' | 'huawei';

/** What the recognisers read: the line (the raw line, else the message) and, for syslog events, its parsed parts. */
export interface ApplianceInput {
  readonly text: string;
  /** The syslog message after the tag (journald's MESSAGE). */
  readonly message?: string;
  readonly appname?: string;
  readonly structuredData?: string;
}

const HEAD = 512;

// `%SYS-5-CONFIG_I:`, `%ASA-6-302013:`, `%MGBL-CONFIG-6-DB_COMMIT :` (IOS-XR), `%VSHD-5-VSHD_SYSLOG_CONFIG_I:`.
const CISCO_MNEMONIC = /(?:^|[\s:>*])%[A-Z][A-Z0-9_]{0,31}(?:-[A-Z0-9_]{1,32}){0,2}-[0-7]-[A-Z0-9_]{1,64} ?:/;
const CISCO_TAG = /^%[A-Z][A-Z0-9_]{0,31}(?:-[A-Z0-9_]{1,32}){0,2}-[0-7]-[A-Z0-9_]{1,64}$/;
// tac_plus accounting records (tab-separated AV pairs): `task_id=43 … service=shell … cmd=delete flash:x <cr>`.
const TACACS_TASK = /(?:^|\s)task_id=\d/;
const TACACS_SHELL = /\sservice=shell\s/;
const TACACS_CMD = /\scmd=/;
const CISCO_AAA_PROGRAM = /^(?:CISE|CSCOacs)_[A-Za-z_]+$/;
// FortiOS: `devid="FGT60ETK19000001"` / `devid=FG100F…` and `logid="0100044547"`.
const FORTI_DEVID = /(?:^|\s)devid="?F[A-Z0-9]{3,}/;
const FORTI_LOGID = /(?:^|\s)logid="?\d{10}\b/;
// PAN-OS: `1,2024/10/11 22:14:15,007051000012345,TRAFFIC,`.
const PAN_CSV = /(?:^|[\s,:>])\d{0,3},\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d,[0-9A-Za-z]{6,20},(?:TRAFFIC|THREAT|SYSTEM|CONFIG|HIPMATCH|GLOBALPROTECT|USERID|AUTH|DECRYPTION|TUNNEL|CORRELATION|IPTAG|SCTP|GTP|URL|WILDFIRE|DATA),/;
// Huawei VRP: `%%01SHELL/5/CMDRECORD(s)[21]:`, `%%01BGP/3/BGP_AUTH_FAILED(l):`.
const HUAWEI = /%%\d{2}[A-Z][A-Z0-9_]{0,31}\/[0-7]\/[A-Z0-9_]{1,64}(?:\([a-z]{1,4}\))?(?:\[\d{1,10}\])?:/;
// Juniper's IANA enterprise number 2636 in an RFC 5424 SD-ID.
const JUNOS_SD = /\[[A-Za-z0-9_.-]{1,32}@2636[.\s\]]/;
const JUNOS_TAG = /^[A-Z][A-Z0-9]{1,15}_[A-Z0-9_]{1,64}(?::|$)/;
const JUNOS_DAEMONS = new Set(['rpd', 'mgd', 'chassisd', 'dcd', 'mib2d', 'kmd', 'eventd', 'jsrpd', 'cosd', 'lacpd', 'eswd', 'pfed', 'alarmd', 'craftd', 'l2ald', 'dfwd', 'authd', 'jdhcpd', 'bfdd', 'ppmd', 'vrrpd', 'flowd', 'idpd', 'utmd', 'appidd']);
// CEF:0|Vendor|Product|… and LEEF:1.0|Vendor|Product|…
const CEF_LEEF = /(?:CEF:\d{1,2}|LEEF:\d(?:\.\d)?)\|([^|]{1,64})\|/;
const VENDORS: readonly (readonly [RegExp, ApplianceProduct])[] = [
  [/^cisco/i, 'cisco'],
  [/^fortinet/i, 'fortigate'],
  [/^palo ?alto/i, 'paloalto'],
  [/^juniper/i, 'juniper'],
  [/^huawei/i, 'huawei'],
];

/** The appliance whose log format `input` is in, else undefined (the Linux or generic event stays as it is). */
export function applianceOf(input: ApplianceInput): ApplianceProduct | undefined {
  const text = input.text.length > HEAD ? input.text.slice(0, HEAD) : input.text;
  const app = input.appname ?? '';
  if (text.includes('%')) {
    if (text.includes('%%') && HUAWEI.test(text)) return 'huawei';
    if (CISCO_MNEMONIC.test(text)) return 'cisco';
  }
  if (app.charCodeAt(0) === 37 /* % */ && CISCO_TAG.test(app)) return 'cisco';
  if (text.includes('devid=') && FORTI_DEVID.test(text) && FORTI_LOGID.test(text)) return 'fortigate';
  if (text.includes(',20') && PAN_CSV.test(text)) return 'paloalto';
  if (text.includes('@2636') && JUNOS_SD.test(text)) return 'juniper';
  if (input.structuredData !== undefined && input.structuredData.includes('@2636') && JUNOS_SD.test(input.structuredData)) return 'juniper';
  if (app !== '' && isJunosProgram(app, input.message ?? '')) return 'juniper';
  if (text.includes('task_id=') && TACACS_TASK.test(text) && TACACS_SHELL.test(text) && TACACS_CMD.test(text)) return 'cisco';
  if (app.startsWith('CISE_') || app.startsWith('CSCOacs_')) {
    if (CISCO_AAA_PROGRAM.test(app)) return 'cisco';
  }
  if (text.includes('CEF:') || text.includes('LEEF:')) {
    const vendor = CEF_LEEF.exec(text)?.[1];
    if (vendor !== undefined) for (const [re, product] of VENDORS) if (re.test(vendor)) return product;
  }
  return undefined;
}

/** `/kernel` (Junos' FreeBSD kernel), SRX `RT_FLOW`-style tags, or a Junos daemon writing an event tag. */
function isJunosProgram(app: string, message: string): boolean {
  if (app === '/kernel') return true;
  if (app.startsWith('RT_') && JUNOS_TAG.test(app)) return true;
  return JUNOS_DAEMONS.has(app) && JUNOS_TAG.test(message.slice(0, 82));
}

const MAX_PAIRS = 256;

/**
 * FortiOS `key=value` / `key="value with spaces"` pairs → fields (`action`, `cfgpath`, `devname`, …),
 * which the FortiGate rules select on. Keys already in `fields` are kept; at most 256 pairs.
 * Linear: one pass, no regular expression.
 */
export function addKeyValueFields(text: string, fields: Record<string, unknown>): void {
  let i = 0;
  let pairs = 0;
  const n = text.length;
  // A `<PRI>` glued to the first pair (`<189>date=2024-10-11 …`).
  if (text.charCodeAt(0) === 60 /* < */) {
    const close = text.indexOf('>');
    if (close > 1 && close < 5) i = close + 1;
  }
  while (i < n && pairs < MAX_PAIRS) {
    while (i < n && text.charCodeAt(i) === 32) i++;
    const keyStart = i;
    while (i < n && isKeyChar(text.charCodeAt(i))) i++;
    if (i === keyStart || i >= n || text.charCodeAt(i) !== 61 /* = */) {
      // Not a pair (a `<PRI>` or syslog header word): skip to the next blank.
      while (i < n && text.charCodeAt(i) !== 32) i++;
      continue;
    }
    const key = text.slice(keyStart, i);
    i++;
    let value: string;
    if (text.charCodeAt(i) === 34 /* " */) {
      const end = text.indexOf('"', i + 1);
      const stop = end < 0 ? n : end;
      value = text.slice(i + 1, stop);
      i = stop + 1;
    } else {
      const start = i;
      while (i < n && text.charCodeAt(i) !== 32) i++;
      value = text.slice(start, i);
    }
    pairs++;
    if (!(key in fields)) fields[key] = value;
  }
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46;
}
