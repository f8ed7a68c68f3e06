/** src/net/content-type.ts: media types parsed, not matched with includes('json'). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isEventStream, isJsonType, mediaType } from '../../src/net/content-type.js';

test('mediaType drops parameters and case', () => {
  assert.equal(mediaType('Application/JSON; charset=utf-8'), 'application/json');
  assert.equal(mediaType('  text/event-stream  '), 'text/event-stream');
  assert.equal(mediaType(undefined), '');
  assert.equal(mediaType(''), '');
});

test('isJsonType: application/json and +json types only', () => {
  for (const t of ['application/json', 'APPLICATION/JSON;charset=UTF-8', 'application/problem+json'])
    assert.equal(isJsonType(t), true, t);
  for (const t of ['application/jsonl', 'text/json-ish', 'text/plain; note=json', 'application/x-ndjson', undefined])
    assert.equal(isJsonType(t), false, String(t));
});

test('isEventStream: text/event-stream with any parameters or case', () => {
  assert.equal(isEventStream('Text/Event-Stream; charset=utf-8'), true);
  assert.equal(isEventStream('text/event-streamx'), false);
  assert.equal(isEventStream('application/json'), false);
});
