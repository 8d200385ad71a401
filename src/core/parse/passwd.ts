/** uid -> user name from passwd(5) text; unknown uids stay numeric where shown. */
export function parsePasswd(text: string | null): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2] ?? '') && !users.has(Number(f[2]))) users.set(Number(f[2]), f[0]);
  }
  return users;
}
