/**
 * Next run time of a cron expression (5 fields, or 6 with seconds first), from node-cron itself,
 * so every expression the config check accepts (`L`, `W`, `#`, names, steps) also schedules.
 */
import cron, { type ScheduledTask } from 'node-cron';

/** One never-started node-cron task per expression: it only answers "when next". */
const tasks = new Map<string, ScheduledTask>();

function taskOf(expression: string): ScheduledTask {
  let task = tasks.get(expression);
  if (!task) {
    task = cron.createTask(expression, () => {});
    tasks.set(expression, task);
  }
  return task;
}

/**
 * The first run strictly after `fromMs` (at most a few runs ahead of now), in local time;
 * undefined if node-cron knows none.
 */
export function nextCronTimeMs(expression: string, fromMs: number): number | undefined {
  const runs = taskOf(expression).getNextRuns(4);
  return runs.find((d) => d.getTime() > fromMs)?.getTime();
}
