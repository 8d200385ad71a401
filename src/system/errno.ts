// The errno code of a failed system call ('ENOENT', 'EACCES', ...), whatever was thrown.
export function errnoCode(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}
