// End to end, real processes on 127.0.0.1: a real MCP server (the SDK v2 demo server), the real
// mcpwatch binary probing it every second, Debian's Prometheus 2.42 scraping mcpwatch and
// evaluating the fast-profile rules every second, and Debian's Alertmanager 0.25 routing to a
// webhook receiver in this test. Stop the server: MCPProbeFailing pages; start it again: the page
// resolves. Inhibition is checked with the real MCPProbeFailing alert as its source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildAlertmanagerConfig } from '../../alerts/alertmanager.js';
import { renderRules } from '../../alerts/generate.js';
import { startDemoServer } from '../../src/cli/demo-server.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { freePort } from '../fixtures/net.js';
import { startStatefulServer } from '../fixtures/sdk-servers.js';
import { startToolServer } from '../fixtures/tool-server.js';
import {
  describe,
  holds,
  prometheusConfig,
  sleep,
  startChild,
  startMetricsEndpoint,
  startWebhook,
  waitHttpOk,
  type Child,
  type Notification,
} from '../fixtures/prometheus-stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TARGET = 'demo';
/** `sessions_expected_max` of the target: MCPSessionsOverrun fires above 1.2x, i.e. from 3 sessions. */
const EXPECTED_MAX = 2;
/** A second target whose sessions mcpwatch counts as a transparent proxy in front of it. */
const PROXIED = 'fanout';

interface AmAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

/** Instant query against Prometheus; the result vector (empty on any error, so callers poll). */
async function query(
  promUrl: string,
  expr: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {
    signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
  if (!r?.ok) return [];
  const body = (await r.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data.result;
}

/** Polls `check` every 250 ms until it returns a value other than undefined; throws `what` after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms: ${what()}`);
    await sleep(250);
  }
}

test(
  'alerts end to end: real MCP server, mcpwatch, Prometheus 2.42, Alertmanager 0.25, webhook',
  { timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpwatch-alerts-e2e-'));
    const children: Child[] = [];
    const webhook = await startWebhook();
    const mcpPort = await freePort();
    let demo: Awaited<ReturnType<typeof startDemoServer>> | undefined = await startDemoServer(mcpPort);
    // The server's own metrics, scraped by mcpwatch (`internal.metrics_url`); at the expected max: a near miss.
    const serverMetrics = await startMetricsEndpoint(EXPECTED_MAX);
    // A stateful SDK server (initialize opens an Mcp-Session-Id session) behind mcpwatch's proxy.
    const upstream = await startStatefulServer();
    const proxyPort = await freePort();
    // Added by a reload later: a tool behind one lock and one that scales (fan-out), and a
    // server whose sessions and errors mcpwatch sees as a proxy in front of it.
    const locked = await startToolServer();
    const scaling = await startToolServer();
    const leaky = await startToolServer();
    const leakyPort = await freePort();
    const clients: Client[] = [];
    t.after(async () => {
      for (const c of clients) await c.close().catch(() => {});
      // Reverse start order; every stop is bounded (SIGKILL after 5 s).
      for (const c of children.reverse()) await c.stop();
      await demo?.close();
      await upstream.close();
      for (const server of [locked, scaling, leaky]) await server.close();
      await serverMetrics.close();
      await webhook.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // mcpwatch: the real binary (npm test builds dist/ first), probing every second.
    const watchPort = await freePort();
    const watchConfig = join(dir, 'mcpwatch.yaml');
    const baseTargets = [
      {
        name: TARGET,
        url: demo.url,
        transport: 'streamable-http',
        sessions_expected_max: EXPECTED_MAX,
        internal: { metrics_url: serverMetrics.url },
      },
      {
        name: PROXIED,
        url: upstream.url,
        transport: 'streamable-http',
        sessions_expected_max: EXPECTED_MAX,
        internal: { proxy: { listen: `127.0.0.1:${proxyPort}` } },
      },
    ];
    const writeWatchConfig = (extra: object[]) =>
      writeFileSync(
        watchConfig,
        stringify({ defaults: { interval: '1s', timeout: '500ms' }, targets: [...baseTargets, ...extra] }),
      );
    writeWatchConfig([]);
    const mcpwatch = startChild('mcpwatch', process.execPath, [
      join(ROOT, 'bin/mcpwatch.js'),
      `--config.file=${watchConfig}`,
      `--web.listen-address=127.0.0.1:${watchPort}`,
      '--log.level=error',
      '--web.enable-lifecycle',
    ]);
    children.push(mcpwatch);

    // Alertmanager with the shipped routing and inhibitions, short timings, receivers -> this test.
    const amPort = await freePort();
    const amUrl = `http://127.0.0.1:${amPort}`;
    const amConfig = join(dir, 'alertmanager.yml');
    writeFileSync(
      amConfig,
      stringify(
        buildAlertmanagerConfig({
          webhookBaseUrl: webhook.baseUrl,
          groupWait: '1s',
          groupInterval: '1s',
          // Long enough that nothing repeats during the test: each notification below is a state change.
          repeatInterval: { pager: '1h', ticket: '1h', lowPriority: '1h' },
        }),
      ),
    );
    const alertmanager = startChild('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${amConfig}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    children.push(alertmanager);

    // Prometheus, first without rules: its scrape manager applies targets on a 5 s tick, so for the
    // first seconds `up` is absent and the fast profile's MCPWatchDown (`absent(up)`, for: 5s) could
    // fire before the first scrape. The rules are loaded once mcpwatch is scraped (production's
    // for: 5m covers a Prometheus restart).
    const rulesFile = join(dir, 'mcpwatch.fast.rules.yml');
    writeFileSync(rulesFile, renderRules('fast'));
    const promPort = await freePort();
    const promUrl = `http://127.0.0.1:${promPort}`;
    const promConfig = join(dir, 'prometheus.yml');
    const writePromConfig = (rules: string[]) =>
      writeFileSync(
        promConfig,
        stringify(
          prometheusConfig({
            mcpwatch: `127.0.0.1:${watchPort}`,
            alertmanager: `127.0.0.1:${amPort}`,
            ruleFiles: rules,
          }),
        ),
      );
    writePromConfig([]);
    const prometheus = startChild('prometheus', 'prometheus', [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ]);
    children.push(prometheus);

    await Promise.all([
      waitHttpOk(`http://127.0.0.1:${watchPort}/-/ready`, mcpwatch, 30_000),
      waitHttpOk(`${amUrl}/-/ready`, alertmanager, 30_000),
      waitHttpOk(`${promUrl}/-/ready`, prometheus, 30_000),
    ]);
    const logs = () => children.map((c) => `--- ${c.name}\n${c.output()}`).join('\n');
    await until(
      async () => ((await query(promUrl, 'up{job="mcpwatch"} == 1')).length === 1 ? true : undefined),
      20_000,
      () => `Prometheus never scraped mcpwatch\n${logs()}`,
    );
    writePromConfig([rulesFile]);
    const reloaded = await fetch(`${promUrl}/-/reload`, { method: 'POST' });
    assert.equal(reloaded.status, 200, await reloaded.text());

    await t.test('the pipeline is healthy and silent', async () => {
      // Rules loaded without error, Alertmanager discovered, probes succeeding as Prometheus sees them.
      const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
        data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
      };
      assert.deepEqual(rules.data.groups.map((g) => g.name).sort(), ['mcpwatch.alerts', 'mcpwatch.rules']);
      await until(
        async () =>
          (await query(promUrl, `mcp_probe_success{job="mcpwatch",target="${TARGET}"} == 1`)).length === 1
            ? true
            : undefined,
        20_000,
        () => `Prometheus never saw a successful probe\n${logs()}`,
      );
      // The scraped sessions reach Prometheus next to the configured expected max (1.0x: below the threshold).
      await until(
        async () => {
          const r = await query(
            promUrl,
            `mcp_server_sessions_active{job="mcpwatch",target="${TARGET}"} / mcp_server_sessions_expected_max`,
          );
          return r[0]?.value[1] === '1' ? true : undefined;
        },
        20_000,
        () =>
          `Prometheus never saw mcp_server_sessions_active = mcp_server_sessions_expected_max = ${EXPECTED_MAX}\n${logs()}`,
      );
      await until(
        async () => {
          const r = await fetch(`${promUrl}/api/v1/alertmanagers`).then(
            (x) => x.json() as Promise<{ data: { activeAlertmanagers: unknown[] } }>,
          );
          return r.data.activeAlertmanagers.length === 1 ? true : undefined;
        },
        10_000,
        () => 'Prometheus did not discover the Alertmanager',
      );
      // A few healthy seconds: several probes, scrapes and evaluations, and no notification at all.
      await sleep(5_000);
      const evaluated = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as typeof rules;
      const broken = evaluated.data.groups.flatMap((g) => g.rules).filter((r) => r.health === 'err');
      assert.deepEqual(broken, [], 'every rule evaluates without error');
      assert.deepEqual(webhook.notifications, [], `no notification while healthy: ${describe(webhook.notifications)}`);
    });

    let stoppedAt = 0;
    let page: Notification | undefined;
    await t.test('stopping the MCP server pages with MCPProbeFailing', async () => {
      stoppedAt = Date.now();
      await demo!.close();
      demo = undefined;
      page = await webhook.waitFor(
        (n) => holds(n, 'MCPProbeFailing', 'firing', TARGET),
        30_000,
        'MCPProbeFailing page',
      );
      const seconds = (page.at - stoppedAt) / 1000;
      console.log(
        `# time to detect (fast profile: 1 s probes, scrape, evaluation; group_wait 1s): server stopped -> page in ${seconds.toFixed(1)} s`,
      );
      assert.equal(page.path, '/pager', 'critical goes to the pager receiver');
      const alert = page.alerts.find((a) => a.labels.alertname === 'MCPProbeFailing')!;
      assert.equal(alert.labels.severity, 'critical');
      assert.equal(alert.labels.job, 'mcpwatch');
      assert.match(
        alert.annotations.description ?? '',
        new RegExp(`Target ${TARGET} failed its last \\d+ probes in a row`),
      );
      assert.match(alert.annotations.runbook_url ?? '', /docs\/runbook\.md#mcpprobefailing$/);
      // Two consecutive failures at 1 s each, then scrape + evaluation + group_wait: a few seconds, never the whole timeout.
      assert.ok(seconds >= 1, `paged after ${seconds} s: before two probes could have failed`);
      assert.ok(seconds < 15, `paged after ${seconds} s`);
      // Nothing else is paged or ticketed for a stopped server (latency and SLO alerts stay silent or inhibited).
      const others = webhook.notifications.filter((n) =>
        n.alerts.some((a) => a.labels.alertname !== 'MCPProbeFailing'),
      );
      assert.deepEqual(others, [], describe(others));
    });

    await t.test(
      'while MCPProbeFailing fires, the latency alerts of that target are inhibited, others are not',
      async () => {
        // The source is the real alert from Prometheus, so this proves its labels (job, instance,
        // target) meet the inhibition's `equal` list; the targets of the inhibition are posted here
        // because a stopped server cannot also be slow.
        const source = await until(
          async () => {
            const r = (await (
              await fetch(`${amUrl}/api/v2/alerts?filter=alertname%3D%22MCPProbeFailing%22`)
            ).json()) as AmAlert[];
            return r.find((a) => a.status.state === 'active');
          },
          5_000,
          () => 'MCPProbeFailing is not active in Alertmanager',
        );
        const { job, instance, target } = source.labels;
        const endsAt = new Date(Date.now() + 6_000).toISOString();
        const mk = (alertname: string, t: string) => ({
          labels: { alertname, severity: 'warning', job: job!, instance: instance!, target: t },
          annotations: { summary: 'posted by the end-to-end test' },
          startsAt: new Date().toISOString(),
          endsAt,
        });
        const posted = await fetch(`${amUrl}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([
            mk('MCPProbeLatencyHigh', target!),
            mk('MCPLatencySLOBreach', target!),
            mk('MCPProbeLatencyHigh', 'other'),
          ]),
        });
        assert.equal(posted.status, 200);
        // The control alert (another target) must arrive: the receiver path works, so silence means inhibition.
        const control = await webhook.waitFor(
          (n) => holds(n, 'MCPProbeLatencyHigh', 'firing', 'other'),
          10_000,
          'control alert',
        );
        assert.equal(control.path, '/ticket');
        const inhibited = (await (
          await fetch(`${amUrl}/api/v2/alerts?inhibited=true&active=false`)
        ).json()) as AmAlert[];
        const of = (name: string) => inhibited.find((a) => a.labels.alertname === name && a.labels.target === target);
        for (const name of ['MCPProbeLatencyHigh', 'MCPLatencySLOBreach']) {
          assert.equal(of(name)?.status.state, 'suppressed', `${name} of ${target}: ${JSON.stringify(of(name))}`);
          assert.ok((of(name)?.status.inhibitedBy.length ?? 0) > 0, `${name} is inhibited, not silenced`);
        }
        // Give Alertmanager a few more group intervals, then let the posted alerts expire while the source still fires.
        await sleep(Math.max(0, Date.parse(endsAt) - Date.now()) + 2_000);
        const leaked = webhook.notifications.filter((n) =>
          n.alerts.some((a) => a.labels.target === target && a.labels.alertname !== 'MCPProbeFailing'),
        );
        assert.deepEqual(leaked, [], `inhibited alerts were delivered: ${describe(leaked)}`);
      },
    );

    await t.test('starting the MCP server again resolves the page', async () => {
      const restartedAt = Date.now();
      demo = await startDemoServer(mcpPort);
      const resolved = await webhook.waitFor(
        (n) => holds(n, 'MCPProbeFailing', 'resolved', TARGET),
        30_000,
        'resolved MCPProbeFailing',
      );
      console.log(
        `# time to resolve (fast profile): server started -> resolved notification in ${((resolved.at - restartedAt) / 1000).toFixed(1)} s`,
      );
      assert.equal(resolved.path, '/pager', 'the resolved notification goes where the page went');
      assert.equal(
        webhook.notifications.filter((n) => holds(n, 'MCPProbeFailing', 'firing', TARGET)).length,
        1,
        `one outage, one page: ${describe(webhook.notifications)}`,
      );
    });

    await t.test('sessions past the expected max file MCPSessionsOverrun as a ticket', async () => {
      const overrunAt = Date.now();
      serverMetrics.setSessions(EXPECTED_MAX + 1);
      const ticket = await webhook.waitFor(
        (n) => holds(n, 'MCPSessionsOverrun', 'firing', TARGET),
        30_000,
        'MCPSessionsOverrun ticket',
      );
      console.log(
        `# time to detect (fast profile: 1 s scrapes, for: 2s): sessions ${EXPECTED_MAX} -> ${EXPECTED_MAX + 1} (expected max ${EXPECTED_MAX}) -> ticket in ${((ticket.at - overrunAt) / 1000).toFixed(1)} s`,
      );
      assert.equal(ticket.path, '/ticket', 'warning goes to the ticket receiver');
      const alert = ticket.alerts.find((a) => a.labels.alertname === 'MCPSessionsOverrun')!;
      assert.equal(alert.labels.severity, 'warning');
      assert.match(
        alert.annotations.description ?? '',
        new RegExp(`${TARGET} has ${EXPECTED_MAX + 1} open MCP sessions`),
      );
      assert.equal(
        webhook.notifications.filter(
          (n) => n.path === '/pager' && n.status === 'firing' && !holds(n, 'MCPProbeFailing', 'firing'),
        ).length,
        0,
        'nothing else paged',
      );

      serverMetrics.setSessions(1);
      const resolved = await webhook.waitFor(
        (n) => holds(n, 'MCPSessionsOverrun', 'resolved', TARGET),
        30_000,
        'resolved MCPSessionsOverrun',
      );
      assert.equal(resolved.path, '/ticket');
    });

    await t.test(
      'real SDK client sessions through the proxy past the expected max file MCPSessionsOverrun',
      async () => {
        const proxyUrl = new URL(upstream.url);
        proxyUrl.port = String(proxyPort);
        const openedAt = Date.now();
        // 3 sessions > 1.2 x 2: each client does the initialize handshake, which opens a session.
        for (let i = 0; i < EXPECTED_MAX + 1; i++) {
          const client = new Client({ name: `e2e-agent-${i}`, version: '1.0.0' });
          await client.connect(new StreamableHTTPClientTransport(proxyUrl));
          clients.push(client);
          await client.listTools();
        }
        // >= because a probe of the target (direct, not proxied) may hold a session of its own right now.
        assert.ok(
          upstream.sessions() >= EXPECTED_MAX + 1,
          `the sessions reached the server through the proxy: ${upstream.sessions()}`,
        );
        const ticket = await webhook.waitFor(
          (n) => holds(n, 'MCPSessionsOverrun', 'firing', PROXIED),
          30_000,
          `MCPSessionsOverrun ticket for ${PROXIED}`,
        );
        console.log(
          `# time to detect (fast profile, proxy mode): ${EXPECTED_MAX + 1} sessions opened -> ticket in ${((ticket.at - openedAt) / 1000).toFixed(1)} s`,
        );
        assert.equal(ticket.path, '/ticket');
        assert.match(
          ticket.alerts.find((a) => a.labels.alertname === 'MCPSessionsOverrun')!.annotations.description ?? '',
          new RegExp(`${PROXIED} has ${EXPECTED_MAX + 1} open MCP sessions`),
        );

        // Closing the clients ends their sessions (DELETE through the proxy): the ticket resolves.
        for (const c of clients.splice(0)) {
          await (c.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
          await c.close();
        }
        const resolved = await webhook.waitFor(
          (n) => holds(n, 'MCPSessionsOverrun', 'resolved', PROXIED),
          30_000,
          `resolved MCPSessionsOverrun for ${PROXIED}`,
        );
        assert.equal(resolved.path, '/ticket');
      },
    );

    await t.test(
      'fan-out slowdown, a stuck session and errors inside 200 file their tickets; a server that scales stays quiet',
      async () => {
        const fanout = { sessions: 8, interval: '3s', call: 'canary' };
        writeWatchConfig([
          {
            name: 'fan-locked',
            url: locked.url,
            transport: 'streamable-http',
            interval: '3s',
            timeout: '1s',
            canary: { tool: 'locked', arguments: { ms: 40 } },
            fanout,
          },
          {
            name: 'fan-scaling',
            url: scaling.url,
            transport: 'streamable-http',
            interval: '3s',
            timeout: '1s',
            canary: { tool: 'sleep', arguments: { ms: 40 } },
            fanout,
          },
          {
            name: 'leaky',
            url: leaky.url,
            transport: 'streamable-http',
            session_max_age: '2s',
            internal: { proxy: { listen: `127.0.0.1:${leakyPort}` } },
          },
        ]);
        const reload = await fetch(`http://127.0.0.1:${watchPort}/-/reload`, { method: 'POST' });
        assert.equal(reload.status, 200, await reload.text());
        const since = Date.now();

        // An agent opens a session through the proxy, never ends it, and gets isError from every call.
        const leakyUrl = new URL(leaky.url);
        leakyUrl.port = String(leakyPort);
        await until(
          async () => (await fetch(leakyUrl, { method: 'GET' }).catch(() => undefined)) && true,
          10_000,
          () => 'the leaky proxy never listened',
        );
        const agent = new Client({ name: 'e2e-leaky-agent', version: '1.0.0' });
        await agent.connect(new StreamableHTTPClientTransport(leakyUrl));
        clients.push(agent);
        const failing = (async () => {
          while (Date.now() - since < 40_000 && clients.includes(agent)) {
            await agent.callTool({ name: 'fail', arguments: {} }).catch(() => {});
            await sleep(500);
          }
        })();

        const [slow, stuck, errors] = await Promise.all([
          webhook.waitFor((n) => holds(n, 'MCPFanoutSlowdown', 'firing', 'fan-locked'), 60_000, 'MCPFanoutSlowdown'),
          webhook.waitFor((n) => holds(n, 'MCPSessionStuck', 'firing', 'leaky'), 60_000, 'MCPSessionStuck'),
          webhook.waitFor(
            (n) => holds(n, 'MCPServerErrorRateHigh', 'firing', 'leaky'),
            60_000,
            'MCPServerErrorRateHigh',
          ),
        ]);
        for (const [name, n] of [
          ['MCPFanoutSlowdown (3 s rounds of 8 sessions, for: 10s)', slow],
          ['MCPSessionStuck (session_max_age 2s, for: 2s)', stuck],
          ['MCPServerErrorRateHigh (every call isError, 30 s window, for: 5s)', errors],
        ] as const)
          console.log(`# time to detect (fast profile): reload -> ${name} in ${((n.at - since) / 1000).toFixed(1)} s`);
        for (const n of [slow, stuck, errors]) assert.equal(n.path, '/ticket', 'warnings file tickets');
        const ratio = await query(promUrl, 'mcp_probe_fanout_slowdown_ratio{target="fan-locked"}');
        assert.ok(Number(ratio[0]?.value[1]) > 3, `slowdown as Prometheus sees it: ${JSON.stringify(ratio)}`);
        const calm = await query(promUrl, 'mcp_probe_fanout_slowdown_ratio{target="fan-scaling"}');
        assert.ok(Number(calm[0]?.value[1]) < 3, `the scaling server: ${JSON.stringify(calm)}`);
        const oldest = await query(promUrl, 'mcp_server_session_oldest_age_seconds{target="leaky"}');
        assert.ok(Number(oldest[0]?.value[1]) > 2, `the stuck session's age: ${JSON.stringify(oldest)}`);
        assert.equal(
          webhook.notifications.filter((n) => n.alerts.some((a) => a.labels.target === 'fan-scaling')).length,
          0,
          `nothing for the server that scales: ${describe(webhook.notifications)}`,
        );
        // Every fan-out session ended with its round: only a probe's own session may be open.
        assert.ok(locked.sessions() <= 1 && scaling.sessions() <= 1, `${locked.sessions()} ${scaling.sessions()}`);
        assert.ok(locked.peakSessions() >= 8, 'eight sessions at once reached the server');

        // The agent ends its session: the stuck-session ticket resolves.
        clients.splice(clients.indexOf(agent), 1);
        await failing;
        await (agent.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
        await agent.close();
        const resolved = await webhook.waitFor(
          (n) => holds(n, 'MCPSessionStuck', 'resolved', 'leaky'),
          30_000,
          'resolved MCPSessionStuck',
        );
        assert.equal(resolved.path, '/ticket');
      },
    );
  },
);
