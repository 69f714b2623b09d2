import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';

/** A private redis-server on a free loopback port, for one test file. */
export interface TestRedis {
  readonly port: number;
  /** A client; closed by `stop()`. */
  client(options?: RedisOptions): Redis;
  /** Stops the server (SIGTERM, nothing saved) and starts it again on the same port, empty. */
  restart(downMs?: number): Promise<void>;
  /** Kills the server; `start()` brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Closes every client made here and stops the server. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const clients = new Set<Redis>();
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on('error', () => {});
    try {
      for (let i = 0; ; i += 1) {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch {
          probe.disconnect();
          if (i > 200) throw new Error(`redis-server did not start on ${port}: ${output}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    } finally {
      probe.disconnect();
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };

  await start();
  return {
    port,
    client(options = {}) {
      const c = new Redis({ port, host: '127.0.0.1', ...options });
      c.on('error', () => {});
      clients.add(c);
      return c;
    },
    async restart(downMs = 0) {
      await kill('SIGKILL');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    kill: () => kill('SIGKILL'),
    start,
    async stop() {
      for (const c of clients) c.disconnect();
      clients.clear();
      await kill('SIGTERM');
    },
  };
}
