/** Child process: stores the regression corpus in SigNoz's logs_v2 inside the embedded ClickHouse at argv[2]. */
import { openClickHouse } from '../../../src/store/client.ts';
import { corpusRows } from './setup.ts';
import { createLogsTable, insertRows } from './signoz-table.ts';

const ch = openClickHouse({ dataDir: process.argv[2]! });
await createLogsTable(ch.client);
const rows = corpusRows();
await insertRows(ch.client, rows.map((r) => r.row));
await ch.close();
process.stdout.write(`${rows.length}\n`);
