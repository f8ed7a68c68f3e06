/**
 * Renders a registry as Prometheus text or OpenMetrics (the format that carries exemplars).
 *
 * Why not just `registry.setContentType()` per request: prom-client reads the registry's content
 * type after an await, and in OpenMetrics mode it renames every counter in place (drops `_total`)
 * without restoring it. Switching a shared registry per request therefore mixes formats under
 * concurrent scrapes and leaves `_total` missing from every later text scrape. Here renders are
 * serialised and counter names are restored after each OpenMetrics render.
 */
import { Registry } from 'prom-client';

export interface Exposition {
  /** Never rejects unless a collect() hook throws. */
  render(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
}

interface Named {
  name: string;
  type?: string;
}

/** Wraps `registry` (left in Prometheus text mode between renders). */
export function createExposition(registry: Registry): Exposition {
  let queue: Promise<unknown> = Promise.resolve();
  const originalNames = new WeakMap<object, string>();
  const render = async (openMetrics: boolean) => {
    if (!openMetrics) return { contentType: registry.contentType, body: await registry.metrics() };
    const counters = (registry.getMetricsAsArray() as unknown as Named[]).filter((m) => m.type === 'counter');
    for (const c of counters) if (!originalNames.has(c)) originalNames.set(c, c.name);
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE as string, body: await registry.metrics() };
    } finally {
      registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE as never);
      for (const c of counters) c.name = originalNames.get(c) ?? c.name;
    }
  };
  return {
    render(openMetrics) {
      const run = queue.then(() => render(openMetrics));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}
