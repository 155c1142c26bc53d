/**
 * A realistic Detection (SigmaHQ "Suspicious Execution of Powershell with Base64", a Sysmon
 * process_creation event) for alert tests; `overrides` vary one field at a time.
 */
import type { DetectedEvent, Detection } from '../../../src/detect/detection.ts';

export const EVENT_MS = Date.UTC(2026, 7, 20, 10, 15, 30, 123);
export const DETECTED_MS = EVENT_MS + 2_500;

export function makeDetection(over: Partial<Omit<Detection, 'event'>> & { event?: Partial<DetectedEvent> } = {}): Detection {
  const { event, ...overrides } = over;
  const fields = {
    EventID: 1,
    Image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    CommandLine: 'powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA',
    User: 'CORP\\alice',
    ParentImage: 'C:\\Windows\\explorer.exe',
    Computer: 'WS01.corp.local',
  };
  return {
    eventTimeNs: `${BigInt(EVENT_MS) * 1_000_000n + 456_789n}`,
    detectedAtMs: DETECTED_MS,
    ruleId: 'fb843269-508c-4b76-8b8d-88679db22ce7',
    ruleTitle: 'Suspicious Execution of Powershell with Base64',
    ruleLevel: 'medium',
    ruleStatus: 'test',
    ruleTags: ['attack.execution', 'attack.t1059.001'],
    ruleDescription: 'Commandline to launch powershell with a base64 payload',
    ruleReferences: ['https://unit42.paloaltonetworks.com/unit42-pulling-back-the-curtains-on-encodedcommand-powershell-attacks/'],
    ruleFalsePositives: ['Unknown'],
    ruleAuthor: 'frack113',
    product: 'windows',
    category: 'process_creation',
    service: '',
    host: 'WS01.corp.local',
    matched: { Image: fields.Image, CommandLine: fields.CommandLine },
    event: {
      id: 'ev-0001',
      timeNs: `${BigInt(EVENT_MS) * 1_000_000n + 456_789n}`,
      host: 'WS01.corp.local',
      sigmaEvent: JSON.stringify({ fields, meta: { source: 'windows', product: 'windows', service: 'sysmon', host: 'WS01.corp.local' } }),
      body: '{}',
      logAttributes: {},
      resourceAttributes: { 'host.name': 'WS01.corp.local' },
      severityText: 'INFO',
      severityNumber: 9,
      traceId: '',
      spanId: '',
      ...event,
    },
    fingerprint: 'rec-0001',
    source: 'stream',
    ...overrides,
  };
}
