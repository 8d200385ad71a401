import type { CgroupNode } from '../../src/core/memcg.js';
import type { ProcSample } from '../../src/core/types.js';

/** A ProcSample with ordinary defaults, for pure-core tests. */
export function proc(over: Partial<ProcSample> & { pid: number }): ProcSample {
  return {
    comm: `p${over.pid}`,
    state: 'S',
    ppid: 1,
    flags: 0x400100,
    startTime: over.pid,
    rssPages: 0,
    vsizeBytes: 4096,
    uid: 0,
    swapKb: 0,
    pteKb: 0,
    pmdKb: null,
    capSysAdmin: false,
    rssAnonKb: 0,
    rssFileKb: 0,
    rssShmemKb: 0,
    threads: 1,
    hasMm: true,
    oomScore: null,
    oomScoreAdj: 0,
    cmdline: '',
    cgroup: '/',
    cgroupV2: '/',
    cgroupV1Memory: null,
    cgroupSystemd: null,
    unreadable: [],
    ...over,
  };
}

/** A cgroup node with no limit, no procs and no children, for pure-core tests. */
export function cgroupNode(o: Partial<CgroupNode>): CgroupNode {
  return {
    path: '/x',
    version: 2,
    limitBytes: null,
    swapMaxBytes: null,
    memswLimitBytes: null,
    usageBytes: null,
    swappiness: null,
    oomGroup: false,
    oomKillDisable: false,
    underOom: false,
    oomEvents: null,
    oomKills: null,
    oomGroupKills: null,
    procs: [],
    children: [],
    ...o,
  };
}
