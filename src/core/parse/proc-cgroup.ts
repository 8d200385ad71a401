// Parser for /proc/PID/cgroup (kernel/cgroup/cgroup.c, proc_cgroup_show()):
// "hierarchy-ID:controller-list:path" per line; v2 is "0::path".

export interface ProcCgroups {
  v2: string | null;
  v1Memory: string | null;
  systemd: string | null;
}

export function parseProcCgroup(text: string): ProcCgroups {
  const out: ProcCgroups = { v2: null, v1Memory: null, systemd: null };
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (line.slice(0, first) === '0' && controllers === '') out.v2 = path;
    else if (controllers.split(',').includes('memory')) out.v1Memory = path;
    else if (controllers === 'name=systemd') out.systemd = path;
  }
  return out;
}

/** The systemd unit a cgroup path belongs to: the last *.service or *.scope component. */
export function systemdUnit(path: string | null): string | null {
  if (!path) return null;
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i] ?? '';
    if (/\.(service|scope|socket|mount|swap)$/.test(p)) return p;
  }
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i] ?? '';
    if (p.endsWith('.slice')) return p;
  }
  return null;
}
