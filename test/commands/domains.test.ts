// cgroup v2 memory semantics on fixture /sys trees (these machines have no v2 memory
// controller): limits, swap.max, oom.group, nested domains, scan order, Kubernetes paths.
import { cgroupNode } from '../helpers/sample.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSize, resolveDomain, runDomains, runSimulate } from '../../src/commands/domains.js';
import { runSnapshot } from '../../src/commands/snapshot.js';
import { containerInfo, memcgTotalPages } from '../../src/core/memcg.js';
import type { Simulation } from '../../src/core/simulate.js';
import type { Snapshot } from '../../src/core/snapshot.js';
import { readCgroupTree } from '../../src/system/cgroupfs.js';
import { Sampler } from '../../src/system/sampler.js';
import { CID_A, POD_UID, V2_PATHS } from '../fixtures/scenarios.js';

const FIX = join(import.meta.dirname, '../fixtures/v2');
const roots = {
  procRoot: join(FIX, 'proc'),
  sysRoot: join(FIX, 'sys'),
  passwdFile: join(import.meta.dirname, '../fixtures/basic/passwd'),
};
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const sim = (o: Parameters<typeof runSimulate>[1]) =>
  JSON.parse(runSimulate(roots, { ...o, format: 'json' }, NOW)) as Simulation & { schema: string };
const node = cgroupNode;

describe('mem_cgroup_get_max()', () => {
  const MiB = 1024 * 1024;
  it('adds the swap allowance: v2 swap.max, v1 memsw - limit, at most the swap there is', () => {
    expect(memcgTotalPages(node({ limitBytes: 100 * MiB, swapMaxBytes: 0 }), 250_000, 4096, 60)).toBe(25_600);
    expect(memcgTotalPages(node({ limitBytes: 100 * MiB, swapMaxBytes: 8 * MiB }), 250_000, 4096, 60)).toBe(
      25_600 + 2048,
    );
    expect(memcgTotalPages(node({ limitBytes: 100 * MiB, swapMaxBytes: null }), 250_000, 4096, 60)).toBe(
      25_600 + 250_000,
    );
    expect(memcgTotalPages(node({ limitBytes: 100 * MiB, swapMaxBytes: null }), 250_000, 4096, 0)).toBe(25_600);
    expect(
      memcgTotalPages(node({ version: 1, limitBytes: 100 * MiB, memswLimitBytes: 120 * MiB }), 250_000, 4096, 60),
    ).toBe(25_600 + 5120);
    expect(
      memcgTotalPages(
        node({ version: 1, limitBytes: 100 * MiB, memswLimitBytes: null, swappiness: 0 }),
        250_000,
        4096,
        60,
      ),
    ).toBe(25_600);
    expect(memcgTotalPages(node({ version: 1, limitBytes: 200 * MiB, memswLimitBytes: null }), 0, 4096, 60)).toBe(
      51_200,
    );
    expect(memcgTotalPages(node({ limitBytes: null }), 0, 4096, 60)).toBeNull();
  });
});

describe('the v2 fixture hierarchy', () => {
  it('finds the v2 memory controller and reads limits, oom.group and events', () => {
    const { hierarchy, root } = readCgroupTree(roots.sysRoot, V2_PATHS.ctrA);
    expect(hierarchy.version).toBe(2);
    expect(root).toMatchObject({
      path: V2_PATHS.ctrA,
      limitBytes: 300 * 1024 * 1024,
      swapMaxBytes: 64 * 1024 * 1024,
      oomGroup: true,
      oomEvents: 1,
      oomKills: 2,
      oomGroupKills: 1,
      procs: [421, 422, 423],
    });
  });

  it('ranks inside a domain with its own totalpages and the cgroup.procs scan order', () => {
    const sample = new Sampler(roots.procRoot).sample(NOW);
    const ctx = resolveDomain(roots, sample, V2_PATHS.batch);
    // 100 MiB limit + all 250,000 swap pages (swap.max unset = max)
    expect(ctx.domain).toEqual({ kind: 'memcg', path: V2_PATHS.batch, cgroupVersion: 2, totalPages: 25_600 + 250_000 });
    expect(ctx.sample.processes.map((p) => p.pid).sort()).toEqual([440, 441]);
    // identical badness: 440 is listed after 441 in cgroup.procs, so the kernel scans it later and picks it
    expect(sim({ cgroup: V2_PATHS.batch }).sequence.map((s) => s.pid)).toEqual([440, 441]);
  });

  it('kills the whole highest oom.group with the victim, except adj -1000', () => {
    const s = sim({ cgroup: V2_PATHS.pod });
    expect(s.domain).toMatchObject({ kind: 'memcg', path: V2_PATHS.pod, totalPages: 131_072 + 250_000 });
    expect(s.sequence[0]).toMatchObject({ step: 1, pid: 430, alsoKilled: [], oomGroup: null });
    // nginx-worker is the next victim; its container has memory.oom.group=1: nginx dies too, the -1000 sidecar does not
    expect(s.sequence[1]).toMatchObject({ step: 2, pid: 422, alsoKilled: [421], oomGroup: V2_PATHS.ctrA });
    expect(s.sequence[1]!.freedPages).toBe(20_000 + 30_000 + 24);
    expect(s.sequence.map((x) => x.pid)).toEqual([430, 422, 420]);
    expect(s.end).toBe('no killable process is left in the domain');
  });

  it('a nested domain (the container) weighs adj by its own limit', () => {
    const s = sim({ cgroup: V2_PATHS.ctrA });
    // 300 MiB + swap.max 64 MiB: 76,800 + 16,384
    expect(s.domain.totalPages).toBe(93_184);
    expect(s.sequence[0]).toMatchObject({ pid: 422, alsoKilled: [421] });
  });

  it('stops once enough is freed, and applies what-if adj values first', () => {
    const s = sim({ cgroup: V2_PATHS.app, free: '300M' });
    expect(s.sequence.map((x) => x.pid)).toEqual([401, 400]);
    expect(sim({ cgroup: V2_PATHS.app, free: '100M' }).sequence.map((x) => x.pid)).toEqual([401]);
    expect(sim({ cgroup: V2_PATHS.app, free: '100M', adj: ['401=-500'] }).sequence.map((x) => x.pid)).toEqual([400]);
    expect(() => runSimulate(roots, { adj: ['9999=5'] }, NOW)).toThrow('--adj names pid 9999, which is not running');
    expect(() => runSimulate(roots, { adj: ['401=0x10'] }, NOW)).toThrow('--adj must be a plain decimal integer');
    expect(() => runSimulate(roots, { cgroup: '/nope' }, NOW)).toThrow(
      /no cgroup \/nope in the memory hierarchy at .* \(cgroup v2\)/,
    );
    expect(() => runSimulate(roots, { free: 'lots' }, NOW)).toThrow('--free takes a size like 200M');
  });

  it('reports what the sysctls change', () => {
    const g = sim({});
    expect(g.domain).toMatchObject({ kind: 'global', totalPages: 1_250_000 });
    expect(g.notes).toEqual([]);
  });

  it('snapshot --cgroup ranks in that domain and says which', () => {
    const s = JSON.parse(runSnapshot(roots, { format: 'json', cgroup: V2_PATHS.app, isTTY: false }, NOW)) as Snapshot;
    expect(s.domain).toEqual({ kind: 'memcg', path: V2_PATHS.app, cgroupVersion: 2, totalPages: 262_144 });
    expect(s.processes.map((p) => [p.pid, p.rank, p.badnessPages])).toEqual([
      [401, 1, 60_000 + 12 + 200 * 262],
      [400, 2, 100_012],
    ]);
  });

  it("snapshot --cgroup as a table: SCORE is the kernel's formula over the limit, not /proc's", () => {
    const json = JSON.parse(
      runSnapshot(roots, { format: 'json', cgroup: V2_PATHS.app, isTTY: false }, NOW),
    ) as Snapshot;
    const table = runSnapshot(roots, { format: 'table', cgroup: V2_PATHS.app, isTTY: false }, NOW).split('\n');
    const head = table.find((l) => /^\s*#\s+PID\b/.test(l)) as string;
    const at = (title: string) => head.indexOf(title) + title.length;
    for (const p of json.processes) {
      const row = table.find((l) => new RegExp(`^\\s*${p.rank}\\s+${p.pid} `).test(l)) as string;
      // 5.9+: (badness * 1000 / totalpages + 1000) * 2 / 3 over the domain's totalpages, as the
      // kernel ranks inside it; /proc's oom_score (and PRED) are over RAM + swap
      const inDomain = Math.trunc(((Math.trunc(((p.badnessPages as number) * 1000) / 262_144) + 1000) * 2) / 3);
      expect(row.slice(0, at('SCORE')).trim().split(/\s+/).at(-1)).toBe(String(inDomain));
      expect(inDomain).not.toBe(p.oomScore);
      expect(inDomain).not.toBe(p.predictedOomScore);
    }
  });

  it('lists every domain, tightest headroom first, with counters and the first victim', () => {
    const out = runDomains(roots, { format: 'json' }, NOW);
    const d = JSON.parse(out) as {
      domains: Array<{
        path: string;
        headroomBytes: number;
        firstVictim: { pid: number } | null;
        oomKills: number | null;
        candidates: number;
      }>;
    };
    expect(d.domains.map((x) => x.path)).toEqual([
      V2_PATHS.batch,
      V2_PATHS.ctrA,
      V2_PATHS.pod,
      V2_PATHS.pg,
      V2_PATHS.app,
      'global',
    ]);
    expect(d.domains[0]).toMatchObject({ headroomBytes: 5 * 1024 * 1024, firstVictim: { pid: 440 }, candidates: 2 });
    expect(d.domains.find((x) => x.path === V2_PATHS.app)).toMatchObject({ oomKills: 1, firstVictim: { pid: 401 } });
    const table = runDomains(roots, {}, NOW);
    expect(table).toMatch(
      /…containerd-aaaaaaaa0123….scope v2 oom\.group +300 MiB +220 MiB +80 MiB +2 +1 +2 +nginx-worker 422/,
    );
  });
});

describe('Kubernetes and container paths', () => {
  it('reads pod UID, QoS class and container id', () => {
    expect(containerInfo(V2_PATHS.ctrA)).toEqual({
      podUid: POD_UID,
      qosClass: 'burstable',
      containerId: CID_A.slice(0, 12),
      runtime: 'containerd',
    });
    expect(containerInfo(`/kubepods/besteffort/pod${POD_UID}/${CID_A}`)).toEqual({
      podUid: POD_UID,
      qosClass: 'besteffort',
      containerId: CID_A.slice(0, 12),
      runtime: 'cri',
    });
    expect(
      containerInfo(`/kubepods.slice/kubepods-pod${POD_UID.replace(/-/g, '_')}.slice/crio-${CID_A}.scope`),
    ).toMatchObject({ qosClass: 'guaranteed', runtime: 'crio' });
    expect(containerInfo(`/system.slice/docker-${CID_A}.scope`)).toEqual({
      podUid: null,
      qosClass: null,
      containerId: CID_A.slice(0, 12),
      runtime: 'docker',
    });
    expect(containerInfo('/system.slice/nginx.service')).toEqual({
      podUid: null,
      qosClass: null,
      containerId: null,
      runtime: null,
    });
  });

  it('parses sizes', () => {
    expect(parseSize('200M', 4096)).toBe(51_200);
    expect(parseSize('1.5GiB', 4096)).toBe(393_216);
    expect(parseSize('4096', 4096)).toBe(1);
    expect(parseSize('512p', 4096)).toBe(512);
  });
});
