/**
 * The prober over stdio: server-everything as a child process, and children that fail in the
 * ways real ones do (missing binary, silent, exits at once, writes garbage). After all of them,
 * no child process of this test process may remain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVERYTHING, EVERYTHING_ENTRY } from '../fixtures/everything.js';
import { target } from '../fixtures/targets.js';
import {
  assertFailure,
  assertSuccess,
  childProcesses,
  eventually,
  explain,
  timedProbe,
} from '../fixtures/probe-helpers.js';
import type { FailureReason } from '../../src/probe/types.js';

const node = JSON.stringify(process.execPath);

test('server-everything over stdio', async () => {
  const t = target(
    `name: everything-stdio\ntransport: stdio\ncommand: ${node}\nargs: [${JSON.stringify(EVERYTHING_ENTRY)}]\ntimeout: 20s`,
  );
  const { result } = await timedProbe(t);
  assertSuccess(result);
  assert.deepEqual(
    {
      name: result.server?.name,
      version: result.server?.version,
      protocol: result.server?.protocolVersion,
      transport: result.server?.transport,
    },
    { name: EVERYTHING.name, version: EVERYTHING.version, protocol: EVERYTHING.protocolVersion, transport: 'stdio' },
  );
  assert.equal(result.tools?.length, EVERYTHING.tools, explain(result));
  assert.equal(result.httpStatus, 0, 'no HTTP status over stdio');
  assert.equal(result.phases.connect, undefined, 'no TCP phases over stdio');
});

test('stdio with a command given and no transport key is inferred as stdio', () => {
  const t = target(`name: inferred\ncommand: ${node}`);
  assert.equal(t.transport, 'stdio');
});

test('stdio failures end on time with the right reason', async () => {
  const cases: Array<[string, string, FailureReason]> = [
    ['missing-binary', `command: /nonexistent/mcp-server-binary`, 'connect'],
    ['exits-at-once', `command: ${node}\nargs: ["-e", "process.exit(3)"]`, 'connect'],
    ['silent', `command: ${node}\nargs: ["-e", "setInterval(() => {}, 1000)"]`, 'timeout'],
    [
      'garbage',
      `command: ${node}\nargs: ["-e", "setInterval(() => process.stdout.write('this is not json-rpc\\\\n'), 50)"]`,
      'invalid_response',
    ],
    [
      'ignores-sigterm',
      `command: ${node}\nargs: ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"]`,
      'timeout',
    ],
  ];
  const results = await Promise.all(
    cases.map(async ([name, body, reason]) => {
      const t = target(`name: ${name}\ntransport: stdio\n${body}\ntimeout: 3s`);
      return { name, t, reason, r: await timedProbe(t) };
    }),
  );
  for (const { name, t, reason, r } of results) {
    assert.equal(r.result.reason, reason, `${name}: ${explain(r.result)}`);
    assertFailure(r, t, reason);
  }
});

test('no child process is left behind by any stdio probe, nor started after it ended', async () => {
  // Runs after the probes above (tests in a file run in order). The SDK reaps its negotiation
  // sibling with SIGTERM, then SIGKILL after 1 s: allow that, then watch long enough to see a
  // child spawned by a handshake that kept going after probe() resolved.
  const gone = await eventually(() => childProcesses().length === 0, 2000);
  assert.ok(gone, `children still running after the probes ended:\n${childProcesses().join('\n')}`);
  const late: string[] = [];
  const until = Date.now() + 4000;
  while (Date.now() < until) {
    late.push(...childProcesses());
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual([...new Set(late)], [], 'a child process was started after its probe had ended');
});
