/**
 * The composition root of the sidecar: config -> scheduler -> prober -> recorder/history ->
 * HTTP app. Owns the lifecycle (start, reload, graceful stop); main.ts owns the process
 * (signals, env, exit). Tests start it in-process with fresh parts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config, TargetConfig } from './config/schema.js';
import { formatIssues, loadConfigFile } from './config/load.js';
import type { Logger } from './log/logger.js';
import { Recorder } from './metrics/recorder.js';
import { fanoutRound, fanoutTimeoutMs } from './probe/fanout.js';
import { probe } from './probe/prober.js';
import { InternalRunner } from './proxy/internal-runner.js';
import { describeDiff } from './probe/tool-hash.js';
import type { ProbeResult } from './probe/types.js';
import type { TraceHooks } from './probe/trace-hooks.js';
import { Scheduler } from './schedule/scheduler.js';
import { setupTracing } from './telemetry/tracing.js';
import { createApp } from './server/app.js';
import { History } from './server/history.js';
import { VERSION } from './version.js';

export { VERSION };

export interface SidecarOptions {
  /** The initial config (already validated). */
  config: Config;
  /** Re-read on reload; absent for the demo's in-memory config. */
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  listen: { host?: string; port: number };
  enableLifecycle: boolean;
  /** Collect prom-client's process metrics (default true). */
  processMetrics?: boolean;
}

export interface Sidecar {
  /** The bound address, e.g. 127.0.0.1:9465. */
  address: { host: string; port: number };
  registry: Registry;
  /** Re-reads the config file; a bad config keeps the running one. */
  reload(): Promise<{ ok: boolean; message: string }>;
  /** Stops probing (aborting probes in flight), closes the HTTP server. */
  close(): Promise<void>;
}

/** Starts the sidecar and resolves once it listens. */
export async function startSidecar(opts: SidecarOptions): Promise<Sidecar> {
  const { logger } = opts;
  // Off unless OTEL_* says otherwise (docs/tracing.md); never blocks probing or shutdown.
  const tracing = setupTracing(opts.env, logger);
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const recorder = new Recorder(registry);
  // Scrapers and proxies: the "inside the server" metrics, started and reloaded with the config.
  const internal = new InternalRunner(recorder, logger);
  const history = new History();
  let config = opts.config;
  let ready = false;

  const onResult = resultRecorder(recorder, history, logger);

  const scheduler = schedulerFor({ recorder, logger, tracer: tracing.hooks, onResult });

  const apply = async (next: Config) => {
    const names = new Set(next.targets.map((t) => t.name));
    for (const old of config.targets) if (!names.has(old.name)) await recorder.removeTarget(old.name);
    for (const t of next.targets) recorder.addTarget(t);
    history.retain(names);
    config = next;
    const diff = await scheduler.setTargets(next.targets);
    await internal.setTargets(next.targets);
    recorder.recordReload(true, Date.now(), next.targets.length);
    return diff;
  };

  const reload = reloader({
    configFile: opts.configFile,
    env: opts.env,
    logger,
    apply,
    onFailure: () => recorder.recordReload(false, Date.now(), config.targets.length),
  });

  const app = createApp({
    registry,
    getConfig: () => config,
    probeNow: (target: TargetConfig) => probe(target, { tracer: tracing.hooks }),
    history,
    reload: opts.enableLifecycle ? reload : undefined,
    isReady: () => ready,
    version: VERSION,
  });
  const { server, address } = await listen(app, opts.listen, logger);

  await apply(config);
  ready = true;
  logger.info('started', { targets: config.targets.length, version: VERSION });

  return {
    address,
    registry,
    reload,
    async close() {
      ready = false;
      await scheduler.stop();
      await internal.stop();
      server.closeAllConnections();
      // The last spans flush while the server closes; tracing.shutdown() is bounded and never rejects.
      await Promise.all([tracing.shutdown(), new Promise<void>((resolve) => server.close(() => resolve()))]);
    },
  };
}

/** What happens to each probe result: metrics, history, and a log line. Never throws. */
function resultRecorder(recorder: Recorder, history: History, logger: Logger): (r: ProbeResult) => void {
  return (r) => {
    try {
      recorder.recordProbe(r, Boolean(r.toolListChange));
      history.add(r);
      if (r.toolListChange) {
        logger.info('tool list changed', {
          target: r.target,
          hash: r.toolListHash,
          change: describeDiff(r.toolListChange),
        });
      }
      if (r.success)
        logger.debug('probe succeeded', { target: r.target, duration_seconds: r.durationSeconds.toFixed(4) });
      else
        logger.warn('probe failed', {
          target: r.target,
          reason: r.reason,
          message: r.message,
          duration_seconds: r.durationSeconds.toFixed(4),
        });
    } catch (err) {
      recorder.recordInternalError('recorder');
      logger.error('recording a probe result failed', { target: r.target, err: (err as Error).message });
    }
  };
}

type ReloadOutcome = { ok: boolean; message: string };

interface ReloaderOptions {
  configFile?: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Applies a valid config; resolves to what changed. */
  apply(next: Config): Promise<{ added: string[]; removed: string[]; changed: string[] }>;
  /** A reload found a bad config (which is kept out). */
  onFailure(): void;
}

/** Re-reads the config file, serialised: a SIGHUP storm applies each file state once, in order. */
function reloader(o: ReloaderOptions): () => Promise<ReloadOutcome> {
  let reloading: Promise<ReloadOutcome> | undefined;
  return async () => {
    const file = o.configFile;
    if (!file) return { ok: false, message: 'no config file to reload (demo mode)' };
    const previous = reloading ?? Promise.resolve();
    const run = previous.then(async (): Promise<ReloadOutcome> => {
      const { config: next, issues } = loadConfigFile(file, o.env);
      if (!next) {
        o.onFailure();
        o.logger.error('config reload failed; keeping the running config', {
          problems: issues.length,
          issues: formatIssues(issues),
        });
        return { ok: false, message: `config reload failed, keeping the running config:\n${formatIssues(issues)}` };
      }
      const diff = await o.apply(next);
      o.logger.info('config reloaded', {
        targets: next.targets.length,
        added: diff.added.join(','),
        removed: diff.removed.join(','),
        changed: diff.changed.join(','),
      });
      return {
        ok: true,
        message: `config reloaded: ${next.targets.length} targets (added ${diff.added.length}, removed ${diff.removed.length}, changed ${diff.changed.length})`,
      };
    });
    reloading = run.catch(() => ({ ok: false, message: 'reload failed' }));
    return run;
  };
}

/** Serves `app` on `at`; resolves once it listens. */
async function listen(
  app: ReturnType<typeof createApp>,
  at: SidecarOptions['listen'],
  logger: Logger,
): Promise<{ server: Server; address: { host: string; port: number } }> {
  const server: Server = createServer(app);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  logger.info('listening', { address: `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` });
  return { server, address: { host: addr.address, port: addr.port } };
}

/** The scheduler, wired to the prober, the fan-out round, the recorder and the log. */
function schedulerFor(parts: {
  recorder: Recorder;
  logger: Logger;
  tracer: TraceHooks;
  onResult: (r: ProbeResult) => void;
}): Scheduler {
  const { recorder, logger, tracer, onResult } = parts;
  return new Scheduler({
    runProbe: (target, o) => probe(target, { ...o, tracer }),
    onResult,
    runFanout: async (target, o) => {
      const timeoutMs = fanoutTimeoutMs(target, o.endBeforeMs - Date.now());
      return timeoutMs === undefined ? undefined : fanoutRound(target, { ...o, timeoutMs });
    },
    onFanout: (r) => {
      recorder.recordFanout(r);
      if (!r.success) logger.warn('fan-out round failed', { target: r.target, reason: r.reason, message: r.message });
      else
        logger.debug('fan-out round', {
          target: r.target,
          sessions: r.sessions,
          p99_seconds: r.p99Seconds?.toFixed(4),
          slowdown: r.slowdownRatio?.toFixed(2),
        });
    },
    onSkip: (target) => {
      recorder.recordSkip(target);
      logger.warn('probe skipped: the previous probe is still running', { target });
    },
    onLag: (s) => recorder.recordScheduleLag(s),
    onError: (component, err) => {
      recorder.recordInternalError(component);
      logger.error('internal error', { component, err: (err as Error)?.message ?? String(err) });
    },
  });
}
