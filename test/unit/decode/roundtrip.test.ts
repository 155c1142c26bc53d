/**
 * The hand-written protobuf walker and the OTLP/JSON decoder must agree: corpus requests decoded from
 * their JSON form and from the protobuf that protobufjs reflection encodes from it give the same records.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeExport } from '../../../src/decode/export-request.ts';
import { decodeJsonRequest } from '../../../src/decode/otlp-json.ts';
import { decodeProtobufRequest } from '../../../src/decode/otlp-protobuf.ts';
import { otlpJsonToProtobuf } from '../../helpers/otlp-proto.ts';

const regression = path.resolve(import.meta.dirname, '../../../../shared/sigma/regression');
const present = existsSync(path.join(regression, 'manifest.json'));

interface Case { rule_id: string; otlp: Record<string, string> }

const cases: Case[] = present
  ? (JSON.parse(readFileSync(path.join(regression, 'manifest.json'), 'utf8')) as { cases: Case[] }).cases
  : [];
// A spread of cases (first, middle, last) keeps the test fast while touching different event types.
const picked = cases.length === 0 ? [] : [cases[0]!, cases[Math.floor(cases.length / 2)]!, cases[cases.length - 1]!];

void describe(present ? 'protobuf vs JSON decode on regression corpus requests' : 'protobuf vs JSON decode (skipped: ../shared/sigma/regression absent)', () => {
  for (const c of picked) {
    for (const shape of ['signoz', 'map', 'raw'] as const) {
      const rel = c.otlp[shape];
      if (rel === undefined) continue;
      void test(`${c.rule_id} ${shape}`, () => {
        const lines = readFileSync(path.join(regression, rel), 'utf8').split('\n').filter((l) => l.trim() !== '');
        assert.ok(lines.length > 0);
        let records = 0;
        for (const line of lines.slice(0, 3)) {
          const fromJson = decodeJsonRequest(line);
          const pb = otlpJsonToProtobuf(JSON.parse(line));
          const fromPb = decodeProtobufRequest(pb);
          assert.deepEqual(fromPb, fromJson);
          // Through the stage entry, gzip-compressed as HTTP senders deliver it.
          assert.deepEqual(decodeExport({ body: gzipSync(pb), format: 'protobuf', encoding: 'gzip' }, 1 << 26), fromJson);
          records += fromJson.records.length;
        }
        assert.ok(records > 0, 'the corpus request has records');
      });
    }
  }
});

void describe('field coverage, both encodings', () => {
  const doc = {
    resourceLogs: [{
      resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h1' } }] },
      scopeLogs: [{
        scope: { name: 'sc', version: '9' },
        logRecords: [{
          timeUnixNano: '1700000000123456789',
          observedTimeUnixNano: '1700000000223456789',
          severityNumber: 17,
          severityText: 'ERROR',
          body: { kvlistValue: { values: [
            { key: 's', value: { stringValue: 'str' } },
            { key: 'b', value: { boolValue: true } },
            { key: 'i', value: { intValue: '-42' } },
            { key: 'd', value: { doubleValue: 1.5 } },
            { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '7' }] } } },
            { key: 'y', value: { bytesValue: 'AQL/' } },
            { key: 'e', value: {} },
          ] } },
          attributes: [{ key: 'k', value: { stringValue: 'v' } }],
          traceId: '0102030405060708090a0b0c0d0e0f10',
          spanId: 'a1a2a3a4a5a6a7a8',
          flags: 1,
          eventName: 'ev',
        }],
      }],
    }],
  };
  void test('every LogRecord field decodes the same from JSON and protobuf', () => {
    const j = decodeJsonRequest(JSON.stringify(doc));
    const p = decodeProtobufRequest(otlpJsonToProtobuf(doc));
    assert.deepEqual(p, j);
    const r = j.records[0]!;
    assert.deepEqual(
      { ...r, resource: r.resource.attributes, scope: r.scope },
      {
        timeUnixNano: '1700000000123456789', observedTimeUnixNano: '1700000000223456789', severityNumber: 17, severityText: 'ERROR',
        body: { s: 'str', b: true, i: -42, d: 1.5, a: ['x', 7], y: '0102ff', e: null },
        attributes: { k: 'v' }, traceId: '0102030405060708090a0b0c0d0e0f10', spanId: 'a1a2a3a4a5a6a7a8', flags: 1, eventName: 'ev',
        resource: { 'host.name': 'h1' }, scope: { name: 'sc', version: '9' },
      },
    );
  });
  void test('records of one scope share their resource and scope objects', () => {
    const two = structuredClone(doc);
    const lrs = two.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    lrs.push(structuredClone(lrs[0]!));
    for (const r of [decodeProtobufRequest(otlpJsonToProtobuf(two)), decodeJsonRequest(JSON.stringify(two))]) {
      assert.equal(r.records.length, 2);
      assert.equal(r.records[0]!.resource, r.records[1]!.resource);
      assert.equal(r.records[0]!.scope, r.records[1]!.scope);
    }
  });
  void test('snake_case JSON keys are accepted', () => {
    const snake = JSON.stringify(doc)
      .replace(/"resourceLogs"/g, '"resource_logs"').replace(/"scopeLogs"/g, '"scope_logs"').replace(/"logRecords"/g, '"log_records"')
      .replace(/"timeUnixNano"/g, '"time_unix_nano"').replace(/"stringValue"/g, '"string_value"').replace(/"kvlistValue"/g, '"kvlist_value"');
    assert.deepEqual(decodeJsonRequest(snake), decodeJsonRequest(JSON.stringify(doc)));
  });
  void test('empty request and empty containers decode to no records', () => {
    assert.deepEqual(decodeProtobufRequest(new Uint8Array(0)), { records: [] });
    assert.deepEqual(decodeJsonRequest('{}'), { records: [] });
    assert.deepEqual(decodeJsonRequest('{"resourceLogs":[{"scopeLogs":[{}]}]}'), { records: [] });
  });
});
