// Hostile names through every output format and command: process names, command lines,
// cgroup names, user names and kernel log text hold C0 and C1 controls, ESC sequences, bidi
// overrides, invalid UTF-8, wide characters, 100 KB command lines, ')' and newlines. Every
// text oomtop prints must be valid UTF-8 with no control character but newline and tab.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globalContext } from '../src/core/domains.js';
import { Sampler } from '../src/system/sampler.js';
import { DashboardApp } from '../src/tui/app.js';
import { loadUsers } from '../src/system/env.js';
import { writeCgroupV2Tree, writeProcTree, type FixtureProc } from './helpers/proc-tree.js';
import { fakeTerminal } from './helpers/terminal.js';

const CLI = join(import.meta.dirname, '../dist/bin/oomtop.js');
const dir = mkdtempSync(join(tmpdir(), 'oomtop-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ESC_SEQ = '\x1b[31mred\x1b[0m';
const OSC = '\x1b]0;pwned\x07';
const C1 = '\u009b2J\u0085';
const BIDI = 'evil\u202egpj.exe\u2066';
const NASTY = [ESC_SEQ, OSC, C1, BIDI, '日本語ab', 'a) R 1 (b\nc', 'bell\x07bs\x08del\x7f', 'tab\there'];
/** Bytes that are not UTF-8: written raw into comm, cmdline, cgroup and the log. */
const BAD_UTF8 = Buffer.from([0x66, 0xff, 0xfe, 0x9b, 0xc3, 0x28, 0xe2, 0x82]);

const proc = join(dir, 'proc');
const sys = join(dir, 'sys');
const passwd = join(dir, 'passwd');
const log = join(dir, 'kern.log');
const state = join(dir, 'state');

const cg = (i: number) =>
  `/hostile.slice/${['svc\x1b[2J', `u${OSC}`, 'c\u009bx', 'bidi\u202e', '日本語', 'nl\nx', 'b\x07', 'tab\tx'][i % 8]}.service`;
const procs: FixtureProc[] = [
  { pid: 1, comm: 'systemd', rssPages: 3000, startTime: 10 },
  ...NASTY.map((name, i) => ({
    pid: 400 + i,
    comm: name,
    uid: 2000 + (i % 3),
    rssPages: 10_000 * (i + 1),
    startTime: 5000 + i,
    adj: i === 2 ? -500 : 0,
    cmdline: [`/usr/bin/${name}`, `--x=${name}`, ...(i === 0 ? [`${ESC_SEQ}${'A'.repeat(100_000)}\n\x1b[2J`] : [])],
    cgroup: cg(i),
  })),
];
// The killers, with hostile argv and config: what `oomtop killers` prints comes from them.
const KILLER_PROCS: FixtureProc[] = [
  {
    pid: 430,
    comm: 'earlyoom',
    rssPages: 300,
    startTime: 7000,
    cmdline: ['/usr/bin/earlyoom', '-m', '5', '--avoid', `^${ESC_SEQ}$`, `--prefer=${OSC}`, `-x${C1}`],
  },
  {
    pid: 431,
    comm: 'nohang',
    rssPages: 400,
    startTime: 7001,
    cmdline: ['/usr/bin/python3', '/usr/sbin/nohang', '--monitor', '-c', '/etc/nohang/nohang.conf'],
  },
  { pid: 432, comm: 'systemd-oomd', rssPages: 300, startTime: 7002, cmdline: ['/usr/lib/systemd/systemd-oomd'] },
  {
    pid: 433,
    comm: 'kubelet',
    rssPages: 300,
    startTime: 7003,
    cmdline: ['/usr/bin/kubelet', `--config=/var/lib/kubelet/${ESC_SEQ}.yaml`],
  },
];
const etcFile = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, 'etc', path)), { recursive: true });
  writeFileSync(join(dir, 'etc', path), text);
};
etcFile(
  'nohang/nohang.conf',
  `soft_threshold_min_mem = 5 ${ESC_SEQ}\n@BADNESS_ADJ_RE_NAME 100 /// ${ESC_SEQ}\n@BADNESS_ADJ_RE_CWD 5 /// ${OSC}\n`,
);
etcFile('systemd/system/-.slice.d/oomd.conf', '[Slice]\nManagedOOMSwap=kill\n');
etcFile(
  `systemd/system/${cg(0).split('/').at(-1)}.d/oomd.conf`,
  `[Service]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=${C1}\n`,
);
// invalid UTF-8 in comm, cmdline and cgroup of one more process
{
  const pid = 420;
  writeProcTree(
    proc,
    { memTotalKb: 4_000_000, swapTotalKb: 0, hostname: `host${ESC_SEQ}`, release: `6.18${C1}`, oomKill: 2 },
    [...procs, { pid, comm: 'placeholder', rssPages: 5000, startTime: 6000 }, ...KILLER_PROCS],
  );
  const stat = readStat(pid).replace('(placeholder)', '(\u0000BAD\u0000)');
  const [head, tail] = stat.split('\u0000BAD\u0000') as [string, string];
  writeFileSync(join(proc, String(pid), 'stat'), Buffer.concat([Buffer.from(head), BAD_UTF8, Buffer.from(tail)]));
  writeFileSync(
    join(proc, String(pid), 'cmdline'),
    Buffer.concat([BAD_UTF8, Buffer.from([0]), Buffer.from('\x1b[1m'), BAD_UTF8, Buffer.from([0])]),
  );
  writeFileSync(
    join(proc, String(pid), 'cgroup'),
    Buffer.concat([Buffer.from('0::/hostile.slice/'), BAD_UTF8, Buffer.from('.service\n')]),
  );
}
function readStat(pid: number): string {
  return spawnSync('cat', [join(proc, String(pid), 'stat')], { encoding: 'utf8' }).stdout;
}
writeCgroupV2Tree(sys, [
  { path: '/' },
  { path: '/hostile.slice', max: String(1024 ** 3), current: 200 * 1024 ** 2 },
  ...procs.slice(1).map((p, i) => ({
    path: cg(i),
    max: String((64 + i) * 1024 ** 2),
    current: 32 * 1024 ** 2,
    procs: [p.pid],
    events: { oom: 1, oom_kill: 1 },
  })),
]);
writeFileSync(
  passwd,
  `root:x:0:0:root:/root:/bin/bash\n${ESC_SEQ}:x:2000:2000::/:/bin/sh\nu${C1}:x:2001:2001::/:/bin/sh\n${BIDI}:x:2002:2002::/:/bin/sh\n`,
);
writeFileSync(
  log,
  Buffer.concat([
    Buffer.from(`[  100.000000] ${ESC_SEQ} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n`),
    Buffer.from(
      '[  100.000100] Tasks state (memory values in pages):\n[  100.000200] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name\n',
    ),
    Buffer.from(
      `[  100.000300] [    400]  2000   400    20000    10000        65536        0             0 ${ESC_SEQ}\n`,
    ),
    Buffer.from(
      `[  100.000400] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=${cg(0)},task_memcg=${cg(0)},task=x,pid=400,uid=2000\n`,
    ),
    Buffer.from(
      `[  100.000500] Memory cgroup out of memory: Killed process 400 (${ESC_SEQ}) total-vm:80000kB, anon-rss:40000kB, file-rss:0kB, shmem-rss:0kB, UID:2000 pgtables:64kB oom_score_adj:0\n`,
    ),
    Buffer.from('[  200.000000] '),
    BAD_UTF8,
    Buffer.from(' invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'),
    Buffer.from(
      `[  200.000500] Out of memory: Killed process 401 (${OSC}${C1}) total-vm:80000kB, anon-rss:40000kB, file-rss:0kB, shmem-rss:0kB, UID:2001 pgtables:64kB oom_score_adj:0\n`,
    ),
    Buffer.from('[  300.000500] Out of memory: Killed process 420 ('),
    BAD_UTF8,
    Buffer.from(') total-vm:8kB, anon-rss:4kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n'),
    // the user-space killers' own lines, with hostile names of what they killed
    Buffer.from(
      `Nov 26 10:00:00 web01 earlyoom[9]: sending SIGTERM to process 402 uid 0 "${ESC_SEQ}": badness 900, VmRSS 10 MiB\n`,
    ),
    Buffer.from(
      `Nov 26 10:00:01 web01 systemd-oomd[8]: Killed ${cg(1)} due to memory pressure for /${OSC} being 80.00% > 60.00% for > 30s with reclaim activity\n`,
    ),
    Buffer.from(`Nov 26 10:00:02 web01 nohang[7]: Process with highest badness (found in 1ms):\n`),
    Buffer.from(`Nov 26 10:00:02 web01 nohang[7]:   PID: 403, Name: ${BIDI}, badness: 900\n`),
    Buffer.from(`Nov 26 10:00:02 web01 nohang[7]:   Sending SIGTERM to the victim\n`),
    Buffer.from(
      `Nov 26 10:00:03 web01 kubelet[6]: I1126 10:00:03.000000 6 eviction_manager.go:616] "Eviction manager: pod is evicted successfully" pod="ns/${C1}"\n`,
    ),
  ]),
);
const policyDir = mkdtempSync(join(tmpdir(), 'oomtop-hpol-'));
afterAll(() => rmSync(policyDir, { recursive: true, force: true }));
const policy = join(policyDir, 'policy.yaml');
writeFileSync(
  policy,
  `rules:\n  - cmdline: 'red'\n    adj: 300\n  - user: "${ESC_SEQ.replace(/\x1b/g, '\\e')}"\n    adj: 200\n`,
  { mode: 0o644 },
);

const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Every byte written must decode as UTF-8 and hold no control character but \n and \t. */
function clean(label: string, bytes: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Error(`${label}: output is not valid UTF-8`);
  }
  const m = FORBIDDEN.exec(text);
  if (m)
    throw new Error(
      `${label}: control character U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 20))}`,
    );
  return text;
}

const tried: Array<{ args: string[]; status: number | null }> = [];
function run(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync('node', [CLI, '--proc-root', proc, '--sys-root', sys, '--passwd', passwd, ...args], {
    env: { ...process.env, OOMTOP_STATE_DIR: state },
    maxBuffer: 64 * 1024 * 1024,
  });
  tried.push({ args, status: r.status });
  return {
    status: r.status,
    out: clean(`${args.join(' ')} (stdout)`, r.stdout),
    err: clean(`${args.join(' ')} (stderr)`, r.stderr),
  };
}

const COMMANDS: string[][] = [
  ['snapshot', '--format', 'table'],
  ['snapshot', '--format', 'json'],
  ['snapshot', '--format', 'csv'],
  ['snapshot', '--format', 'prometheus'],
  ['snapshot', '--format', 'table', '--cgroup', cg(0)],
  ['domains'],
  ['domains', '--format', 'json'],
  ['simulate'],
  ['simulate', '--format', 'json'],
  ['simulate', '--cgroup', cg(1)],
  ['set', '400', '--adj', '100', '--dry-run'],
  ['set', '400', '401', '420', '--adj', '100'],
  ['protect', '402', '--adj', '-100'],
  ['set', '--name', 'red', '--adj', '150', '--yes'],
  ['set', '--cmdline', '.', '--adj', '50', '--yes'],
  ['reset', '400'],
  ['undo'],
  ['undo', '--last', '3'],
  ['log'],
  ['log', '--format', 'json'],
  ['log', '--limit', '2'],
  ['apply', '--policy', policy, '--dry-run'],
  ['apply', '--policy', policy],
  ['history', '--from', log],
  ['history', '--from', log, '--format', 'json'],
  ['baseline', 'save', '--critical', ESC_SEQ, '--critical-cmdline', 'red', '--yes'],
  ['check', '--from', log],
  ['check', '--from', log, '--format', 'json'],
  ['check', '--from', log, '--format', 'prometheus'],
  ['killers'],
  ['killers', '--protected'],
  ['killers', '--format', 'json'],
  ['simulate', '--killer', 'earlyoom'],
  ['simulate', '--killer', 'nohang'],
  ['simulate', '--killer', `x${ESC_SEQ}`],
  // arguments echoed back in error lines
  ['set', '400', '--adj', ESC_SEQ],
  ['snapshot', '--format', OSC],
  [`bogus${ESC_SEQ}`],
  ['set', `4${C1}`, '--adj', '1'],
  ['history', '--from', log, '--since', `x${ESC_SEQ}`],
  ['simulate', '--cgroup', `/no${OSC}`],
  ['set', '--name', `(${ESC_SEQ}`, '--adj', '1'],
  ['policy', 'export-systemd', '--policy', policy],
];

describe('hostile names through every command and format', () => {
  it.each(COMMANDS.map((c) => [c.join(' ').slice(0, 60), c]))('%s', (_label, args) => {
    const r = run(args as string[]);
    expect(r.out.length + r.err.length).toBeGreaterThan(0);
  });

  it('shows the hostile names escaped, and the JSON keeps them exactly', () => {
    const table = run(['snapshot', '--format', 'table']).out;
    expect(table).toContain('\\x1b[31mred');
    expect(table).toContain('f\\xff\\xfe\\x9b');
    expect(table).toContain('\\u009b2J');
    const json = JSON.parse(run(['snapshot', '--format', 'json']).out) as {
      hostname: string;
      processes: Array<{ pid: number; comm: string; cmdline: string | null }>;
    };
    expect(json.hostname).toBe(`host${ESC_SEQ}`);
    expect(json.processes.find((p) => p.pid === 403)?.comm).toBe(BIDI);
    expect(json.processes.find((p) => p.pid === 400)?.cmdline).toContain('A'.repeat(100_000));
    // invalid bytes come back as their escape code points (U+DC80 + byte), not U+FFFD
    expect(json.processes.find((p) => p.pid === 420)?.comm).toBe('f\udcff\udcfe\udc9b\udcc3(\udce2\udc82');
    const hist = run(['history', '--from', log]).out;
    expect(hist).toContain('\\x1b[31mred\\x1b[0m 400');
    expect(hist).toContain('\\x1b]0;pwned\\x07\\u009b2J\\u0085 401');
    // every killer's kills, their hostile names escaped
    expect(hist).toMatch(/earlyoom {2}global {2}SIGTERM, badness 900\n {2}killed: \\x1b\[31mred\\x1b\[0m 402/);
    expect(hist).toContain('killed: cgroup /hostile.slice/u\\x1b]0;pwned\\x07.service');
    expect(hist).toContain('memory pressure for /\\x1b]0;pwned\\x07 being 80.00%');
    expect(hist).toContain('killed: evil\\u202egpj.exe\\u2066 403');
    expect(hist).toContain('killed: pod ns/\\u009b2J\\u0085');
  });

  it('the killer race finds every daemon and shows their hostile argv, unit and config escaped', () => {
    const out = run(['killers']).out;
    for (const k of ['earlyoom', 'nohang', 'systemd-oomd', 'kubelet']) expect(out).toMatch(new RegExp(`${k} +yes`));
    expect(out).toContain('--avoid ^\\x1b[31mred\\x1b[0m$'); // earlyoom's argv
    expect(out).toContain('svc\\x1b[2J.service'); // the unit in systemd-oomd's pressure trigger
    expect(out).toContain('\\x1b]0;pwned\\x07'); // nohang's rule it cannot evaluate
  });

  it('the table keeps its columns with wide characters (cells, not UTF-16 units)', () => {
    const lines = run(['snapshot', '--format', 'table']).out.split('\n');
    const row = (pid: number) => lines.find((l) => new RegExp(`^\\s*\\S+\\s+${pid} `).test(l)) as string;
    const width = (s: string) => [...s].reduce((w, c) => w + (/[\u3000-\u9fff]/.test(c) ? 2 : 1), 0);
    const wide = row(404);
    const plain = row(401);
    expect(wide).toContain('日本語ab');
    // the column after NAME (BADNESS) ends at the same terminal cell on both rows
    const endOfBadness = (l: string) => width(l.slice(0, l.search(/GiB|MiB/) + 3));
    expect(endOfBadness(wide)).toBe(endOfBadness(plain));
  });

  it('the dashboard shows no control character, and none of the hostile bytes reach the terminal', async () => {
    const { input, output, written: chunks } = fakeTerminal(140, 40);
    const sampler = new Sampler(proc);
    const app = new DashboardApp({
      sampler,
      adjuster: null,
      audit: null,
      users: loadUsers(passwd),
      intervalMs: 2000,
      readOnly: true,
      cpu: false,
      exportDir: dir,
      uid: 0,
      domainView: (s) => globalContext(s),
      now: () => new Date(Date.UTC(2026, 10, 26)),
      input: input as never,
      output: output as never,
      timers: false,
      timeline: () => [],
    }).start();
    try {
      const press = async (k: string) => {
        input.write(k);
        await new Promise((r) => setImmediate(r));
      };
      for (const k of [
        'j',
        'j',
        'j',
        'j',
        'j',
        'j',
        'j',
        'j',
        '?',
        'x',
        't',
        'm',
        'm',
        'o',
        'x',
        '/',
        'r',
        'e',
        'd',
        '\r',
      ]) {
        await press(k);
        clean(`screen after ${JSON.stringify(k)}`, Buffer.from(app.text()));
      }
      const raw = Buffer.concat(chunks).toString('latin1');
      for (const bad of [
        '\x1b[31mred',
        '\x1b]0;pwned',
        '\x1b[2J\n',
        '\xc2\x9b',
        '\xc2\x85',
        '\xe2\x80\xae',
        '\x07bs',
        '\xff\xfe',
      ])
        expect(raw.includes(bad), JSON.stringify(bad)).toBe(false);
    } finally {
      app.quit(0);
    }
  });

  it('counts what was tried', () => {
    const failed = tried.filter((t) => t.status !== 0);
    console.log(
      `hostile inputs: ${NASTY.length + 1} process names, ${procs.length} command lines (one of 100 KB), 8 cgroup names, 3 user names, 3 log events; ` +
        `${tried.length} command runs, every output valid UTF-8 without a control character; ${failed.length} ended with an error line as meant (bad input)`,
    );
    expect(tried.length).toBeGreaterThanOrEqual(COMMANDS.length);
  });
});
