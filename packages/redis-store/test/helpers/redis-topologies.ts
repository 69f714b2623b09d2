import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { freePort } from './redis-server.js';

// Real Redis Cluster and Sentinel set-ups from Debian's redis-server, on 127.0.0.1 ephemeral ports in
// a temp dir, with timeouts short enough that a failover takes a few seconds. Every process started
// here is killed by stop(), and by the process 'exit' hook if a test run dies before that.

const run = promisify(execFile);
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export interface Node {
  readonly port: number;
  readonly alive: boolean;
  kill(): Promise<void>;
}

async function startServer(args: string[], port: number, label: string): Promise<Node & { proc: ChildProcess }> {
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  proc.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  proc.once('exit', () => live.delete(proc));
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`${label} exited: ${output}`);
    return (await cli(port, 'PING').catch(() => '')) === 'PONG';
  }, `${label} on ${port} to start: ${output}`);
  return {
    proc,
    port,
    get alive() {
      return proc.exitCode === null && proc.signalCode === null;
    },
    kill: () => killProc(proc),
  };
}

function killProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

/** One redis-cli call (no client library in the way): its trimmed output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const base = [
  '--bind',
  '127.0.0.1',
  '--protected-mode',
  'no',
  '--save',
  '',
  '--appendonly',
  'no',
  '--loglevel',
  'warning',
];

export interface TestCluster {
  /** Every node (primaries and replicas), in creation order. */
  readonly nodes: readonly Node[];
  /** Startup nodes for `new Cluster(…)`. */
  readonly startup: { host: string; port: number }[];
  client(options?: ClusterOptions): Cluster;
  /** The port of the primary that serves `slot` now (asked of a live node). */
  primaryOf(slot: number): Promise<number>;
  slotOf(key: string): Promise<number>;
  node(port: number): Node;
  /** Moves `slot` and its keys to the primary on `toPort`, `pauseMs` between steps (so traffic meets every stage). */
  migrate(slot: number, toPort: number, pauseMs?: number): Promise<void>;
  /**
   * Until every live node answers cluster_state:ok and agrees that `slot` is served by a live primary other than
   * `deadPort`.
   */
  waitHealed(slot: number, deadPort: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A Redis Cluster: 3 primaries with a replica each (cluster-node-timeout 1 s: a replica takes over a dead primary in a
 * few seconds).
 */
export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: (Node & { proc: ChildProcess })[] = [];
  const clients = new Set<Cluster>();
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 6; i += 1) {
      const port = await freePort();
      // The bus port is given explicitly: port + 10 000 may be taken or out of range for an ephemeral port.
      const busPort = await freePort();
      const args = [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        ...base,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--dir',
        dir,
        '--cluster-node-timeout',
        '1000',
        '--cluster-replica-validity-factor',
        '0',
        '--cluster-require-full-coverage',
        'no',
      ];
      nodes.push(await startServer(args, port, 'cluster node'));
    }
    await run(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: 60_000 },
    );
    await until(async () => {
      for (const n of nodes) if (!(await cli(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
      // Every replica is attached and in sync, so a failover has a replica to promote.
      const roles = await Promise.all(nodes.map((n) => cli(n.port, 'INFO', 'replication')));
      return roles.filter((r) => r.includes('role:slave') && r.includes('master_link_status:up')).length === 3;
    }, 'cluster_state:ok on every node');
  } catch (error) {
    await stop();
    throw error;
  }
  const liveNode = () => {
    const n = nodes.find((x) => x.alive);
    if (!n) throw new Error('no live cluster node');
    return n;
  };
  const shards = async (port: number) => {
    // CLUSTER SHARDS would do on 7.0.3+; CLUSTER NODES is in every 7.x: "<id> <ip:port@bus> <flags> <master> …
    // <slots…>".
    const out = await cli(port, 'CLUSTER', 'NODES');
    return out.split('\n').map((line) => {
      const f = line.split(' ');
      return { id: f[0]!, port: Number(f[1]!.split(':')[1]!.split('@')[0]), flags: f[2]!, slots: f.slice(8) };
    });
  };
  const serves = (slots: string[], slot: number) =>
    slots.some((r) => {
      if (r.startsWith('[')) return false;
      const [a, b] = r.split('-').map(Number);
      return slot >= a! && slot <= (b ?? a!);
    });
  const primaryOf = async (slot: number) => {
    const owner = (await shards(liveNode().port)).find(
      (n) => n.flags.includes('master') && !n.flags.includes('fail') && serves(n.slots, slot),
    );
    if (!owner) throw new Error(`no primary serves slot ${slot}`);
    return owner.port;
  };
  return {
    nodes,
    startup: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    client(options = {}) {
      const c = new Cluster(
        nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
        { ...options, redisOptions: { maxRetriesPerRequest: 1, ...options.redisOptions } },
      );
      c.on('error', () => {});
      clients.add(c);
      return c;
    },
    primaryOf,
    async slotOf(key) {
      return Number(await cli(liveNode().port, 'CLUSTER', 'KEYSLOT', key));
    },
    node(port) {
      const n = nodes.find((x) => x.port === port);
      if (!n) throw new Error(`no node on ${port}`);
      return n;
    },
    async migrate(slot, toPort, pauseMs = 300) {
      const fromPort = await primaryOf(slot);
      const all = await shards(fromPort);
      const from = all.find((n) => n.port === fromPort)!;
      const to = all.find((n) => n.port === toPort)!;
      await cli(toPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
      await cli(fromPort, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
      await new Promise((r) => setTimeout(r, pauseMs));
      // One key at a time, with a pause: requests meet a slot whose keys are split between two nodes (ASK, TRYAGAIN).
      for (;;) {
        const keys = (await cli(fromPort, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '1')).split('\n').filter(Boolean);
        if (keys.length === 0) break;
        await cli(fromPort, 'MIGRATE', '127.0.0.1', String(toPort), '', '0', '5000', 'KEYS', ...keys);
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      for (const n of all.filter((x) => x.flags.includes('master') && !x.flags.includes('fail'))) {
        await cli(n.port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
      }
    },
    async waitHealed(slot, deadPort) {
      let owner = 0;
      await until(
        async () => {
          for (const n of nodes.filter((x) => x.alive)) {
            if (!(await cli(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
          }
          owner = await primaryOf(slot).catch(() => 0);
          return owner !== 0 && owner !== deadPort && nodes.find((n) => n.port === owner)!.alive;
        },
        `slot ${slot} served again after its primary died`,
        60_000,
      );
      return owner;
    },
    stop,
  };
}

export interface TestSentinel {
  readonly name: string;
  readonly primary: Node;
  readonly replica: Node;
  readonly sentinels: { host: string; port: number }[];
  /** A client that finds the primary through the sentinels. */
  client(options?: RedisOptions): Redis;
  /** The primary's port as the sentinels report it. */
  primaryPort(): Promise<number>;
  stop(): Promise<void>;
}

/** One primary, one replica and three sentinels (quorum 2, down-after 1 s, failover-timeout 3 s). */
export async function startSentinel(name = 'fleet'): Promise<TestSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const procs: (Node & { proc: ChildProcess })[] = [];
  const clients = new Set<Redis>();
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(procs.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pPort = await freePort();
    const primary = await startServer(['--port', String(pPort), ...base, '--dir', dir], pPort, 'primary');
    procs.push(primary);
    const rPort = await freePort();
    const replica = await startServer(
      ['--port', String(rPort), ...base, '--dir', dir, '--replicaof', '127.0.0.1', String(pPort)],
      rPort,
      'replica',
    );
    procs.push(replica);
    await until(
      async () => (await cli(rPort, 'INFO', 'replication')).includes('master_link_status:up'),
      'the replica to sync',
    );
    const sentinels: { host: string; port: number }[] = [];
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort();
      // Sentinel rewrites its config file: one per sentinel, in the temp dir.
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${pPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 3000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      procs.push(await startServer([conf, '--sentinel', '--loglevel', 'warning'], port, 'sentinel'));
      sentinels.push({ host: '127.0.0.1', port });
    }
    // Every sentinel knows the two others and the replica: a failover can be authorised and has a target.
    await until(async () => {
      for (const s of sentinels) {
        if (!(await cli(s.port, 'SENTINEL', 'CKQUORUM', name).catch(() => '')).startsWith('OK 3 usable')) return false;
        if (!(await cli(s.port, 'SENTINEL', 'REPLICAS', name)).includes(String(rPort))) return false;
      }
      return true;
    }, 'the sentinels to find each other and the replica');
    const primaryPort = async () => {
      for (const s of sentinels) {
        const out = await cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name).catch(() => '');
        const port = Number(out.split('\n')[1]);
        if (port > 0) return port;
      }
      throw new Error('no sentinel answered');
    };
    return {
      name,
      primary,
      replica,
      sentinels,
      client(options = {}) {
        const c = new Redis({ sentinels, name, maxRetriesPerRequest: 1, ...options });
        c.on('error', () => {});
        clients.add(c);
        return c;
      },
      primaryPort,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
