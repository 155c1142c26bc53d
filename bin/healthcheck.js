#!/usr/bin/env node
// Container HEALTHCHECK: exit 0 when otel-sigma's /healthz answers 200 on this host, 1 otherwise. The
// listener speaks HTTPS when TLS is configured (by file, environment or flag) and plain HTTP otherwise,
// which the probe cannot know, so it tries HTTPS and then HTTP. /healthz needs no token; the certificate
// is not checked: this is the process probing itself on loopback, not a client trusting a server.
import http from 'node:http';
import https from 'node:https';

const listen = process.env.OTEL_SIGMA_HTTP_LISTEN || '127.0.0.1:4320';
const port = Number(listen.slice(listen.lastIndexOf(':') + 1));
/** @param {boolean} tls */
const probe = (tls) => new Promise((resolve) => {
  const req = (tls ? https : http).get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000, rejectUnauthorized: false }, (res) => {
    res.resume();
    resolve(res.statusCode === 200);
  });
  req.on('timeout', () => req.destroy());
  req.on('error', () => resolve(false));
});
process.exit((await probe(true)) || (await probe(false)) ? 0 : 1);
