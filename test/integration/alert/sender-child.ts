/**
 * Child process for the SIGKILL test: queues alerts on disk while Keep is down, says "queued"
 * once the first delivery attempt has failed (so every alert is on disk), then waits to be killed.
 * Usage: node sender-child.ts <keepUrl> <apiKey> <queueDir> <count>
 */
import { AlertSender } from '../../../src/alert/keep-sender.ts';
import { silentLogger } from '../../../src/telemetry/logger.ts';
import { makeDetection } from '../../unit/alert/detection-fixture.ts';

const [keepUrl, apiKey, queueDir, count] = process.argv.slice(2);
const s = new AlertSender({ keepUrl, apiKey, queueDir, minLevel: 'low', maxQueue: 1000, timeoutMs: 1000, logger: silentLogger, retry: { baseMs: 20, maxMs: 100 } });
for (let i = 0; i < Number(count); i++) s.send(makeDetection({ host: `K${String(i).padStart(3, '0')}` }));
const poll = setInterval(() => {
  if (s.stats().retries < 1) return;
  clearInterval(poll);
  process.stdout.write('queued\n');
}, 5);
setInterval(() => undefined, 60_000); // stay alive until SIGKILL
