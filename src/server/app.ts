/**
 * The HTTP surface of mcpwatch (express; no listen here, main.ts does that):
 * `/metrics`, `/probe?target=NAME[&debug=true]`, `/-/healthy`, `/-/ready`, `/-/reload`,
 * `/` (status page) and `/api/v1/targets` (its JSON twin).
 */
import express, { type Request, type Response } from 'express';
import { Registry } from 'prom-client';
import type { Config, TargetConfig } from '../config/schema.js';
import type { ProbeResult } from '../probe/types.js';
import { formatReport } from '../probe/report.js';
import { Recorder } from '../metrics/recorder.js';
import { contentTypeOf, renderRegistry, renderRegistryChunks } from '../metrics/exposition.js';
import type { History } from './history.js';
import { renderStatusPage, targetsJson } from './status-page.js';

export interface AppDeps {
  /** The registry behind `/metrics`. */
  registry: Registry;
  getConfig: () => Config;
  /** Probes a configured target now (outside the schedule). Never rejects. */
  probeNow: (target: TargetConfig) => Promise<ProbeResult>;
  history: History;
  /** Present only with --web.enable-lifecycle. */
  reload?: () => Promise<{ ok: boolean; message: string }>;
  isReady: () => boolean;
  /** Text of the sidecar's version for the status page. */
  version: string;
}

/** Builds the express app. */
export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/metrics', metricsHandler(deps));
  app.get('/probe', probeHandler(deps));

  app.get('/-/healthy', (_req, res) => {
    res.type('text/plain').send('mcpwatch is Healthy.\n');
  });
  app.get('/-/ready', (_req, res) => {
    if (deps.isReady()) res.type('text/plain').send('mcpwatch is Ready.\n');
    else res.status(503).type('text/plain').send('mcpwatch is not ready.\n');
  });

  const reload = async (_req: Request, res: Response) => {
    if (!deps.reload) {
      res.status(403).type('text/plain').send('Lifecycle API is not enabled (start with --web.enable-lifecycle).\n');
      return;
    }
    const r = await deps.reload();
    res
      .status(r.ok ? 200 : 500)
      .type('text/plain')
      .send(`${r.message}\n`);
  };
  app.post('/-/reload', reload);
  app.put('/-/reload', reload);

  app.get('/api/v1/targets', (_req, res) => {
    res.json(targetsJson(deps.getConfig(), deps.history));
  });
  app.get('/', (_req, res) => {
    res
      .type('html')
      .send(renderStatusPage(deps.getConfig(), deps.history, { version: deps.version, nowMs: Date.now() }));
  });

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  return app;
}

/** `/metrics`: the registry, streamed, in the format the scraper asks for. */
function metricsHandler(deps: AppDeps) {
  return async (req: Request, res: Response) => {
    const wantsOpenMetrics = String(req.headers.accept ?? '').includes('application/openmetrics-text');
    // Streamed in chunks: a scrape of thousands of targets neither builds one huge string nor
    // holds the event loop (probes keep their schedule while it renders).
    const chunks = renderRegistryChunks(deps.registry, wantsOpenMetrics);
    try {
      const first = await chunks.next();
      res.type(contentTypeOf(wantsOpenMetrics));
      if (!first.done) res.write(first.value);
      for await (const chunk of chunks) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await drained(res);
      }
      res.end();
    } catch (err) {
      if (res.headersSent) res.destroy(err as Error);
      else
        res
          .status(500)
          .type('text/plain')
          .send(`error collecting metrics: ${(err as Error).message}\n`);
    }
  };
}

/** `/probe?target=`: probes one configured target now (blackbox_exporter multi-target style). */
function probeHandler(deps: AppDeps) {
  return async (req: Request, res: Response) => {
    const name = typeof req.query.target === 'string' ? req.query.target : '';
    if (!name) {
      res.status(400).type('text/plain').send('target parameter is missing (a configured target name)\n');
      return;
    }
    // Names only, never URLs: a /probe request cannot make mcpwatch reach an arbitrary host.
    const target = deps.getConfig().targets.find((t) => t.name === name);
    if (!target) {
      res
        .status(404)
        .type('text/plain')
        .send(`unknown target ${JSON.stringify(name.slice(0, 64))}: /probe only probes configured targets\n`);
      return;
    }
    const result = await deps.probeNow(target);
    if (req.query.debug === 'true') {
      res.type('text/plain').send(formatReport(result, { withLog: true }));
      return;
    }
    // A fresh registry holding this probe's metrics only (blackbox_exporter multi-target style).
    const registry = new Registry();
    const recorder = new Recorder(registry);
    recorder.addTarget(target);
    recorder.recordProbe(result, false);
    res.type(registry.contentType).send(await renderRegistry(registry, false));
  };
}

/** Resolves when `res` drains or closes; leaves no listener behind (one wait per slow chunk). */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
