/**
 * Mapper throughput for Sysmon EID 1 (a real corpus event) in each windowseventlog shape, plus a
 * generic JSON body. Not a test: run `node test/unit/map/bench-map-throughput.ts`.
 */
import type { LogRecordView } from '../../../src/decode/types.ts';
import { createRecordMapper } from '../../../src/map/map-records.ts';
import { loadManifest, caseRecords, hasCorpus, SHAPES } from '../../helpers/corpus.ts';
import { loadLogsourceMapping } from '../../../src/map/logsource-mapping.ts';

if (!hasCorpus) {
  console.log('../shared/sigma/regression is absent: nothing to measure');
  process.exit(0);
}
const c = loadManifest().find((x) => x.case_dir.includes('/process_creation/'))!;
const mapper = createRecordMapper({ mapping: loadLogsourceMapping() });

function measure(label: string, r: LogRecordView): void {
  const batch = Array.from({ length: 1000 }, () => r);
  for (let i = 0; i < 100; i++) mapper.map(batch); // warm-up
  const rates: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (let i = 0; i < 200; i++) n += mapper.map(batch).length;
    rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  console.log(`${label.padEnd(28)} median ${Math.round(rates[2]!).toLocaleString('en')} records/s (best ${Math.round(rates[4]!).toLocaleString('en')})`);
}

for (const shape of SHAPES) measure(`Sysmon EID 1, ${shape}`, caseRecords(c, shape)[0]!);
const cloudtrail = JSON.stringify({ eventVersion: '1.09', eventSource: 'iam.amazonaws.com', eventName: 'CreateAccessKey', eventType: 'AwsApiCall', userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::1:user/a' }, requestParameters: { userName: 'b' } });
measure('generic, JSON string body', { ...caseRecords(c, 'map')[0]!, body: cloudtrail });
