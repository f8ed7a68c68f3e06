/**
 * Benchmark 1: the cost of one full probe (handshake, tools/list, end session) by mcpwatch's
 * `probe()` against the floor (the same HTTP requests hand-written with undici, fresh Agent per
 * probe), both against the fast hand-written fixture server in its own process. Each client runs
 * in its own process; rounds are interleaved so drift hits both sides alike.
 */
import { startFastServer, runToEnd } from './lib/proc.js';
import { median, spread, table, type PieceResult } from './lib/stats.js';

const ROUNDS = 5;
const WARMUP = 200;
const PROBES = 1000;

interface ClientRun {
  mode: string;
  wallMsPerProbe: number;
  cpuMsPerProbe: number;
  failures: number;
}

async function runClient(mode: string, url: string): Promise<ClientRun> {
  const out = await runToEnd(process.execPath, [
    'bench/clients/probe-client.mjs',
    mode,
    url,
    String(WARMUP),
    String(PROBES),
  ]);
  return JSON.parse(out.trim().split('\n').at(-1) as string) as ClientRun;
}

/** Runs benchmark 1 and returns its markdown. */
export async function probeCost(): Promise<PieceResult> {
  const server = await startFastServer();
  const url = `http://127.0.0.1:${server.port}/mcp`;
  const modes = ['floor', 'mcpwatch', 'floor-fetch', 'floor-shared'];
  const runs: Record<string, ClientRun[]> = Object.fromEntries(modes.map((m) => [m, []]));
  const wallRatio: number[] = [];
  const cpuRatio: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither side always runs first.
      const order = round % 2 ? [...modes].reverse() : modes;
      for (const mode of order) runs[mode]!.push(await runClient(mode, url));
      const f = runs.floor!.at(-1)!;
      const m = runs.mcpwatch!.at(-1)!;
      wallRatio.push(m.wallMsPerProbe / f.wallMsPerProbe);
      cpuRatio.push(m.cpuMsPerProbe / f.cpuMsPerProbe);
      process.stderr.write(
        `  round ${round + 1}/${ROUNDS}: wall ratio ${wallRatio.at(-1)!.toFixed(2)}, cpu ratio ${cpuRatio.at(-1)!.toFixed(2)}\n`,
      );
    }
  } finally {
    await server.stop();
  }
  const label: Record<string, string> = {
    floor: 'floor: undici `request()` sequence, fresh Agent per probe',
    mcpwatch: 'mcpwatch `probe()` (ProbeMemory carried, as the scheduler does)',
    'floor-fetch': 'reference: the floor sequence with undici `fetch()` (the API the MCP SDK needs), fresh Agent',
    'floor-shared': 'reference: the same sequence over one shared keep-alive Agent',
  };
  const rows = modes.map((mode) => [
    label[mode]!,
    spread(runs[mode]!.map((r) => r.wallMsPerProbe)),
    spread(runs[mode]!.map((r) => r.cpuMsPerProbe)),
    String(runs[mode]!.reduce((a, r) => a + r.failures, 0)),
  ]);
  const ratio = median(wallRatio);
  const markdown = [
    `${ROUNDS} interleaved rounds; each round runs every client in a fresh process: ${WARMUP} warm-up probes, then ${PROBES} timed probes back to back. Median (min–max) over rounds.`,
    '',
    table(
      [
        'client (initialize, initialized, tools/list, DELETE)',
        'wall ms / probe',
        'client CPU ms / probe',
        'failed probes',
      ],
      rows,
    ),
    '',
    table(
      ['ratio mcpwatch / floor (per round)', 'median (min–max)', 'goal'],
      [
        ['wall time', spread(wallRatio), `<= 1.25x: ${ratio <= 1.25 ? 'met' : 'missed'}`],
        ['client CPU', spread(cpuRatio), 'as low as possible'],
      ],
    ),
  ].join('\n');
  return { title: 'Probe cost against the floor', markdown };
}
