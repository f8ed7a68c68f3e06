/**
 * Next run time of a cron expression (5 fields, or 6 with seconds first), using node-cron's
 * parser for the fields. Pure; never throws for an expression that node-cron validates.
 */
import cron from 'node-cron';

type Fields = ReturnType<typeof cron.parse>;

function has(list: ReadonlyArray<number | string>, v: number): boolean {
  return list.some((x) => Number(x) === v);
}

/** The first time strictly after `fromMs` that matches, in local time; undefined if none within 5 years. */
export function nextCronTimeMs(expression: string, fromMs: number): number | undefined {
  const f: Fields = cron.parse(expression);
  const d = new Date(Math.floor(fromMs / 1000) * 1000 + 1000);
  const limit = fromMs + 5 * 366 * 24 * 3600 * 1000;
  while (d.getTime() < limit) {
    if (!has(f.month, d.getMonth() + 1)) {
      d.setMonth(d.getMonth() + 1, 1);
      d.setHours(0, 0, 0);
      continue;
    }
    if (!has(f.dayOfMonth, d.getDate()) || !has(f.dayOfWeek, d.getDay())) {
      d.setDate(d.getDate() + 1);
      d.setHours(0, 0, 0);
      continue;
    }
    if (!has(f.hour, d.getHours())) {
      d.setHours(d.getHours() + 1, 0, 0);
      continue;
    }
    if (!has(f.minute, d.getMinutes())) {
      d.setMinutes(d.getMinutes() + 1, 0);
      continue;
    }
    if (!has(f.second, d.getSeconds())) {
      d.setSeconds(d.getSeconds() + 1);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}
