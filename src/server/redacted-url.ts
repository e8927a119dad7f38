/** A connection string fit for a log line: its password, if any, masked. */
export function withoutPassword(connectionString: string): string {
  const url = new URL(connectionString);
  if (url.password) url.password = '***';
  return url.toString();
}
