// The errno code of a failed system call ('ENOENT', 'EACCES', ...), whatever was thrown:
// the one place that looks inside a Node error ('EIO' when it carries no code).
export function errnoCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}
