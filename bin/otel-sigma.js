#!/usr/bin/env node
// Entry point for `npx otel-sigma`. The sources are TypeScript run by Node's built-in type stripping
// (Node >= 22.18), so there is no build step between `npm ci` and a running service.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(`otel-sigma needs Node.js >= 22.18 (found ${process.versions.node}). Run it through npm (npx otel-sigma / npm start), which uses the Node 24 installed by npm ci.`);
  process.exit(1);
}
await import('../src/cli/main.ts');
