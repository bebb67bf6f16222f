// The socket generator: N real loopback TCP pairs spread over worker processes (each under the fd
// limit), several listener ports per worker and one 127.x source address per worker (each source
// address has its own ephemeral-port pool), plus TIME_WAIT / CLOSE_WAIT / LISTEN / UDP extras.
// Every worker is ended by its own pid; nothing else is touched.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./gen-worker.mjs', import.meta.url));
export const PAIRS_PER_WORKER = 8000;
const LISTENERS_PER_WORKER = 4;
const READY_TIMEOUT_MS = 180_000;

/** Every worker ever started, so the runner's exit handlers can end them by pid. */
export const liveWorkers = new Set();

function startWorker(args) {
  const child = spawn(process.execPath, [WORKER, ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
  liveWorkers.add(child);
  child.once('exit', () => liveWorkers.delete(child));
  const lines = createInterface({ input: child.stdout });
  const messages = [];
  const waiters = [];
  lines.on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    messages.push(msg);
    waiters.splice(0).forEach((w) => w());
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${child.pid} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    const check = () => {
      const m = messages.find((x) => x.ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      } else waiters.push(check);
    };
    check();
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${child.pid} exited with ${code} before ready`));
    });
  });
  return { child, ready, messages };
}

export function stopWorker(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      clearTimeout(force);
      resolve();
    }
  });
}

/** Synchronous last resort for exit handlers. */
export function killAllWorkersSync() {
  for (const child of liveWorkers) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Start `pairs` pairs. `subnet` (1-254) picks the 127.<subnet>.x.y source addresses, so a later
 * scale never competes with the previous scale's lingering TIME_WAIT ports.
 */
export async function generate(pairs, subnet) {
  const workers = [];
  const nWorkers = Math.ceil(pairs / PAIRS_PER_WORKER);
  // Extras: ~1% TIME_WAIT, 0.5% CLOSE_WAIT (+ FIN_WAIT2 peers), 0.5% UDP, bounded.
  const tw = Math.min(3000, Math.max(20, Math.round(pairs * 0.01)));
  const cw = Math.min(3000, Math.max(10, Math.round(pairs * 0.005)));
  const udp = Math.min(3000, Math.max(10, Math.round(pairs * 0.005)));
  try {
    workers.push(startWorker(['extras', tw, cw, udp, `127.${subnet}.0.2`]));
    for (let i = 0; i < nWorkers; i++) {
      const n = Math.min(PAIRS_PER_WORKER, pairs - i * PAIRS_PER_WORKER);
      const ports = Array.from({ length: LISTENERS_PER_WORKER }, () => 0).join(',');
      workers.push(startWorker(['pairs', n, `127.${subnet}.${1 + i}.10`, ports]));
      // start workers two at a time: two cores
      if (i % 2 === 1) await workers[workers.length - 1].ready;
    }
    const ready = await Promise.all(workers.map((w) => w.ready));
    const held = ready.filter((r) => r.mode === 'pairs').reduce((a, r) => a + r.pairs, 0);
    if (held < pairs) throw new Error(`only ${held} of ${pairs} pairs opened`);
    return {
      pairs: held,
      extras: { timeWait: tw, closeWait: cw, udp },
      /** When every worker was ready: the setup's TIME_WAITs (and the last scale's) are gone 60 s later. */
      readyAt: Date.now(),
      pids: workers.map((w) => w.child.pid),
      /** Close and reopen `perSecond` pairs every second, spread over the workers, until stopped. */
      churn(perSecond) {
        const pw = workers.filter((w) => w.ready && w !== workers[0]);
        let credit = 0;
        const timer = setInterval(() => {
          credit += perSecond;
          const each = Math.floor(credit / pw.length);
          const extra = Math.round(credit - each * pw.length);
          pw.forEach((w, i) => {
            const k = each + (i < extra ? 1 : 0);
            if (k > 0) w.child.stdin.write(`churn ${k}\n`);
          });
          credit = 0;
        }, 1000);
        return () => clearInterval(timer);
      },
      async stop() {
        await Promise.all(workers.map((w) => stopWorker(w.child)));
      },
    };
  } catch (err) {
    await Promise.all(workers.map((w) => stopWorker(w.child)));
    throw err;
  }
}
