import { table } from './measure.js';

/** One of the targets, checked against what a section measured in this run. */
export interface Finding {
  target: string;
  measured: string;
  met: boolean;
}

const findings: Finding[] = [];

export function report(finding: Finding): void {
  findings.push(finding);
}

/** The targets checked in this run (empty when no section that checks one ran). */
export function targetsMarkdown(): string | undefined {
  if (findings.length === 0) return undefined;
  return [
    '## Targets',
    '',
    table(
      ['target', 'measured in this run', 'met'],
      findings.map((f) => [f.target, f.measured, f.met ? 'yes' : '**no**']),
    ),
  ].join('\n');
}
