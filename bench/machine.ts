import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { CHROMIUM_PATH, chromiumAvailable } from '../test/support/chromium-binary.ts';

/** The machine a run was made on; ratios compare runs, absolute figures only on one machine. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGB: number;
  os: string;
  node: string;
  chromium: string | null;
  /** 1-minute load average when the run started: other work on the machine skews figures. */
  loadAverageAtStart: number;
}

function chromiumVersion(): string | null {
  if (!chromiumAvailable()) return null;
  try {
    const output = execFileSync(CHROMIUM_PATH, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return output.trim().split('\n').at(-1) ?? null;
  } catch {
    return null;
  }
}

export function describeMachine(): Machine {
  const processors = cpus();
  return {
    cpu: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    chromium: chromiumVersion(),
    loadAverageAtStart: loadAverage(),
  };
}

/** The 1-minute load average now. */
export function loadAverage(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/** One line for the table header. */
export function machineLine(machine: Machine): string {
  const chromium = machine.chromium ? `, ${machine.chromium}` : '';
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, ${machine.os}, Node ${machine.node}${chromium}; load ${machine.loadAverageAtStart} at start`;
}
