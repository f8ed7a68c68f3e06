/** nextCronTimeMs against expressions of every kind the config check accepts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import cron from 'node-cron';
import { nextCronTimeMs } from '../../src/schedule/cron.js';

test('every valid cron expression has a next run, strictly after the time given', () => {
  const now = Date.now();
  const cases: Array<[string, (d: Date) => boolean]> = [
    ['*/15 * * * * *', (d) => d.getSeconds() % 15 === 0 && d.getTime() - now <= 15_000],
    [
      '0 0 L * *',
      (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getDate() === 1 && d.getHours() === 0,
    ],
    ['0 9 * * 1#2', (d) => d.getDay() === 1 && d.getDate() >= 8 && d.getDate() <= 14 && d.getHours() === 9],
    ['0 0 15W * *', (d) => d.getDate() >= 13 && d.getDate() <= 17 && d.getDay() >= 1 && d.getDay() <= 5],
    [
      '30 4 * jan,jul mon',
      (d) =>
        (d.getMonth() === 0 || d.getMonth() === 6) && d.getDay() === 1 && d.getHours() === 4 && d.getMinutes() === 30,
    ],
  ];
  for (const [expr, ok] of cases) {
    assert.equal(cron.validate(expr), true, `${expr} is valid for node-cron`);
    const next = nextCronTimeMs(expr, now);
    assert.ok(next !== undefined && next > now, `${expr}: a next run after now (${next})`);
    assert.ok(ok(new Date(next)), `${expr}: ${new Date(next).toString()}`);
  }
});
