// Honest when it could not look, strict about what it is given, and no input that can hang it.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSet } from '../../src/commands/adjust.js';
import { parseSince } from '../../src/commands/aftermath.js';
import { decide, parsePolicy } from '../../src/core/policy.js';
import type { SnapshotProcess } from '../../src/core/snapshot.js';
import { fakeIo, writableBasic, BASIC } from '../helpers/io.js';
import { needKernel } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const PROC = join(BASIC, 'proc');
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/**
 * A box where a normal user cannot read the kernel log: /dev/kmsg refuses (a root-only
 * stand-in), dmesg fails as with kernel.dmesg_restrict=1, journalctl shows no kernel
 * message (the user is in neither adm nor systemd-journal).
 */
function lockedBox() {
  const d = mkdtempSync(join(tmpdir(), 'oomtop-locked-'));
  dirs.push(d);
  chmodSync(d, 0o755);
  const bin = join(d, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  writeFileSync(
    join(bin, 'dmesg'),
    '#!/bin/sh\necho "dmesg: read kernel buffer failed: Operation not permitted" >&2\nexit 1\n',
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'journalctl'),
    '#!/bin/sh\necho \'-- No entries --\'\necho "Hint: You are currently not seeing messages from other users and the system." >&2\nexit 0\n',
    { mode: 0o755 },
  );
  const kmsg = join(d, 'kmsg');
  writeFileSync(kmsg, '6,1,1000,-;Out of memory: Killed process 1 (x)\n', { mode: 0o600 });
  const state = join(d, 'state');
  mkdirSync(state, { mode: 0o700 });
  chownSync(state, 65534, 65534);
  const run = (args: string[]) =>
    spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', CLI, '--proc-root', PROC, '--kmsg', kmsg, ...args],
      { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OOMTOP_STATE_DIR: state } },
    );
  return { run };
}

describe('when the kernel log cannot be read', () => {
  it('history says so and how to fix it, exit 1, never "no OOM kill"', (ctx) => {
    needKernel(ctx, process.getuid?.() === 0, 'needs root to run oomtop as another user (setpriv)');
    const { run } = lockedBox();
    const r = run(['history']);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('no OOM kill');
    expect(r.stderr).toContain('cannot read the kernel log, so oomtop cannot tell whether the OOM killer acted');
    expect(r.stderr).toMatch(/kmsg: cannot read .*EACCES/);
    expect(r.stderr).toContain(
      'dmesg: dmesg failed (exit 1): dmesg: read kernel buffer failed: Operation not permitted',
    );
    expect(r.stderr).toContain('journal: journalctl -k returned no kernel message at all');
    expect(r.stderr).toContain('run as root, or lower kernel.dmesg_restrict to 0');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
  it('check reports UNKNOWN (exit 3), not OK', (ctx) => {
    needKernel(ctx, process.getuid?.() === 0, 'needs root to run oomtop as another user (setpriv)');
    const { run } = lockedBox();
    expect(run(['baseline', 'save', '--critical', 'sshd', '--yes']).status).toBe(0);
    const r = run(['check']);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/^OOMTOP UNKNOWN - cannot tell what the OOM killer did: cannot read the kernel log/);
  });
});

describe('bad input: one line, exit 2', () => {
  it.each(['garbage', '2020-13-45', '2026-02-30', '25:00', '2026-11-26 24:10'])(
    'history --since %j is rejected',
    (since) => {
      const r = spawnSync('node', [CLI, 'history', '--from', '/dev/null', '--since', since], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--since '${since}' is not a time`);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    },
  );
  it('parses the forms it documents', () => {
    const now = new Date('2026-11-26T12:00:00Z');
    expect(parseSince('2026-11-26', now).ms).toBe(Date.parse('2026-11-26T00:00:00Z'));
    expect(parseSince('2026-11-26 14:30', now).journal).toBe('2026-11-26 14:30:00 UTC');
    expect(parseSince('2026-11-26T14:30:00+02:00', now).ms).toBe(Date.parse('2026-11-26T12:30:00Z'));
    expect(parseSince('10 min ago', now).ms).toBe(now.getTime() - 600_000);
    expect(parseSince('yesterday', now).ms).toBe(Date.parse('2026-11-25T00:00:00Z'));
  });
  it('history --from binary data (/dev/urandom) stops with an error at once', () => {
    const r = spawnSync('node', [CLI, 'history', '--from', '/dev/urandom'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\/dev\/urandom holds binary data \(a NUL byte near byte \d+\): it is not a kernel log/);
  });
});

describe('set on a process the OOM killer never chooses', () => {
  it.each([
    [2, 'a kernel thread'],
    [303, 'a zombie or exiting'],
    [1, 'init'],
  ])('pid %i (%s): says the value changes nothing, writes nothing', async (pid, what) => {
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const io = fakeIo(join(dir, 'state'));
    expect(await runSet(roots, io, [String(pid)], { adj: '500' }, 'set')).toBe(1);
    expect(io.text()).toContain(`is ${what}`);
    expect(io.text()).toContain('so oom_score_adj 500 changes nothing the OOM killer does; nothing written');
  });
});

describe('user regular expressions run in linear time', () => {
  it('a policy rule (a+)+$ against a long command line decides at once (RE2, no backtracking)', () => {
    const parsed = parsePolicy("rules:\n  - cmdline: '(a+)+$'\n    adj: 10\n", 'p.yaml');
    if (!parsed.policy) throw new Error('policy did not parse');
    const proc = {
      pid: 5,
      startTime: 1,
      comm: 'x',
      cmdline: `${'a'.repeat(5000)}!`,
      user: 'u',
      uid: 1,
      cgroup: '/',
      unit: null,
      unkillableReason: null,
      oomScoreAdj: 0,
    } as unknown as SnapshotProcess;
    expect(decide(parsed.policy, [proc])).toHaveLength(0);
    expect(decide(parsed.policy, [{ ...proc, cmdline: 'aaaa' }])).toHaveLength(1);
  });
  it('a lookahead is refused with the reason', () => {
    const parsed = parsePolicy("rules:\n  - cmdline: 'java(?=.*-Xmx)'\n    adj: 10\n", 'p.yaml');
    expect(parsed.policy).toBeNull();
    expect(JSON.stringify(parsed.errors)).toContain('RE2 syntax');
  });
});
