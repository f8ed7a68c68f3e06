/**
 * /metrics in both formats, concurrently, as Prometheus (which prefers OpenMetrics) and a text
 * scraper would hit it: neither format may leak into the other, and counters keep `_total`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSidecar } from '../../src/sidecar.js';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { waitFor } from '../helpers/prom-text.js';

const OM = 'application/openmetrics-text; version=1.0.0';

test('OpenMetrics and text scrapes do not disturb each other', async () => {
  const demo = await startDemoServer(0);
  const { config } = parseConfig(`defaults: { interval: 1s, timeout: 800ms }\ntargets:\n  - { name: demo, url: ${demo.url} }\n`, {});
  const sc = await startSidecar({ config: config!, env: {}, logger: silentLogger, listen: { host: '127.0.0.1', port: 0 }, enableLifecycle: false, processMetrics: false });
  after(async () => {
    await sc.close();
    await demo.close();
  });
  const url = `http://127.0.0.1:${sc.address.port}/metrics`;
  const get = async (accept?: string) => {
    const res = await fetch(url, { headers: accept ? { accept } : {} });
    return { type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
  await waitFor(async () => /mcp_probes_total\{target="demo",result="success"\} [1-9]/.test((await get()).body), 10_000, 'a probe');

  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => get(i % 2 === 0 ? OM : undefined)));
  results.push(await get());
  results.forEach((r, i) => {
    const om = i < 10 && i % 2 === 0;
    if (om) {
      assert.match(r.type, /application\/openmetrics-text/);
      assert.match(r.body, /^# TYPE mcp_probes counter$/m, `scrape ${i}`);
      assert.match(r.body, /^mcp_probes_total\{target="demo",result="success"\} \d+$/m, `scrape ${i}`);
      assert.ok(r.body.endsWith('# EOF\n'), `scrape ${i} ends with # EOF`);
    } else {
      assert.match(r.type, /text\/plain; version=0\.0\.4/);
      assert.match(r.body, /^# TYPE mcp_probes_total counter$/m, `scrape ${i}`);
      assert.match(r.body, /^mcp_probes_total\{target="demo",result="success"\} \d+$/m, `scrape ${i}`);
      assert.ok(!r.body.includes('# EOF'), `scrape ${i} is not OpenMetrics`);
    }
  });
});
