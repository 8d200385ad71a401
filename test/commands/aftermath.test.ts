import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadBaseline, runBaselineSave, runCheck, runHistory } from '../../src/commands/aftermath.js';
import { fakeIo, writableBasic } from '../helpers/io.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function setup(answer = false) {
  const { dir, roots } = writableBasic();
  dirs.push(dir);
  return { dir, roots, io: fakeIo(join(dir, 'state'), answer) };
}

const killLog = (pid: number, comm: string) =>
  `${[
    `[ 9000.000000] ${comm} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
    '[ 9000.000100] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=x,pid=1,uid=0',
    `[ 9000.000200] Out of memory: Killed process ${pid} (${comm}) total-vm:1000kB, anon-rss:900kB, file-rss:10kB, shmem-rss:0kB, UID:105 pgtables:4kB oom_score_adj:0`,
  ].join('\n')}\n`;

describe('oomtop baseline save', () => {
  it('proposes long-running daemons and saves them only when confirmed', async () => {
    const no = setup(false);
    await expect(runBaselineSave(no.roots, no.io, {})).rejects.toThrow('baseline not saved: confirm, add --yes');
    expect(no.io.text()).toContain('proposed critical processes (long-running daemons found now):');
    expect(no.io.text()).toContain('  unit ssh.service\n');
    expect(no.io.text()).toContain('  unit postgresql.service\n');
    const yes = setup(true);
    expect(await runBaselineSave(yes.roots, yes.io, {})).toBe(0);
    const b = loadBaseline(join(yes.dir, 'state'));
    expect(b.critical.map((r) => r.unit ?? r.name)).toEqual(
      expect.arrayContaining([
        'ssh.service',
        'postgresql.service',
        'app.service',
        'apache2.service',
        'redis.service',
        'batch',
      ]),
    );
    expect(readFileSync(join(yes.dir, 'state/baseline.yaml'), 'utf8')).toMatch(
      /^# oomtop baseline: the processes that must be running/,
    );
  });

  it('records named processes with what runs now, and warns about a name that matches nothing', async () => {
    const { dir, roots, io } = setup();
    expect(await runBaselineSave(roots, io, { critical: ['postgres', 'nginx'], criticalCmdline: ['-Xmx4g'] })).toBe(0);
    expect(io.text()).toContain('note: nothing matches name nginx now');
    const b = loadBaseline(join(dir, 'state'));
    expect(b.critical[0]).toMatchObject({
      name: 'postgres',
      restartUnit: 'postgresql.service',
      seen: [{ pid: 300, startTime: 500 }],
    });
    expect(b.critical[2]).toMatchObject({ cmdline: '-Xmx4g', restartUnit: 'app.service', seen: [{ pid: 301 }] });
    await expect(runBaselineSave(roots, io, { criticalCmdline: ['('] })).rejects.toThrow(
      "--critical-cmdline '(' is not a valid regular expression",
    );
  });
});

describe('oomtop check on a fixture tree and a saved log', () => {
  it('without a baseline still reports the kills since boot and the evidence (WARNING), and how to save one', () => {
    const { roots, io } = setup();
    // the fixture kernel counted 3 kills (/proc/vmstat oom_kill); the log given holds none
    expect(runCheck(roots, io, { from: '/dev/null' })).toBe(1);
    expect(io.text()).toMatch(
      /^OOMTOP WARNING - warning: 3 OOM kill\(s\) since boot \| 'oom_kills'=3;;;0 'missing_critical'=0;;;0 'critical'=0;;;0\n/,
    );
    expect(io.text()).toContain('3 kill(s) the kernel counted are not in the log');
    expect(io.text()).toContain("no baseline yet: 'oomtop baseline save' records what must be running");
  });

  it('OK (0) before, CRITICAL restart (2) after postgres is OOM-killed, with the unit to restart', async () => {
    const { dir, roots, io } = setup();
    await runBaselineSave(roots, io, { critical: ['postgres', 'sshd'] });
    const log = join(dir, 'kern.log');
    writeFileSync(log, '');
    expect(runCheck(roots, io, { from: log })).toBe(0);
    expect(io.text()).toContain('OOMTOP OK - ok: all 2 critical processes are running; no OOM kill since the baseline');
    writeFileSync(log, killLog(300, 'postgres'));
    rmSync(join(roots.procRoot, '300'), { recursive: true });
    const after = fakeIo(join(dir, 'state'));
    expect(runCheck(roots, after, { from: log })).toBe(2);
    expect(after.text()).toContain(
      'OOMTOP CRITICAL - restart: name postgres is killed by the OOM killer (kernel, 9000 s after boot, global): restart postgresql.service',
    );
    expect(after.text()).toContain('restart: systemctl restart postgresql.service');
    expect(after.text()).toMatch(/what was using the memory at the last OOM/);
    const json = fakeIo(join(dir, 'state'));
    runCheck(roots, json, { from: log, format: 'json' });
    expect(JSON.parse(json.text())).toMatchObject({
      schema: 'oomtop.check/1',
      verdict: 'restart',
      exitCode: 2,
      restart: { units: ['postgresql.service'] },
    });
    const promFile = join(dir, 'check.prom');
    expect(runCheck(roots, fakeIo(join(dir, 'state')), { from: log, format: 'prometheus', output: promFile })).toBe(2);
    const prom = readFileSync(promFile, 'utf8');
    expect(prom).toContain('oomtop_check_status 2');
    expect(prom).toContain('oomtop_check_verdict{verdict="restart"} 1');
    expect(prom).toContain('oomtop_critical_missing 1');
    expect(prom).toContain('oomtop_oom_kills_by_victim{comm="postgres"} 1');
  });

  it('history reads a saved file, in table and json', () => {
    const { dir, roots } = setup();
    const log = join(dir, 'kern.log');
    writeFileSync(log, killLog(300, 'postgres'));
    expect(runHistory(roots, { from: log }, new Date())).toMatch(
      /global +invoked by postgres[\s\S]*killed: postgres 300 uid 105/,
    );
    expect(JSON.parse(runHistory(roots, { from: log, format: 'json' }, new Date())).events).toHaveLength(1);
    expect(() => runHistory(roots, { from: join(dir, 'nope.log') }, new Date())).toThrow(
      /cannot read .*nope\.log \(ENOENT\)/,
    );
    expect(() => runHistory(roots, { source: 'carrier-pigeon' }, new Date())).toThrow(
      "unknown --source 'carrier-pigeon': use one of kmsg, dmesg, journal, file",
    );
  });
});

describe('history: kills the counters hold that the log lost', () => {
  const V2 = join(import.meta.dirname, '../fixtures/v2');
  const roots = {
    procRoot: join(V2, 'proc'),
    sysRoot: join(V2, 'sys'),
    passwdFile: join(import.meta.dirname, '../fixtures/basic/passwd'),
  };
  const killIn = (cg: string, pid: number) =>
    [
      `[ 100.000000] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
      `[ 100.000100] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=${cg},task_memcg=${cg},task=app,pid=${pid},uid=0`,
      `[ 100.000200] Memory cgroup out of memory: Killed process ${pid} (app) total-vm:8000kB, anon-rss:4000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:64kB oom_score_adj:0`,
    ].join('\n');
  it('names each memory cgroup whose counter is above the kills the log shows in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oomtop-lost-'));
    try {
      const log = join(dir, 'kern.log');
      writeFileSync(log, '');
      const none = runHistory(roots, { from: log }, new Date(Date.UTC(2026, 10, 26)));
      expect(none).toContain(
        'note: memory cgroup /system.slice/app.service counted 1 OOM kill(s) (its memory.events / memory.oom_control), the log shows 0 in it: 1 missing',
      );
      expect(none).toMatch(
        /memory cgroup \/kubepods\.slice\/.*cri-containerd-aaaaaaaa.*\.scope counted 2 OOM kill\(s\).*: 2 missing/,
      );
      writeFileSync(log, killIn('/system.slice/app.service', 4242));
      const one = runHistory(roots, { from: log }, new Date(Date.UTC(2026, 10, 26)));
      expect(one).not.toContain('/system.slice/app.service counted');
      expect(one).toContain('cri-containerd-aaaaaaaa');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('says which cgroup counters it could not read instead of counting them as no kills', () => {
    const dir = mkdtempSync(join(tmpdir(), 'oomtop-unread-'));
    try {
      const sys = join(dir, 'sys');
      mkdirSync(join(sys, 'app.slice'), { recursive: true });
      writeFileSync(join(sys, 'cgroup.controllers'), 'memory pids\n');
      writeFileSync(join(sys, 'cgroup.procs'), '');
      writeFileSync(join(sys, 'app.slice', 'memory.max'), 'max\n');
      // A counter that exists but cannot be read (a directory: EISDIR, as EACCES would be for a user).
      mkdirSync(join(sys, 'app.slice', 'memory.events'));
      const log = join(dir, 'kern.log');
      writeFileSync(log, '');
      const out = runHistory({ ...roots, sysRoot: sys }, { from: log }, new Date(Date.UTC(2026, 10, 26)));
      expect(out).toContain(
        'note: memory cgroup /app.slice: memory.events: EISDIR: its kills were not compared with the log',
      );
      // No memory hierarchy at all is no counters, not a failure.
      const bare = join(dir, 'bare');
      mkdirSync(bare);
      expect(runHistory({ ...roots, sysRoot: bare }, { from: log }, new Date())).not.toContain('note:');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("history: every killer's kills in one timeline", () => {
  const KILLERS = join(import.meta.dirname, '../fixtures/logs/killers');
  it('a saved syslog and a saved journal: each kill with its killer, time, domain and victim; --killer; forged lines said', () => {
    const { roots } = setup();
    const withJournal = { ...roots, journalPath: join(KILLERS, 'journal.json') };
    const now = new Date('2026-11-28T12:00:00Z');
    const text = runHistory(withJournal, { from: join(KILLERS, 'syslog.log') }, now);
    expect(text).toMatch(
      /^2026-11-28T05:33:20\.000Z {2}systemd-oomd {2}a cgroup systemd-oomd watches {2}SIGKILL, memory used \(8012345344\)/,
    );
    expect(text).toContain('  killed: cgroup /system.slice/build.service (3 process(es))\n');
    expect(text).toContain(
      '  earlyoom  global  SIGKILL, badness 870\n  killed: firefox 4242 (uid 1000, VmRSS 3.0 GiB, exited)\n',
    );
    expect(text).toContain('  nohang  global  SIGTERM, badness 912\n  killed: stress 5151 (uid 1000, exited)\n');
    expect(text).toContain(
      '  kubelet  global  SIGTERM, node memory pressure (memory.available)\n  killed: pod default/web-7d9f\n',
    );
    expect(text).toContain(
      'kernel  memcg /system.slice/apache2.service  invoked by apache2 (order 0, GFP_KERNEL)\n  killed: apache2 3120 uid 33 in /system.slice/apache2.service',
    );
    expect(text).toContain(
      "note: 1 line(s) claimed to be a killer's but the journal shows another sender wrote them: not counted as kills",
    );
    const only = runHistory(withJournal, { from: join(KILLERS, 'syslog.log'), killer: 'earlyoom' }, now);
    expect(only.match(/ {2}earlyoom {2}global/g)).toHaveLength(3);
    expect(only).not.toMatch(/ {2}(kernel|nohang|kubelet|systemd-oomd) {2}/);
    const json = JSON.parse(runHistory(withJournal, { from: join(KILLERS, 'syslog.log'), format: 'json' }, now)) as {
      timeline: Array<{ killer: string; wall: string }>;
      evidence: { forged: number };
    };
    expect(json.timeline.map((e) => e.killer)).toEqual([
      'systemd-oomd',
      'systemd-oomd',
      'earlyoom',
      'earlyoom',
      'kubelet',
      'kernel',
      'systemd-oomd',
      'earlyoom',
      'nohang',
      'kubelet',
    ]);
    expect(json.evidence.forged).toBe(1);
    expect(() => runHistory(withJournal, { from: join(KILLERS, 'syslog.log'), killer: 'oomd' }, now)).toThrow(
      "unknown --killer 'oomd': use one of kernel, systemd-oomd, earlyoom, nohang, kubelet",
    );
  });
});
