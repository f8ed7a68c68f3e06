/**
 * The status page end to end: a real sidecar (in-process) probes real MCP servers on 127.0.0.1
 * (the built-in demo, a closed port, a server whose name is a <script> tag and whose tool list
 * changes, a canary whose tool errors); headless Chromium opens `/` and the page must show the
 * right states and reasons, show the hostile name as text and run no script. A screenshot goes
 * to test-output/status-page.png for a person to look at.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startSidecar, type Sidecar } from '../../src/sidecar.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { parseConfig, formatIssues } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import type { TargetStatus } from '../../src/server/status-page.js';
import { refusedPort } from '../fixtures/net.js';
import { startNamedServer } from '../fixtures/named-server.js';

const HOSTILE = '<script>window.__pwned=1</script>';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

async function targets(base: string): Promise<TargetStatus[]> {
  const res = await fetch(`${base}/api/v1/targets`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return ((await res.json()) as { targets: TargetStatus[] }).targets;
}

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > until)
      assert.fail(`timed out after ${ms}ms waiting for ${what}: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(
  'status page renders targets, reasons and hostile names safely in headless Chromium',
  { timeout: 60_000 },
  async (t) => {
    const demo = await startDemoServer(0);
    t.after(() => demo.close());
    let toolSet = ['search', 'fetch'];
    const hostile = await startNamedServer({ name: HOSTILE, version: '6.6.6', tools: () => toolSet });
    t.after(() => hostile.close());
    const canary = await startNamedServer({
      name: 'billing-mcp',
      version: '2.3.0',
      tools: () => ['lookup_invoice'],
      failingTool: 'charge',
    });
    t.after(() => canary.close());
    const closed = await refusedPort();

    const yaml = `defaults:
  interval: 1s
  timeout: 800ms
targets:
  - name: demo
    url: ${demo.url}
    canaries:
      - { tool: echo, arguments: { message: hi } }
      - { tool: no-such-tool }
  - name: docs-search
    url: ${hostile.url}
  - name: billing
    url: ${canary.url}
    canary:
      tool: charge
  - name: payments-legacy
    url: http://127.0.0.1:${closed}/mcp
`;
    const { config, issues } = parseConfig(yaml, {}, 'status-page.test');
    assert.ok(config, formatIssues(issues));
    const sidecar: Sidecar = await startSidecar({
      config,
      env: {},
      logger: silentLogger,
      listen: { host: '127.0.0.1', port: 0 },
      enableLifecycle: false,
      processMetrics: false,
    });
    t.after(() => sidecar.close());
    const base = `http://127.0.0.1:${sidecar.address.port}`;

    // A few probes each, then change the hostile server's tool list so a change is recorded.
    await waitFor(
      '3 probes of every target',
      () => targets(base),
      (ts) => ts.every((x) => x.history.length >= 3),
      15_000,
    );
    toolSet = ['search', 'fetch', 'summarize'];
    const ts = await waitFor(
      'a tool-list change on docs-search and 8 probes each',
      () => targets(base),
      (all) =>
        all.every((x) => x.history.length >= 8) &&
        (all.find((x) => x.name === 'docs-search')?.toolListChanges.length ?? 0) > 0,
      20_000,
    );

    // The JSON twin.
    const byName = new Map(ts.map((x) => [x.name, x]));
    assert.deepEqual(
      ts.map((x) => x.name),
      ['demo', 'docs-search', 'billing', 'payments-legacy'],
      'config order',
    );
    assert.equal(byName.get('demo')?.state, 'up');
    assert.equal(byName.get('demo')?.server?.name, 'mcpwatch-demo');
    assert.equal(byName.get('demo')?.tools, 3);
    assert.deepEqual(
      byName.get('demo')?.canaries?.map((c) => [c.tool, c.ok]),
      [
        ['echo', true],
        ['no-such-tool', false],
      ],
      'each canary of canaries: is a row of its own; the failing one leaves the target up',
    );
    assert.equal(byName.get('docs-search')?.state, 'up');
    assert.equal(
      byName.get('docs-search')?.server?.name,
      HOSTILE,
      "JSON carries the raw name; escaping is the page's job",
    );
    assert.deepEqual(byName.get('docs-search')?.toolListChanges[0]?.added, ['summarize']);
    assert.equal(byName.get('billing')?.state, 'down');
    assert.equal(byName.get('billing')?.reason, 'assertion');
    assert.equal(byName.get('payments-legacy')?.state, 'down');
    assert.equal(byName.get('payments-legacy')?.reason, 'connect');
    assert.ok((byName.get('payments-legacy')?.recentFailures.length ?? 0) > 0);
    assert.equal(byName.get('payments-legacy')?.endpoint, `http://127.0.0.1:${closed}/mcp`);

    // The page, raw: the hostile name is escaped in the HTML itself.
    const html = await (await fetch(`${base}/`)).text();
    assert.ok(!html.includes(HOSTILE), 'raw <script> name must not appear in the HTML');
    assert.ok(html.includes('&lt;script&gt;window.__pwned=1&lt;/script&gt;'));
    assert.match(html, /<tr class="bad" data-tool="no-such-tool">/, 'the failing tool is a red row');
    assert.match(html, /<tr class="ok" data-tool="echo">/);

    // The page, rendered.
    const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert.equal(response?.status(), 200);

    const states = await page.$$eval('section.card', (els) =>
      els.map((e) => [e.getAttribute('data-target'), e.getAttribute('data-state')]),
    );
    assert.deepEqual(
      states,
      [
        ['billing', 'down'],
        ['payments-legacy', 'down'],
        ['demo', 'up'],
        ['docs-search', 'up'],
      ],
      'down targets first, then up, each group in config order',
    );
    assert.equal(await page.textContent('section[data-target="payments-legacy"] .badge'), 'DOWN');
    assert.equal(await page.textContent('section[data-target="demo"] .badge'), 'UP');
    assert.match((await page.textContent('section[data-target="payments-legacy"] .reason')) ?? '', /^connect: /);
    assert.match((await page.textContent('section[data-target="billing"] .reason')) ?? '', /^assertion/);
    assert.match((await page.textContent('#summary')) ?? '', /2 of 4 targets down/);
    assert.equal(await page.textContent('section[data-target="docs-search"] .srv'), HOSTILE, 'the name shows as text');
    assert.match((await page.textContent('section[data-target="docs-search"] .changes')) ?? '', /\+ summarize/);
    // globalThis is the page's window here (the test tsconfig has no DOM lib).
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
      undefined,
      'no script ran',
    );
    assert.equal(await page.$$eval('script', (s) => s.length), 0, 'no script element in the DOM');
    assert.equal(
      await page.$$eval('section.card svg.spark rect', (r) => r.length > 0),
      true,
      'duration charts are drawn',
    );
    assert.equal(await page.getAttribute('meta[http-equiv="refresh"]', 'content'), '5');

    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/status-page.png', fullPage: true });
  },
);
