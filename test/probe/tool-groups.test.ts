/**
 * tool_groups against a real SDK server standing in for a gateway (its tool list changes as a
 * backend comes and goes, and one backend's tool keeps being listed but fails): each group is
 * counted and judged on its own, and the gateway's probe stays green.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { probe } from '../../src/probe/prober.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { renderRegistry } from '../../src/metrics/exposition.js';
import { globRegExp } from '../../src/config/glob.js';
import type { ProbeMemory } from '../../src/probe/types.js';
import { startNamedServer } from '../fixtures/named-server.js';
import { targetOf } from '../fixtures/targets.js';
import { parsePromText, valueOf } from '../fixtures/prom-text.js';

test('globRegExp: * and ? over whole names, everything else literal', () => {
  assert.ok(globRegExp('github__*').test('github__search'));
  assert.ok(globRegExp('github__*').test('github__'));
  assert.ok(!globRegExp('github__*').test('xgithub__search'));
  assert.ok(globRegExp('jira_?').test('jira_a') && !globRegExp('jira_?').test('jira_ab'));
  assert.ok(!globRegExp('a.b').test('axb'), 'a dot is literal');
  assert.ok(globRegExp('(x)+[y]').test('(x)+[y]'), 'regex characters are literal');
});

test(
  'a backend whose tools vanish, and one whose tools fail, are each their own group',
  { timeout: 30_000 },
  async () => {
    let tools = ['github__search', 'github__issue', 'jira__search', 'jira__create'];
    const gateway = await startNamedServer({ name: 'gateway', tools: () => tools, failingTool: 'slack__post' });
    try {
      const target = targetOf({
        name: 'hub',
        url: gateway.url,
        timeout: '5s',
        tool_groups: {
          github: 'github__*',
          jira: { match: 'jira__*', min: 2 },
          slack: { match: 'slack__*', canary: { tool: 'slack__post' } },
        },
      });
      const registry = new Registry();
      const recorder = new Recorder(registry);
      recorder.addTarget(target);
      const memory: ProbeMemory = {};
      const round = async () => {
        const r = await probe(target, { memory });
        recorder.recordProbe(r, false);
        const s = parsePromText(await renderRegistry(registry, false));
        const of = (name: string, group: string) => valueOf(s, name, { target: 'hub', group });
        return {
          success: r.success,
          up: ['github', 'jira', 'slack'].map((g) => of('mcp_probe_tool_group_up', g)),
          tools: ['github', 'jira', 'slack'].map((g) => of('mcp_server_tool_group_tools', g)),
          min: of('mcp_server_tool_group_min', 'jira'),
        };
      };
      const first = await round();
      assert.equal(first.success, true, 'a group canary never fails the gateway probe');
      assert.deepEqual(first.tools, [2, 2, 1]);
      assert.deepEqual(first.up, [1, 1, 0], 'slack is listed but its canary fails: down');
      assert.equal(first.min, 2);

      tools = ['github__search', 'github__issue', 'jira__search']; // a jira tool vanished: under min
      const second = await round();
      assert.equal(second.success, true);
      assert.deepEqual(second.tools, [2, 1, 1]);
      assert.deepEqual(second.up, [1, 0, 0]);

      tools = ['jira__search', 'jira__create']; // github gone entirely, jira back
      const third = await round();
      assert.deepEqual(third.tools, [0, 2, 1]);
      assert.deepEqual(third.up, [0, 1, 0]);

      // A reload without the slack group removes its series.
      recorder.addTarget(targetOf({ name: 'hub', url: gateway.url, tool_groups: { github: 'github__*' } }));
      const s = parsePromText(await renderRegistry(registry, false));
      assert.equal(valueOf(s, 'mcp_probe_tool_group_up', { target: 'hub', group: 'slack' }), undefined);
      assert.equal(valueOf(s, 'mcp_server_tool_group_min', { target: 'hub', group: 'jira' }), undefined);
    } finally {
      await gateway.close();
    }
  },
);
