// Parser for /proc/PID/status (fs/proc/array.c, proc_pid_status() and task_mem()).
// Vm* lines are printed only when the task has an mm: their absence means "no mm".

export interface StatusFields {
  name: string | null;
  uid: number | null;
  swapKb: number | null;
  pteKb: number | null;
  rssAnonKb: number | null;
  rssFileKb: number | null;
  rssShmemKb: number | null;
  threads: number | null;
  hasMm: boolean;
  capEff: bigint | null;
}

function kb(value: string): number | null {
  const m = /^\s*(\d+)\s*kB\s*$/.exec(value);
  return m ? Number(m[1]) : null;
}

function int(value: string): number | null {
  const m = /^\s*(-?\d+)/.exec(value);
  return m ? Number(m[1]) : null;
}

/** Never throws: a malformed line leaves its field null (unknown). */
export function parseStatus(text: string): StatusFields {
  const out: StatusFields = {
    name: null, uid: null, swapKb: null, pteKb: null, rssAnonKb: null, rssFileKb: null,
    rssShmemKb: null, threads: null, hasMm: false, capEff: null,
  };
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) {
      const key = text.slice(start, colon);
      const value = text.slice(colon + 1, end);
      switch (key) {
        case 'Name': out.name = value.trim(); break;
        case 'Uid': out.uid = int(value); break;
        case 'VmSize': out.hasMm = true; break;
        case 'VmSwap': out.swapKb = kb(value); break;
        case 'VmPTE': out.pteKb = kb(value); break;
        case 'RssAnon': out.rssAnonKb = kb(value); break;
        case 'RssFile': out.rssFileKb = kb(value); break;
        case 'RssShmem': out.rssShmemKb = kb(value); break;
        case 'Threads': out.threads = int(value); break;
        case 'CapEff': {
          const hex = value.trim();
          out.capEff = /^[0-9a-fA-F]+$/.test(hex) ? BigInt('0x' + hex) : null;
          break;
        }
      }
    }
    start = end + 1;
  }
  return out;
}

/** CAP_SYS_RESOURCE is capability bit 24 (include/uapi/linux/capability.h). */
export const CAP_SYS_RESOURCE = 24n;

export function hasCapSysResource(capEff: bigint | null): boolean | null {
  if (capEff === null) return null;
  return ((capEff >> CAP_SYS_RESOURCE) & 1n) === 1n;
}
