/**
 * Rebuilds docs/benchmarks.md from the fixed introduction and every result saved in
 * bench/results/<piece>.md (each written by `npm run bench`), so no number is typed by hand.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/proc.js';

const INTRO = `# Benchmarks

mcpwatch runs as a sidecar in every pod, so its CPU, memory and added latency are multiplied by
the fleet. These are the benchmarks in \`bench/\` and their last results on the machine named in
each section. Every comparison is a ratio measured in the same run; absolute times drift on
shared machines. Every section below is the markdown the benchmark printed (saved in
\`bench/results/\`), pasted by \`bench/write-docs.ts\`, never typed by hand.

Run them with \`npm run build && npm run bench\` (everything, about 25 minutes; capacity alone
takes 15) or
\`npm run bench -- probe-cost scrape\` (pieces whose name contains a word): probe-cost, peer,
capacity, scrape, proxy, idle. Benchmarks are not part of \`npm test\`.

The fixture server is \`bench/fixtures/fast-mcp-server.mjs\`: a hand-written JSON MCP server
(protocol 2025-06-18, \`Mcp-Session-Id\`, one tool, no SDK), in its own process, so the client's
cost dominates what is measured. The proxy benchmark also runs against
\`bench/fixtures/sdk-mcp-server.mjs\`, a server built with the official SDK, for what a typical
server costs per request.
`;

/** Writes docs/benchmarks.md from INTRO, `notes` and the saved results of `pieces`, in order. */
export function writeDocs(pieces: readonly string[]): void {
  const parts = [INTRO];
  const notesFile = join(ROOT, 'bench', 'notes.md');
  for (const name of pieces) {
    const file = join(ROOT, 'bench', 'results', `${name}.md`);
    parts.push(
      existsSync(file) ? readFileSync(file, 'utf8') : `## ${name}\n\nNot run yet: \`npm run bench -- ${name}\`.\n`,
    );
  }
  if (existsSync(notesFile)) parts.push(readFileSync(notesFile, 'utf8'));
  writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), parts.join('\n'));
}
