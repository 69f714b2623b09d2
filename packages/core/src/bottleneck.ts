import type BottleneckType from 'bottleneck';

let loading: Promise<typeof BottleneckType> | undefined;

/**
 * Bottleneck's light build (no Redis clustering, no Node built-ins, so it runs in browsers and edge
 * runtimes), loaded on first use: a browser app's bundler puts it in a chunk of its own, fetched
 * only once something is paced, instead of in the bundle every page loads.
 */
export function loadBottleneck(): Promise<typeof BottleneckType> {
  // @ts-expect-error the light build ships no types; it has the main build's API.
  return (loading ??= import('bottleneck/light.js').then(
    (m: { default?: typeof BottleneckType }) => (m.default ?? m) as typeof BottleneckType,
  ));
}
