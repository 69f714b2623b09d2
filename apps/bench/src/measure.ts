/**
 * Side-by-side timing: the candidates run in alternating rounds in the same process, so machine
 * noise hits all of them alike, and what is reported are per-round medians and their ratio.
 */
export interface Candidate {
  name: string;
  /** Runs `n` operations. */
  run(n: number): Promise<void>;
}

export interface Measured {
  name: string;
  /** Median ns per operation over the rounds. */
  nsPerOp: number;
  opsPerSec: number;
  /** 99th percentile of per-round ns/op (with many rounds: the noisy tail). */
  p99NsPerOp: number;
}

export async function sideBySide(
  candidates: Candidate[],
  opts: { opsPerRound: number; rounds: number; warmupRounds?: number },
): Promise<Measured[]> {
  const samples = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  for (let r = 0; r < (opts.warmupRounds ?? 3); r += 1) for (const c of candidates) await c.run(opts.opsPerRound);
  for (let r = 0; r < opts.rounds; r += 1) {
    // Rotate the order every round so no candidate always runs first (after a GC, say).
    const order = candidates.map((_, i) => candidates[(i + r) % candidates.length]!);
    for (const c of order) {
      const t0 = process.hrtime.bigint();
      await c.run(opts.opsPerRound);
      samples.get(c.name)!.push(Number(process.hrtime.bigint() - t0) / opts.opsPerRound);
    }
  }
  return candidates.map((c) => {
    const s = samples.get(c.name)!.sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    return { name: c.name, nsPerOp: median, opsPerSec: 1e9 / median, p99NsPerOp: quantile(s, 0.99) };
  });
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) => (typeof v === 'number' ? formatNumber(v) : v);
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export interface LatencyCandidate {
  name: string;
  /** One operation (one request). */
  once(): Promise<unknown>;
}

export interface LatencyMeasured extends Measured {
  /** Median and 99th percentile of single-operation latencies (ns), pooled over the latency rounds. */
  p50Ns: number;
  p99Ns: number;
  /**
   * Median over the throughput rounds of this candidate's ns/op divided by the baseline's (the first
   * candidate's) in the same rotation: each round is compared with its neighbour in time, so the
   * machine's drift (another process, a frequency change) cancels out.
   */
  pairedRatio: number;
  /** Median over the throughput rounds of this candidate's ns/op minus the baseline's, paired the same way. */
  addedNs: number;
  /** ns/op of each throughput round, in order: round `r` of every candidate ran in the same rotation. */
  roundNs: number[];
}

/** The share of throughput rounds in which `a` was faster than `b` (rounds of the same rotation). */
export function winShare(a: LatencyMeasured, b: LatencyMeasured): number {
  const n = Math.min(a.roundNs.length, b.roundNs.length);
  let wins = 0;
  for (let r = 0; r < n; r += 1) if (a.roundNs[r]! < b.roundNs[r]!) wins += 1;
  return n === 0 ? Number.NaN : wins / n;
}

/**
 * Like {@link sideBySide}, for operations worth timing one by one (requests). Rounds alternate
 * between throughput rounds (timed as a whole, no timer inside the loop: ns/op, the paired ratios)
 * and latency rounds (every operation timed: p50 and p99). Rounds are short and many, and the
 * candidates rotate their order every pair of rounds, so noise hits all of them alike; the first
 * candidate is the baseline the others are paired with.
 */
export async function sideBySideLatency(
  candidates: LatencyCandidate[],
  opts: { opsPerRound: number; rounds: number; warmupRounds?: number },
): Promise<LatencyMeasured[]> {
  const rounds: number[][] = candidates.map(() => []);
  const singles = candidates.map(() => new Float64Array(opts.rounds * opts.opsPerRound));
  const filled = candidates.map(() => 0);
  for (let r = 0; r < (opts.warmupRounds ?? 10); r += 1)
    for (const c of candidates) for (let i = 0; i < opts.opsPerRound; i += 1) await c.once();
  for (let r = 0; r < opts.rounds * 2; r += 1) {
    // Rotate per pair of rounds (one throughput, one latency), so each kind of round sees every order:
    // rotating by `r` gave an even number of candidates only half the orders in each kind.
    const turn = Math.floor(r / 2);
    for (let k = 0; k < candidates.length; k += 1) {
      const j = (k + turn) % candidates.length;
      const c = candidates[j]!;
      if (r % 2 === 0) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < opts.opsPerRound; i += 1) await c.once();
        rounds[j]!.push(Number(process.hrtime.bigint() - t0) / opts.opsPerRound);
      } else {
        const out = singles[j]!;
        let n = filled[j]!;
        for (let i = 0; i < opts.opsPerRound; i += 1) {
          const t0 = process.hrtime.bigint();
          await c.once();
          out[n++] = Number(process.hrtime.bigint() - t0);
        }
        filled[j] = n;
      }
    }
  }
  const base = rounds[0]!;
  return candidates.map((c, j) => {
    const own = rounds[j]!;
    const s = [...own].sort((a, b) => a - b);
    const lat = Array.from(singles[j]!.subarray(0, filled[j]!)).sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    const paired = own.map((v, r) => v / base[r]!).sort((a, b) => a - b);
    const added = own.map((v, r) => v - base[r]!).sort((a, b) => a - b);
    return {
      name: c.name,
      nsPerOp: median,
      opsPerSec: 1e9 / median,
      p99NsPerOp: quantile(s, 0.99),
      p50Ns: quantile(lat, 0.5),
      p99Ns: quantile(lat, 0.99),
      pairedRatio: quantile(paired, 0.5),
      addedNs: quantile(added, 0.5),
      roundNs: own,
    };
  });
}

/** `1.07×` */
export function ratio(value: number, base: number): string {
  return `${(value / base).toFixed(2)}×`;
}
