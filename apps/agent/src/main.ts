#!/usr/bin/env node
/**
 * netscope agent entry point: flags → collector → tick loop → HTTP + /ws.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { HeapGrowth, NativeHeap, WATCH_FROM_START_BELOW_SOCKETS, YoungGeneration, heapGrowthGiven, newSpaceSize, youngGenerationGiven } from './heap.js';
import { setTierUpBudget } from './tiering.js';
import { ConfigError, USAGE, isLoopbackHost, parseConfig, type Config } from './config.js';
import { Collector, socketsInUse } from './collect/collector.js';
import { ByteSink, writeTextSync } from './write-text.js';
import { prerender, writeSnapshotJson } from './once-json.js';
import type { AlertsConfig } from './alerts/config.js';
import { formatEndpoint } from '@netscope/shared';

declare const __AGENT_VERSION__: string;
export const AGENT_VERSION = typeof __AGENT_VERSION__ === 'string' ? __AGENT_VERSION__ : '0.0.0-dev';

function defaultWebRoot(): string {
  // dist/main.js → ../../web/dist ; src/main.ts (tsx, tests) → same relative place.
  return fileURLToPath(new URL('../../web/dist', import.meta.url));
}

function memoryFigures(native: NativeHeap): Record<string, number> {
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    /** V8's young generation, held small on a small heap (heap.ts). */
    newSpaceBytes: newSpaceSize(),
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    /** malloc_trim calls so far and the time they took (heap.ts). */
    mallocTrims: native.trims,
    mallocTrimMs: Math.round(native.trimMs * 10) / 10,
  };
}

/** `oneShot`: --once, a single cold collection with nothing kept for a next tick. */
function makeCollector(config: Config, oneShot = false): Collector {
  const collector = new Collector({
    roots: { proc: config.procRoot, sys: config.sysRoot, etc: config.etcRoot },
    intervalMs: config.intervalMs,
    owners: config.owners,
    live: config.procRoot === '/proc',
    tcpSource: config.tcpSource,
    redact: config.token === null ? [] : [config.token],
    reuse: !oneShot,
  });
  if (config.tcpSource === 'netlink' && collector.tcpFromProcReason !== null) {
    throw new ConfigError(`--tcp-source netlink: sock_diag is not usable here: ${collector.tcpFromProcReason}`);
  }
  return collector;
}

/**
 * `--token T` on our command line would show in `ps` and in our own snapshot's process list.
 * Overwrite argv (Linux: /proc/self/cmdline follows process.title) with the token masked.
 */
function maskTokenInArgv(token: string | null): void {
  if (token === null || !process.argv.some((a) => a.includes(token))) return;
  let argv: string[];
  try {
    argv = readFileSync('/proc/self/cmdline', 'utf8').replace(/\0+$/, '').split('\0');
  } catch {
    argv = [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  }
  process.title = argv.map((a) => a.split(token).join('***')).join(' ');
}

/**
 * Run in order at SIGTERM/SIGINT after clients are told and sockets closed, before exit: push a
 * hook here for anything that must reach disk (e.g. `shutdownHooks.push(() => store.flush())`).
 */
const shutdownHooks: Array<() => Promise<void> | void> = [];

async function runOnce(config: Config): Promise<void> {
  const collector = makeCollector(config, true);
  try {
    if (config.pretty) {
      // Two writes: `text + '\n'` would flatten a copy of the whole text first.
      writeTextSync(1, JSON.stringify(await collector.collect(), null, 2));
      writeTextSync(1, '\n');
    } else {
      // TCP sockets go out as JSON straight from the sock_diag records, never Socket objects (once-json.ts)
      const { snapshot, deferred } = await collector.collectOnce(prerender);
      const out = new ByteSink(1);
      writeSnapshotJson(out, snapshot, deferred);
      out.text('\n');
      out.flush();
    }
  } catch (err) {
    // `--once | head` closes the pipe early: that is the reader's choice, not an error.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
    throw err;
  }
}

async function runServer(config: Config): Promise<void> {
  if (!existsSync(config.procRoot)) {
    throw new ConfigError(`--proc-root ${config.procRoot} does not exist`);
  }
  const socketsAtStart = socketsInUse(config.procRoot);
  // On a small machine once-a-tick code stays in V8's baseline tier (tiering.ts); `--once` keeps V8's default.
  setTierUpBudget(socketsAtStart);
  // The young generation is held small on a small heap (heap.ts); `--once` keeps V8's default.
  const young = youngGenerationGiven() ? null : new YoungGeneration();
  if (socketsAtStart < WATCH_FROM_START_BELOW_SOCKETS) young?.watchScavenges();
  // Loaded here, not at start: `--once` needs none of it (express, ws, the history store).
  const [{ AlertConfigError, defaultAlertsConfig, loadAlertsConfig }, { Monitor }, { createAgentServer }, { TickLoop }] = await Promise.all([
    import('./alerts/config.js'),
    import('./alerts/monitor.js'),
    import('./server/http.js'),
    import('./collect/loop.js'),
  ]);
  let alerts: AlertsConfig;
  try {
    alerts = config.configFile ? loadAlertsConfig(config.configFile) : defaultAlertsConfig();
  } catch (err) {
    throw err instanceof AlertConfigError ? new ConfigError(err.message) : err;
  }
  // Alerts are evaluated and history recorded inside each collection, before the tick is published.
  const collector = makeCollector(config);
  const monitor = await Monitor.create(collector, { alerts, dataDir: config.dataDir, hostname: hostname() });
  shutdownHooks.push(() => monitor.close());
  const loop = new TickLoop(monitor, config.intervalMs);
  const startedAt = Date.now();
  const first = await loop.start();
  const webRoot = config.webRoot ?? defaultWebRoot();
  // The heap's growth bound follows its size (heap.ts); a growth given to node is left alone.
  const heapGrowth = heapGrowthGiven() ? null : new HeapGrowth();
  const nativeHeap = new NativeHeap();
  const agent = createAgentServer({
    config,
    agentVersion: AGENT_VERSION,
    current: () => loop.current,
    servicePorts: () => collector.servicePorts,
    released: (bytes) => heapGrowth?.released(bytes),
    webRoot,
    monitoring: monitor.api(),
    health: () => ({
      status: 'ok',
      version: AGENT_VERSION,
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      seq: loop.current?.seq ?? null,
      lastCollectAt: loop.current?.time ?? null,
      collectMs: loop.current?.collector.collectMs ?? null,
      intervalMs: config.intervalMs,
      effectiveIntervalMs: loop.effectiveMs,
      clients: agent.hub.clientCount,
      /** Backpressure at work: deltas skipped for clients past the watermark, clients dropped. */
      stream: { ...agent.hub.stats, ...agent.hub.buffered },
      sockets: loop.current?.sockets.length ?? null,
      /** The agent's own footprint (what `top` would show for it, and V8's share of it). */
      memory: memoryFigures(nativeHeap),
    }),
  });
  // The paged table marks the tick's changes first, so a page asking on this tick's delta sees them.
  loop.onTick(async (next, prev) => {
    const used = getHeapStatistics().used_heap_size; // one read for both heap policies
    heapGrowth?.observe(used);
    young?.observe(used);
    nativeHeap.afterTick();
    await agent.connections.observe(next, prev);
    return agent.hub.publish(next, prev);
  });

  // Before the "serving" line: a service manager (or a test) that stops the agent as soon as it
  // says it serves must find the handler there. Registered after that line, a SIGTERM in between
  // killed the agent without its shutdown (seen once in `pnpm test`: pnpm exit by signal, no
  // "shutting down").
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    if (!config.quiet) console.log(`netscope: ${signal}, shutting down`);
    loop.stop();
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    void agent
      .close()
      .then(async () => {
        for (const hook of shutdownHooks) await hook();
      })
      .catch((err: unknown) => console.error(`netscope: shutdown: ${(err as Error).message}`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  await new Promise<void>((resolve, reject) => {
    agent.server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`port ${config.port} on ${config.host} is already in use: pick another with --port`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ConfigError(`cannot bind ${config.host}: no such address on this machine`));
      else if (err.code === 'EACCES') reject(new ConfigError(`not allowed to bind ${config.host}:${config.port} (ports below 1024 need root)`));
      else reject(err);
    });
    agent.server.listen(config.port, config.host, () => resolve());
  });

  const address = agent.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.tlsCert ? 'https' : 'http';
  if (!config.quiet) {
    const url = `${scheme}://${formatEndpoint(config.host, port)}/`;
    console.log(`netscope ${AGENT_VERSION}: serving ${url} — ${first.sockets.length} sockets, every ${config.intervalMs} ms from ${config.procRoot}`);
    if (first.ownership.status === 'partial') console.log(`netscope: ${first.ownership.reason}`);
    if (!existsSync(webRoot)) console.log(`netscope: web app not built at ${webRoot}; the API works, the page will say how to build it`);
    if (scheme === 'http' && !isLoopbackHost(config.host)) {
      console.warn(`netscope: WARNING serving plain HTTP on ${config.host}: the token and every connection travel unencrypted. Use --tls-cert/--tls-key.`);
    }
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`netscope: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'version') {
    console.log(AGENT_VERSION);
    return;
  }
  maskTokenInArgv(parsed.config.token);
  try {
    if (parsed.config.once) await runOnce(parsed.config);
    else await runServer(parsed.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`netscope: ${err.message}`);
      process.exit(2);
    }
    console.error(`netscope: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  }
}

void main();
