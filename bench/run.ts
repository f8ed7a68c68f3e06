/**
 * Entry point of the benchmark suite: `npm run bench` runs every piece; `npm run bench -- probe scrape`
 * runs the pieces whose name contains one of the words. Each piece prints its markdown table;
 * the output is also saved in bench/results/<piece>.md and docs/benchmarks.md is rebuilt from
 * every saved result, so the document only ever holds what a command printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { ROOT } from './lib/proc.js';
import type { PieceResult } from './lib/stats.js';
import { writeDocs } from './write-docs.js';

interface Piece {
  name: string;
  run: () => Promise<PieceResult>;
}

const PIECES: Piece[] = [
  { name: 'probe-cost', run: async () => (await import('./probe-cost.js')).probeCost() },
  { name: 'peer', run: async () => (await import('./peer.js')).peer() },
  { name: 'capacity', run: async () => (await import('./capacity.js')).capacity() },
  { name: 'scrape', run: async () => (await import('./scrape.js')).scrape() },
  { name: 'proxy', run: async () => (await import('./proxy.js')).proxy() },
  { name: 'idle', run: async () => (await import('./idle.js')).idle() },
];

async function main(): Promise<void> {
  const words = process.argv.slice(2);
  const chosen = words.length ? PIECES.filter((p) => words.some((w) => p.name.includes(w))) : PIECES;
  if (chosen.length === 0) {
    process.stderr.write(`no benchmark matches ${words.join(' ')}; pieces: ${PIECES.map((p) => p.name).join(', ')}\n`);
    process.exit(2);
  }
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}`;
  let failed = 0;
  for (const piece of chosen) {
    process.stderr.write(`== ${piece.name}\n`);
    const started = Date.now();
    try {
      const result = await piece.run();
      const command = `npm run bench -- ${piece.name}`;
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      const md = `## ${result.title}\n\nCommand: \`${command}\` (${new Date().toISOString().slice(0, 10)}, ${machine}, ${seconds} s)\n\n${result.markdown}\n`;
      process.stdout.write(`\n${md}\n`);
      writeFileSync(join(dir, `${piece.name}.md`), md);
    } catch (err) {
      failed++;
      process.stderr.write(`benchmark ${piece.name} failed: ${(err as Error).stack ?? String(err)}\n`);
    }
  }
  writeDocs(PIECES.map((p) => p.name));
  process.exit(failed ? 1 : 0);
}

void main();
