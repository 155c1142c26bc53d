/**
 * `GET /api/v1/coverage` on the HTTP listener: what the loaded rules can see. `format=json` (default) is
 * the coverage report (per logsource: rules, state, events counted, first/last seen; what cannot fire; the
 * ATT&CK techniques), `text` the table `otel-sigma rules coverage` prints, `layer` an ATT&CK Navigator
 * layer, `svg` the heatmap. Behind the listener's token and TLS like /metrics (an extra route of
 * http-server.ts).
 */
import type { ServerResponse } from 'node:http';
import { coverageSvg } from '../detect/rule-coverage/heatmap.ts';
import { navigatorLayer } from '../detect/rule-coverage/navigator.ts';
import type { CoverageReport } from '../detect/rule-coverage/report.ts';
import { coverageText } from '../detect/rule-coverage/text.ts';
import type { RouteHandler } from './http-server.ts';

export const COVERAGE_PATH = '/api/v1/coverage';

const FORMATS = {
  json: { type: 'application/json; charset=utf-8', render: (r: CoverageReport) => `${JSON.stringify(r)}\n` },
  text: { type: 'text/plain; charset=utf-8', render: coverageText },
  layer: { type: 'application/json; charset=utf-8', render: (r: CoverageReport) => `${JSON.stringify(navigatorLayer(r), null, 1)}\n` },
  svg: { type: 'image/svg+xml; charset=utf-8', render: (r: CoverageReport) => coverageSvg(r) },
} as const;
type Format = keyof typeof FORMATS;

export function createCoverageRoute(report: () => CoverageReport): RouteHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed; use GET\n', { allow: 'GET, HEAD' });
      return;
    }
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const unknown = [...params.keys()].filter((k) => k !== 'format');
    const format = params.get('format') ?? 'json';
    if (unknown.length > 0) {
      send(res, 400, 'text/plain; charset=utf-8', `unknown parameter ${unknown.join(', ')}; expected format=${Object.keys(FORMATS).join('|')}\n`);
      return;
    }
    if (!(format in FORMATS)) {
      send(res, 400, 'text/plain; charset=utf-8', `format: got "${format}"; expected ${Object.keys(FORMATS).join(', ')}\n`);
      return;
    }
    const f = FORMATS[format as Format];
    const body = f.render(report());
    send(res, 200, f.type, body, format === 'layer' ? { 'content-disposition': 'inline; filename="otel-sigma-coverage-layer.json"' } : {}, req.method === 'HEAD');
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}, head = false): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : body);
}
