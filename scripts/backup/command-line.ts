import { parseArgs } from 'node:util';
import type { BackupSummary } from './sqlite-backup.ts';

export const USAGE =
  'usage: npm run backup -- <file> [--force]   (copies FERRY_DB, default data/ferry.db; ' +
  '--force replaces <file> if it exists)';

/** What `npm run backup` was asked to do. */
export interface BackupCommand {
  /** Where the copy goes ('' with `help`). */
  file: string;
  force: boolean;
  help: boolean;
}

/** The one file and the flags; throws on anything else (a typo must not back up somewhere odd). */
export function parseCommandLine(args: readonly string[]): BackupCommand {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return { file: '', force: false, help: true };
  if (positionals.length === 0) throw new Error('name the file to write the backup to');
  if (positionals.length > 1) {
    throw new Error(`one file only, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  return { file: positionals[0] as string, force: values.force ?? false, help: false };
}

/** `5.5 MiB (5,750,784 bytes)`; exact bytes alone below a KiB. */
export function describeBytes(bytes: number): string {
  let value = bytes;
  let unit = 'bytes';
  for (const next of ['KiB', 'MiB', 'GiB', 'TiB']) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return unit === 'bytes' ? exact : `${value.toFixed(1)} ${unit} (${exact})`;
}

/** The line the script prints once the copy is in place. */
export function describeSummary(summary: BackupSummary): string {
  const count = (n: number, what: string) => `${n.toLocaleString('en-US')} ${what}`;
  return (
    `backed up ${summary.source} to ${summary.destination}: ${describeBytes(summary.bytes)}, ` +
    `${count(summary.pages, 'pages')} of ${count(summary.pageSize, 'bytes')}, ` +
    `${count(summary.messages, 'messages')} in ${count(summary.rooms, 'rooms')}, ` +
    `in ${Math.round(summary.ms)} ms (quick_check ok, mode 0600)`
  );
}
