// @ts-expect-error Bottleneck's light build (no Redis clustering, no Node built-ins) ships no types; it has the main build's API.
import BottleneckLight from 'bottleneck/light.js';
import type BottleneckType from 'bottleneck';

/** Bottleneck, from its light build so that the core runs in browsers and edge runtimes. */
export const Bottleneck = BottleneckLight as typeof BottleneckType;
