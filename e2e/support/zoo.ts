/** Real loopback sockets for e2e: runs the agent tests' socket zoo in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Zoo {
  pid: number;
  listen4: number;
  listen6: number;
  ports: number[];
  est4: { local: number; remote: number };
  closeWait: { local: number; remote: number };
  finWait2: { local: number; remote: number };
  timeWait: { local: number; remote: number };
  udp4: number;
  stop(): void;
}

const ZOO = fileURLToPath(new URL('../../apps/agent/test/helpers/socket-zoo.mjs', import.meta.url));

export async function startZoo(extraPairs = 0): Promise<Zoo> {
  const child: ChildProcess = spawn(process.execPath, [ZOO, String(extraPairs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const info = await new Promise<Omit<Zoo, 'stop'>>((resolve, reject) => {
    rl.once('line', (line) => resolve(JSON.parse(line) as Omit<Zoo, 'stop'>));
    child.once('exit', (code) => reject(new Error(`socket zoo exited with ${code}`)));
  });
  return {
    ...info,
    stop: () => {
      child.stdin?.end();
      if (child.exitCode === null && child.pid) child.kill('SIGTERM');
    },
  };
}
