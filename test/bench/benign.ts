/**
 * Ordinary Windows activity for the benchmark: the event_data of a typical workstation/server mix
 * (Sysmon 1/3/7/10/11/12/13, Security 4624/4625/4688, PowerShell 4104). Values are what a quiet estate
 * logs all day (svchost, browsers, Office, updates, signed system DLLs), so the engine's prefilter sees
 * the kind of input it meets in production, not only the attack recordings. Deterministic (seeded).
 */

import type { Rng } from '../helpers/rng.ts';

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const hex = (r: Rng, n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('').toUpperCase();
const guid = (r: Rng): string => `{${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}}`;
const pid = (r: Rng): string => String(4 + Math.floor(r() * 30000) * 4);
const USERS = ['CORP\\alice', 'CORP\\bob', 'CORP\\carol.smith', 'CORP\\dave', 'NT AUTHORITY\\SYSTEM', 'NT AUTHORITY\\LOCAL SERVICE', 'NT AUTHORITY\\NETWORK SERVICE'];
const HUMANS = ['alice', 'bob', 'carol.smith', 'dave', 'erin', 'frank'];

/** [Image, CommandLine, ParentImage, ParentCommandLine, OriginalFileName, Description] */
const PROCESSES: readonly (readonly [string, string, string, string, string, string])[] = [
  ['C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule', 'C:\\Windows\\System32\\services.exe', 'C:\\Windows\\system32\\services.exe', 'svchost.exe', 'Host Process for Windows Services'],
  ['C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp', 'C:\\Windows\\System32\\services.exe', 'C:\\Windows\\system32\\services.exe', 'svchost.exe', 'Host Process for Windows Services'],
  ['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id=142 --mojo-platform-channel-handle=5128 /prefetch:1', 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"', 'chrome.exe', 'Google Chrome'],
  ['C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe', '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle=2252 /prefetch:3', 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe', '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --profile-directory=Default', 'msedge.exe', 'Microsoft Edge'],
  ['C:\\Windows\\System32\\conhost.exe', '\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1', 'C:\\Windows\\System32\\cmd.exe', 'C:\\Windows\\system32\\cmd.exe /c "C:\\Program Files\\Backup\\nightly.bat"', 'CONHOST.EXE', 'Console Window Host'],
  ['C:\\Windows\\System32\\taskhostw.exe', 'taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule', 'taskhostw.exe', 'Host Process for Windows Tasks'],
  ['C:\\Windows\\System32\\RuntimeBroker.exe', 'C:\\Windows\\System32\\RuntimeBroker.exe -Embedding', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p', 'RuntimeBroker.exe', 'Runtime Broker'],
  ['C:\\Windows\\System32\\SearchProtocolHost.exe', '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe5_ Global\\UsGthrCtrlFltPipeMssGthrPipe5 1 -2147483646 "Software\\Microsoft\\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon"', 'C:\\Windows\\System32\\SearchIndexer.exe', 'C:\\Windows\\system32\\SearchIndexer.exe /Embedding', 'SearchProtocolHost.exe', 'Microsoft Windows Search Protocol Host'],
  ['C:\\Windows\\System32\\backgroundTaskHost.exe', '"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p', 'backgroundTaskHost.exe', 'Background Task Host'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE', '"C:\\Program Files\\Microsoft Office\\Root\\Office16\\OUTLOOK.EXE" ', 'C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE', 'Outlook.exe', 'Microsoft Outlook'],
  ['C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE', '"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE" /n "C:\\Users\\alice\\Documents\\Quarterly report.docx" /o ""', 'C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE', 'WinWord.exe', 'Microsoft Word'],
  ['C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe', '"C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" --type=gpu-process --user-data-dir="C:\\Users\\bob\\AppData\\Roaming\\Code" --gpu-preferences=UAAAAAAAAADgAAAEAAAAAAAAAAAAAAAAAABgAAAAAAA --mojo-platform-channel-handle=1884 /prefetch:2', 'C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe', '"C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"', 'electron.exe', 'Visual Studio Code'],
  ['C:\\Program Files\\Git\\cmd\\git.exe', '"C:\\Program Files\\Git\\cmd\\git.exe" fetch --all --prune', 'C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe', '"C:\\Users\\bob\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"', 'git.exe', 'Git for Windows'],
  ['C:\\Windows\\System32\\wbem\\WmiPrvSE.exe', 'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p', 'Wmiprvse.exe', 'WMI Provider Host'],
  ['C:\\Windows\\System32\\smartscreen.exe', 'C:\\Windows\\System32\\smartscreen.exe -Embedding', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p', 'smartscreen.exe', 'Windows Defender SmartScreen'],
  ['C:\\Windows\\System32\\dllhost.exe', 'C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p', 'dllhost.exe', 'COM Surrogate'],
  ['C:\\Windows\\servicing\\TrustedInstaller.exe', 'C:\\Windows\\servicing\\TrustedInstaller.exe', 'C:\\Windows\\System32\\services.exe', 'C:\\Windows\\system32\\services.exe', 'TrustedInstaller.exe', 'Windows Modules Installer'],
  ['C:\\Windows\\System32\\sppsvc.exe', 'C:\\Windows\\system32\\sppsvc.exe', 'C:\\Windows\\System32\\services.exe', 'C:\\Windows\\system32\\services.exe', 'sppsvc.exe', 'Microsoft Software Protection Platform Service'],
  ['C:\\Users\\carol.smith\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe', '"C:\\Users\\carol.smith\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background', 'C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE', 'OneDrive.exe', 'Microsoft OneDrive'],
  ['C:\\Windows\\System32\\notepad.exe', '"C:\\Windows\\system32\\NOTEPAD.EXE" C:\\Users\\dave\\Desktop\\shopping list.txt', 'C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE', 'NOTEPAD.EXE', 'Notepad'],
  ['C:\\Program Files\\nodejs\\node.exe', '"C:\\Program Files\\nodejs\\node.exe" C:\\srv\\api\\dist\\server.js --port 8080', 'C:\\Program Files\\nodejs\\node.exe', '"C:\\Program Files\\nodejs\\node.exe" C:\\srv\\api\\node_modules\\pm2\\bin\\pm2 start', 'node.exe', 'Node.js JavaScript Runtime'],
  ['C:\\Windows\\System32\\MusNotification.exe', 'C:\\Windows\\system32\\MusNotification.exe', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s UsoSvc', 'MusNotification.exe', 'MusNotification.exe'],
  ['C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe', '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MpCmdRun.exe" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule', 'MpCmdRun.exe', 'Microsoft Malware Protection Command Line Utility'],
  ['C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE', 'C:\\Windows\\System32\\userinit.exe', 'C:\\Windows\\system32\\userinit.exe', 'EXPLORER.EXE', 'Windows Explorer'],
];

/** Processes that talk to the network all day. */
const NETWORK_PROCESSES = PROCESSES.map((p) => p[0]).filter((i) => /chrome|msedge|svchost|OneDrive|OUTLOOK|Code\.exe|git\.exe|node\.exe|MpCmdRun/.test(i));
const DLLS = ['ntdll.dll', 'kernel32.dll', 'KernelBase.dll', 'user32.dll', 'gdi32.dll', 'advapi32.dll', 'sechost.dll', 'rpcrt4.dll', 'combase.dll', 'ole32.dll', 'oleaut32.dll', 'shell32.dll', 'ws2_32.dll', 'crypt32.dll', 'bcrypt.dll', 'msvcp_win.dll', 'ucrtbase.dll', 'winhttp.dll', 'dnsapi.dll', 'uxtheme.dll', 'dwmapi.dll', 'propsys.dll', 'windows.storage.dll', 'profapi.dll', 'cryptbase.dll', 'imm32.dll', 'version.dll', 'wintrust.dll', 'msasn1.dll', 'iphlpapi.dll'];
const FILES = [
  'C:\\Users\\alice\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_00a3b1',
  'C:\\Users\\bob\\AppData\\Local\\Temp\\vscode-typescript\\tscancellation-3b1f.tmp',
  'C:\\Windows\\SoftwareDistribution\\Download\\8f1c2a\\windows10.0-kb5044281-x64.cab',
  'C:\\Users\\carol.smith\\OneDrive - Corp\\Documents\\Budget 2026.xlsx',
  'C:\\Windows\\Prefetch\\SVCHOST.EXE-4F3C2A1B.pf',
  'C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\02\\log.tmp',
  'C:\\Users\\dave\\Downloads\\meeting-notes.pdf',
  'C:\\Windows\\Logs\\CBS\\CBS.log',
  'C:\\Users\\alice\\AppData\\Roaming\\Microsoft\\Teams\\Cache\\data_1',
  'C:\\srv\\api\\logs\\access-2026-11-22.log',
];
const REG_KEYS = [
  ['HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\LastOnlineScanTimeForAppCategory', 'DWORD (0x00000001)'],
  ['HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs\\.docx\\MRUListEx', 'Binary Data'],
  ['HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{3C1F7A2E-9B1D-4E5A-8C2F-1D2E3F4A5B6C}\\DhcpIPAddress', '10.20.4.117'],
  ['HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Microsoft\\Office\\16.0\\Common\\Roaming\\Identities\\LastSync', 'QWORD (0x01db3c2a-0x5f1e2d3c)'],
  ['HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\AVSignatureVersion', '1.421.1524.0'],
  ['HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Google\\Chrome\\BLBeacon\\version', '131.0.6778.86'],
  ['HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan\\Index', 'DWORD (0x00000003)'],
];
const DESTS: readonly (readonly [string, string, string])[] = [
  ['142.250.185.78', '443', 'fra16s48-in-f14.1e100.net'],
  ['13.107.42.14', '443', 'onedrive.live.com'],
  ['20.190.159.2', '443', 'login.microsoftonline.com'],
  ['10.20.0.10', '53', 'dc01.corp.example.com'],
  ['10.20.0.10', '389', 'dc01.corp.example.com'],
  ['10.20.0.11', '445', 'fs01.corp.example.com'],
  ['52.109.8.21', '443', 'officeclient.microsoft.com'],
  ['140.82.121.4', '443', 'github.com'],
];
const SCRIPTS = [
  'Get-ChildItem -Path C:\\srv\\api\\logs -Filter *.log | Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-14) } | Remove-Item',
  '$ErrorActionPreference = "Stop"\nImport-Module ActiveDirectory\nGet-ADUser -Filter {Enabled -eq $true} -Properties LastLogonDate | Select-Object Name, LastLogonDate | Export-Csv C:\\Reports\\users.csv -NoTypeInformation',
  'prompt',
  '{ Set-StrictMode -Version 1; $_.PSMessageDetails }',
  'Get-Service -Name Spooler, W32Time | Select-Object Name, Status',
  'param($Path) Test-Path -LiteralPath $Path',
  '$s = Get-Date; Invoke-Pester -Path .\\tests -Output Detailed; "Took $((Get-Date) - $s)"',
  'Get-WinEvent -LogName System -MaxEvents 50 | Format-Table TimeCreated, Id, LevelDisplayName, Message -AutoSize',
];

/** event_data fields for one benign event of this Channel/EventID. */
export function benignEventData(r: Rng, channel: 'sysmon' | 'security' | 'powershell', eventId: number, host: string): Record<string, string> {
  const p = pick(r, PROCESSES);
  const user = pick(r, USERS);
  const utc = '2026-11-22 03:' + String(Math.floor(r() * 60)).padStart(2, '0') + ':' + String(Math.floor(r() * 60)).padStart(2, '0') + '.' + String(Math.floor(r() * 1000)).padStart(3, '0');
  const proc = { RuleName: '-', UtcTime: utc, ProcessGuid: guid(r), ProcessId: pid(r), Image: p[0] };
  if (channel === 'sysmon') {
    switch (eventId) {
      case 1:
        return {
          ...proc, FileVersion: '10.0.22621.1 (WinBuild.160101.0800)', Description: p[5], Product: 'Microsoft® Windows® Operating System', Company: 'Microsoft Corporation',
          OriginalFileName: p[4], CommandLine: p[1], CurrentDirectory: 'C:\\Windows\\system32\\', User: user, LogonGuid: guid(r), LogonId: '0x' + hex(r, 6).toLowerCase(),
          TerminalSessionId: '1', IntegrityLevel: pick(r, ['Medium', 'High', 'System']), Hashes: `SHA1=${hex(r, 40)},MD5=${hex(r, 32)},SHA256=${hex(r, 64)},IMPHASH=${hex(r, 32)}`,
          ParentProcessGuid: guid(r), ParentProcessId: pid(r), ParentImage: p[2], ParentCommandLine: p[3], ParentUser: user,
        };
      case 3: {
        const d = pick(r, DESTS);
        const net = pick(r, NETWORK_PROCESSES);
        return {
          ...proc, Image: net, User: user, Protocol: 'tcp', Initiated: 'true', SourceIsIpv6: 'false', SourceIp: `10.20.${Math.floor(r() * 8)}.${2 + Math.floor(r() * 250)}`, SourceHostname: `${host}.corp.example.com`,
          SourcePort: String(49152 + Math.floor(r() * 16000)), SourcePortName: '-', DestinationIsIpv6: 'false', DestinationIp: d[0], DestinationHostname: d[2], DestinationPort: d[1], DestinationPortName: d[1] === '443' ? 'https' : '-',
        };
      }
      case 7: {
        const dll = pick(r, DLLS);
        return {
          ...proc, ImageLoaded: `C:\\Windows\\System32\\${dll}`, FileVersion: '10.0.22621.4391 (WinBuild.160101.0800)', Description: dll, Product: 'Microsoft® Windows® Operating System',
          Company: 'Microsoft Corporation', OriginalFileName: dll, Hashes: `SHA256=${hex(r, 64)}`, Signed: 'true', Signature: 'Microsoft Windows', SignatureStatus: 'Valid', User: user,
        };
      }
      case 10:
        return {
          RuleName: '-', UtcTime: utc, SourceProcessGUID: guid(r), SourceProcessId: pid(r), SourceThreadId: pid(r), SourceImage: pick(r, ['C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\System32\\wbem\\WmiPrvSE.exe', 'C:\\Program Files\\Windows Defender\\MsMpEng.exe']),
          TargetProcessGUID: guid(r), TargetProcessId: pid(r), TargetImage: p[0], GrantedAccess: pick(r, ['0x1000', '0x1400', '0x101000']),
          CallTrace: 'C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+2c13e|c:\\windows\\system32\\svchost.exe+4d81', SourceUser: 'NT AUTHORITY\\SYSTEM', TargetUser: user,
        };
      case 11:
        return { ...proc, TargetFilename: pick(r, FILES), CreationUtcTime: utc, User: user };
      case 12:
      case 13: {
        const [key, details] = pick(r, REG_KEYS) as [string, string];
        return eventId === 12
          ? { RuleName: '-', EventType: 'CreateKey', UtcTime: utc, ProcessGuid: proc.ProcessGuid, ProcessId: proc.ProcessId, Image: p[0], TargetObject: key.slice(0, key.lastIndexOf('\\')), User: user }
          : { RuleName: '-', EventType: 'SetValue', UtcTime: utc, ProcessGuid: proc.ProcessGuid, ProcessId: proc.ProcessId, Image: p[0], TargetObject: key, Details: details, User: user };
      }
    }
  }
  if (channel === 'powershell') {
    return { MessageNumber: '1', MessageTotal: '1', ScriptBlockText: pick(r, SCRIPTS), ScriptBlockId: guid(r).slice(1, -1).toLowerCase(), Path: pick(r, ['', 'C:\\Scripts\\cleanup-logs.ps1', 'C:\\Program Files\\WindowsPowerShell\\Modules\\Pester\\5.6.1\\Pester.psm1']) };
  }
  const subject = { SubjectUserSid: 'S-1-5-18', SubjectUserName: `${host.toUpperCase()}$`, SubjectDomainName: 'CORP', SubjectLogonId: '0x3e7' };
  const human = pick(r, HUMANS);
  if (eventId === 4688) {
    return {
      ...subject, NewProcessId: '0x' + hex(r, 4).toLowerCase(), NewProcessName: p[0], TokenElevationType: '%%1936', ProcessId: '0x' + hex(r, 4).toLowerCase(), CommandLine: p[1],
      TargetUserSid: 'S-1-0-0', TargetUserName: '-', TargetDomainName: '-', TargetLogonId: '0x0', ParentProcessName: p[2], MandatoryLabel: 'S-1-16-8192',
    };
  }
  const logon = {
    ...subject, TargetUserSid: 'S-1-5-21-3623811015-3361044348-30300820-' + (1000 + HUMANS.indexOf(human)), TargetUserName: human, TargetDomainName: 'CORP',
    LogonType: pick(r, ['2', '3', '3', '3', '5', '7', '10']), LogonProcessName: pick(r, ['User32 ', 'NtLmSsp ', 'Kerberos', 'Advapi  ']),
    AuthenticationPackageName: pick(r, ['Negotiate', 'NTLM', 'Kerberos']), WorkstationName: host.toUpperCase(), ProcessId: '0x2b4', ProcessName: 'C:\\Windows\\System32\\lsass.exe',
    IpAddress: `10.20.${Math.floor(r() * 8)}.${2 + Math.floor(r() * 250)}`, IpPort: String(49152 + Math.floor(r() * 16000)),
  };
  if (eventId === 4625) return { ...logon, Status: '0xc000006d', FailureReason: '%%2313', SubStatus: '0xc000006a', TransmittedServices: '-', LmPackageName: '-', KeyLength: '0' };
  return { ...logon, TargetLogonId: '0x' + hex(r, 6).toLowerCase(), LogonGuid: guid(r), TransmittedServices: '-', LmPackageName: '-', KeyLength: '0', ImpersonationLevel: '%%1833', ElevatedToken: '%%1843', TargetLinkedLogonId: '0x0' };
}

/** Typical share of each event kind on a Windows estate with Sysmon (weights, normalised by the caller). */
export const BENIGN_MIX: readonly { channel: 'sysmon' | 'security' | 'powershell'; eventId: number; weight: number }[] = [
  { channel: 'sysmon', eventId: 1, weight: 14 },
  { channel: 'sysmon', eventId: 3, weight: 16 },
  { channel: 'sysmon', eventId: 7, weight: 22 },
  { channel: 'sysmon', eventId: 10, weight: 6 },
  { channel: 'sysmon', eventId: 11, weight: 10 },
  { channel: 'sysmon', eventId: 12, weight: 4 },
  { channel: 'sysmon', eventId: 13, weight: 10 },
  { channel: 'security', eventId: 4624, weight: 8 },
  { channel: 'security', eventId: 4625, weight: 1 },
  { channel: 'security', eventId: 4688, weight: 5 },
  { channel: 'powershell', eventId: 4104, weight: 4 },
];
