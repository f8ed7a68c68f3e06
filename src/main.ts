/**
 * The process: the only file that reads process.env, handles signals, or exits.
 */
import { formatIssues, loadConfigFile, parseConfig } from './config/load.js';
import { createLogger } from './log/logger.js';
import { parseListenAddress, parseSidecarArgs, SIDECAR_USAGE } from './cli/args.js';
import { runProbeCommand } from './cli/probe-command.js';
import type { startDemoServer } from './cli/demo-server.js';
import { startSidecar, VERSION, type Sidecar } from './sidecar.js';
import type { Config } from './config/schema.js';
import type { Logger } from './log/logger.js';

const SHUTDOWN_GRACE_MS = 5000;

async function main(argv: string[]): Promise<number | undefined> {
  const io = {
    out: (t: string) => process.stdout.write(t),
    err: (t: string) => process.stderr.write(t),
    env: process.env,
  };
  if (argv[0] === 'probe') return runProbeCommand(argv.slice(1), io);

  const parsed = parseSidecarArgs(argv);
  if (!parsed.ok) {
    io.err(`mcpwatch: ${parsed.error}\n\n${SIDECAR_USAGE}`);
    return 2;
  }
  const flags = parsed.value;
  if (flags.help) {
    io.out(SIDECAR_USAGE);
    return 0;
  }
  if (flags.version) {
    io.out(`mcpwatch ${VERSION} (node ${process.version})\n`);
    return 0;
  }
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat });

  const loaded = await loadInitialConfig(flags, io);
  if ('exitCode' in loaded) return loaded.exitCode;
  const { config, demo } = loaded;

  const listen = parseListenAddress(
    flags.demo && flags.listenAddress === ':9465' ? '127.0.0.1:9465' : flags.listenAddress,
  );
  if (!listen) {
    io.err(`mcpwatch: --web.listen-address: invalid address "${flags.listenAddress}" (use host:port or :port)\n`);
    return 2;
  }
  let sidecar;
  try {
    sidecar = await startSidecar({
      config,
      configFile: flags.demo ? undefined : flags.configFile,
      env: process.env,
      logger,
      listen,
      enableLifecycle: flags.enableLifecycle,
    });
  } catch (err) {
    io.err(`mcpwatch: cannot listen on ${flags.listenAddress}: ${(err as Error).message}\n`);
    await demo?.close();
    return 1;
  }
  if (demo) {
    const base = `http://${listen.host ?? '127.0.0.1'}:${sidecar.address.port}`;
    io.out(
      `\nmcpwatch demo: probing a built-in MCP server at ${demo.url} every 5s.\n\n` +
        `  status page   ${base}/\n` +
        `  metrics       curl -s ${base}/metrics | grep ^mcp_\n` +
        `  probe now     curl -s '${base}/probe?target=demo&debug=true'\n` +
        `  one-shot CLI  npx mcpwatch probe ${demo.url}\n\n` +
        `Press Ctrl+C to stop.\n\n`,
    );
  }

  handleSignals(sidecar, demo, logger);
  return undefined;
}

type Flags = Extract<ReturnType<typeof parseSidecarArgs>, { ok: true }>['value'];
type Io = { out: (t: string) => boolean; err: (t: string) => boolean };
type Demo = Awaited<ReturnType<typeof startDemoServer>>;

/** The config to start with: the demo's (with its built-in server), or the file's; or the exit code. */
async function loadInitialConfig(
  flags: Flags,
  io: Io,
): Promise<{ config: Config; demo?: Demo } | { exitCode: number }> {
  if (flags.demo) {
    // Loaded only for --demo: the MCP server SDK costs the sidecar ~5 MB RSS otherwise.
    const { startDemoServer: start } = await import('./cli/demo-server.js');
    const demo = await start(0);
    const demoConfig = {
      defaults: { interval: '5s', timeout: '3s' },
      targets: [
        {
          name: 'demo',
          url: demo.url,
          canary: { tool: 'echo', arguments: { message: 'hello from mcpwatch' }, expect_text: 'hello from mcpwatch' },
          expect: { min_tools: 1, tools: ['echo'] },
          sessions_expected_max: 20,
        },
      ],
    };
    const config = parseConfig(JSON.stringify(demoConfig), {}, 'demo').config;
    if (!config) {
      await demo.close();
      return { exitCode: 1 };
    }
    return { config, demo };
  }
  const loaded = loadConfigFile(flags.configFile as string, process.env);
  if (flags.configCheck) {
    if (loaded.config) {
      io.out(`${flags.configFile}: OK (${loaded.config.targets.length} targets)\n`);
      return { exitCode: 0 };
    }
    io.err(`${formatIssues(loaded.issues)}\n`);
    return { exitCode: 1 };
  }
  if (!loaded.config) {
    io.err(`mcpwatch: invalid config ${flags.configFile}:\n${formatIssues(loaded.issues)}\n`);
    return { exitCode: 1 };
  }
  return { config: loaded.config };
}

/** SIGTERM/SIGINT stop gracefully (forced after SHUTDOWN_GRACE_MS); SIGHUP reloads the config. */
function handleSignals(sidecar: Sidecar, demo: Demo | undefined, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    void (async () => {
      await sidecar.close();
      await demo?.close();
      logger.info('stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    void sidecar.reload();
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`mcpwatch: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
