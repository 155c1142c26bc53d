import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyValue, LogRecordView } from '../../../../src/decode/types.ts';
import { mapGenericRecord, MAX_JSON_BODY_CHARS } from '../../../../src/map/generic/generic-event.ts';
import { MAX_FLATTEN_DEPTH, MAX_FLATTEN_KEYS } from '../../../../src/map/generic/flatten.ts';

function record(body: AnyValue, attributes: Record<string, AnyValue> = {}, resource: Record<string, AnyValue> = {}): LogRecordView {
  return {
    timeUnixNano: '0',
    observedTimeUnixNano: '0',
    severityNumber: 0,
    severityText: '',
    body,
    attributes,
    traceId: '',
    spanId: '',
    flags: 0,
    eventName: '',
    resource: { attributes: resource },
    scope: { name: '', version: '' },
  };
}

const cloudtrail = {
  eventVersion: '1.09',
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateAccessKey',
  eventType: 'AwsApiCall',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', sessionContext: { sessionIssuer: { type: 'Role' } } },
  requestParameters: {
    userName: 'bob',
    containerDefinitions: [
      { name: 'a', command: ['sh', '-c', 'curl $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] },
      { name: 'b', command: ['true'] },
    ],
    layers: ['arn:1', 'arn:2'],
  },
  responseElements: null,
};

describe('generic mapping', () => {
  test('a map body is flattened into dotted names; arrays of objects gather their leaves', () => {
    const e = mapGenericRecord(record(cloudtrail));
    assert.equal(e.meta.source, 'generic');
    assert.equal(e.fields['eventSource'], 'iam.amazonaws.com');
    assert.equal(e.fields['userIdentity.type'], 'IAMUser');
    assert.equal(e.fields['userIdentity.sessionContext.sessionIssuer.type'], 'Role');
    assert.equal(e.fields['requestParameters.userName'], 'bob');
    assert.deepEqual(e.fields['requestParameters.layers'], ['arn:1', 'arn:2']);
    assert.deepEqual(e.fields['requestParameters.containerDefinitions.command'], ['sh', '-c', 'curl $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'true']);
    assert.deepEqual(e.fields['requestParameters.containerDefinitions.name'], ['a', 'b']);
    assert.equal(e.fields['responseElements'], null);
    assert.equal(e.fields['message'], undefined);
  });

  test('a JSON-object string body (SigNoz storage, JSON lines) is flattened like a map body', () => {
    const fromString = mapGenericRecord(record(`  ${JSON.stringify(cloudtrail)}\n`));
    const fromMap = mapGenericRecord(record(cloudtrail));
    assert.deepEqual({ ...fromString.fields }, { ...fromMap.fields });
  });

  test('other string bodies become `message`; the body map`s own message stays `message`', () => {
    assert.equal(mapGenericRecord(record('GET /index.php?cmd=whoami HTTP/1.1')).fields['message'], 'GET /index.php?cmd=whoami HTTP/1.1');
    assert.equal(mapGenericRecord(record('{not json')).fields['message'], '{not json');
    assert.equal(mapGenericRecord(record('[1,2]')).fields['message'], '[1,2]');
    assert.equal(mapGenericRecord(record({ message: 'hello', level: 'info' })).fields['message'], 'hello');
    assert.equal(mapGenericRecord(record(42)).fields['message'], 42);
    const huge = `{"a":"${'x'.repeat(MAX_JSON_BODY_CHARS)}"}`;
    assert.equal(mapGenericRecord(record(huge)).fields['message'], huge); // too big to parse per record
  });

  test('attributes and resource attributes are added without clobbering body fields; host from host.name', () => {
    const e = mapGenericRecord(record({ eventName: 'body', http: { method: 'GET' } }, { eventName: 'attr', 'log.file.name': 'access.log' }, { 'host.name': 'web01', 'service.name': 'nginx' }));
    assert.equal(e.fields['eventName'], 'body');
    assert.equal(e.fields['http.method'], 'GET');
    assert.equal(e.fields['log.file.name'], 'access.log');
    assert.equal(e.fields['service.name'], 'nginx');
    assert.equal(e.meta.host, 'web01');
    assert.equal(mapGenericRecord(record('x')).meta.host, '');
  });

  test('event-supplied names like __proto__ and constructor are plain fields', () => {
    const e = mapGenericRecord(record('{"__proto__":{"polluted":1},"constructor":"c"}'));
    assert.equal(e.fields['__proto__.polluted'], 1);
    assert.equal(e.fields['constructor'], 'c');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(mapGenericRecord(record('x')).fields['constructor'], undefined);
  });

  test('hostile bodies are bounded: depth and key count', () => {
    let deep: AnyValue = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const e1 = mapGenericRecord(record(deep));
    assert.equal(Object.keys(e1.fields).length, 0); // deeper than MAX_FLATTEN_DEPTH: dropped
    let shallow: AnyValue = 'leaf';
    for (let i = 0; i < MAX_FLATTEN_DEPTH - 1; i++) shallow = { d: shallow };
    assert.equal(mapGenericRecord(record(shallow)).fields[Array(MAX_FLATTEN_DEPTH - 1).fill('d').join('.')], 'leaf');

    const wide: Record<string, AnyValue> = {};
    for (let i = 0; i < 50_000; i++) wide[`k${i}`] = i;
    const t0 = performance.now();
    const e2 = mapGenericRecord(record(wide, { a: 1 }));
    assert.equal(Object.keys(e2.fields).length, MAX_FLATTEN_KEYS);
    assert.ok(performance.now() - t0 < 500);

    const deepJson = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    assert.doesNotThrow(() => mapGenericRecord(record(deepJson)));
  });
});
