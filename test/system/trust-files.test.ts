// Files: oomtop never replaces what is not a regular file, never follows what another user
// planted, never acts on a forged audit record, and never makes a change it cannot record.
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runReset, runSet, runUndo } from '../../src/commands/adjust.js';
import { loadPolicyFile } from '../../src/system/policy-file.js';
import { fakeIo, writableBasic, BASIC } from '../helpers/io.js';
import { needKernel } from '../helpers/kernel.js';

const CLI = join(import.meta.dirname, '../../dist/bin/oomtop.js');
const root = process.getuid?.() === 0;
let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync('node', [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('--output writes only onto a regular file or a new path', () => {
  const proc = join(BASIC, 'proc');
  it.each([
    ['/dev/null', 'a device node'],
    ['.', 'a folder'],
  ])('refuses %s (%s), exit 2, leaving it as it was', (target, what) => {
    const before = lstatSync(target);
    const r = cli(['snapshot', '--proc-root', proc, '--format', 'json', '--output', target]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`refusing to write ${target}: it is ${what}`);
    const after = lstatSync(target);
    expect([after.ino, after.mode]).toEqual([before.ino, before.mode]);
  });
  it('refuses a FIFO and a symbolic link', () => {
    const d = tmp('oomtop-out-');
    spawnSync('mkfifo', [join(d, 'fifo')]);
    symlinkSync('/etc/hostname', join(d, 'link'));
    expect(cli(['snapshot', '--proc-root', proc, '--output', join(d, 'fifo')]).stderr).toContain('it is a FIFO');
    const r = cli(['check', '--proc-root', proc, '--from', '/dev/null', '--output', join(d, 'link')], {
      OOMTOP_STATE_DIR: d,
    });
    expect(r.stderr + r.stdout).toContain('it is a symbolic link');
    expect(lstatSync(join(d, 'link')).isSymbolicLink()).toBe(true);
  });
  it('refuses an empty --output', () => {
    const r = cli(['snapshot', '--proc-root', proc, '--output', '']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--output needs a file name');
  });
  it('writes a new path and replaces a regular file', () => {
    const d = tmp('oomtop-out-');
    const f = join(d, 's.json');
    expect(cli(['snapshot', '--proc-root', proc, '--format', 'json', '--output', f]).status).toBe(0);
    writeFileSync(f, 'old');
    expect(cli(['snapshot', '--proc-root', proc, '--format', 'json', '--output', f]).status).toBe(0);
    expect(JSON.parse(readFileSync(f, 'utf8')).schema).toBe('oomtop.snapshot/1');
  });
});

describe('the state folder and the audit log', () => {
  it('creates the state folder 0700 and the audit log 0600', async () => {
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const state = join(dir, 'new', 'state');
    expect(await runSet(roots, fakeIo(state), ['300'], { adj: '10' }, 'set')).toBe(0);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    expect(statSync(join(state, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });
  it('refuses a state folder others can write, with the fix, and writes nothing', async () => {
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o777 });
    chmodSync(state, 0o777);
    await expect(runSet(roots, fakeIo(state), ['300'], { adj: '10' }, 'set')).rejects.toThrow(
      `writable by every user (mode 777); another user could forge what oomtop reads back: chmod go-w ${state}`,
    );
    expect(readFileSync(join(roots.procRoot, '300/oom_score_adj'), 'utf8').trim()).toBe('0');
  });
  it('refuses a state folder or audit log another user owns', async (ctx) => {
    needKernel(ctx, root, 'needs root to make a file another user owns');
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    chownSync(state, 65534, 65534);
    await expect(runSet(roots, fakeIo(state), ['300'], { adj: '10' }, 'set')).rejects.toThrow(
      /owned by uid 65534, not by you \(uid 0\) or root.*chown 0/,
    );
    chownSync(state, 0, 0);
    writeFileSync(join(state, 'audit.jsonl'), '', { mode: 0o600 });
    chownSync(join(state, 'audit.jsonl'), 65534, 65534);
    await expect(runSet(roots, fakeIo(state), ['300'], { adj: '10' }, 'set')).rejects.toThrow(
      /refusing the audit log .*owned by uid 65534/,
    );
    expect(readFileSync(join(roots.procRoot, '300/oom_score_adj'), 'utf8').trim()).toBe('0');
  });
  it('does not follow an audit log that is a symbolic link', async () => {
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    writeFileSync(join(dir, 'elsewhere'), '');
    symlinkSync(join(dir, 'elsewhere'), join(state, 'audit.jsonl'));
    await expect(runSet(roots, fakeIo(state), ['300'], { adj: '10' }, 'set')).rejects.toThrow('it is a symbolic link');
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).toBe('');
    expect(readFileSync(join(roots.procRoot, '300/oom_score_adj'), 'utf8').trim()).toBe('0');
  });
});

describe('undo and reset validate every value they read back', () => {
  it.each([['"0x10"'], ['16.5'], ['-1001'], ['"-5"'], ['true']])(
    'a forged old value %s is refused, not written',
    async (old) => {
      const { roots, dir } = writableBasic();
      dirs.push(dir);
      const state = join(dir, 'state');
      const io = fakeIo(state);
      expect(await runSet(roots, io, ['300'], { adj: '200' }, 'set')).toBe(0);
      const start = JSON.parse(
        readFileSync(join(state, 'audit.jsonl'), 'utf8').trim().split('\n')[0] as string,
      ).startTime;
      appendFileSync(
        join(state, 'audit.jsonl'),
        `{"id":"forged","time":"2026-11-26T12:00:00.000Z","user":"x","uid":0,"source":"set","pid":300,"startTime":${start},"comm":"postgres","old":${old},"new":200,"result":"ok"}\n`,
      );
      await expect(runUndo(roots, io, {})).rejects.toThrow(
        /refusing to undo: .* holds a line oomtop could not have written \(old value .* is not an integer from -1000 to 1000\)/,
      );
      await expect(runReset(roots, io, ['300'], {})).rejects.toThrow(/refusing to reset/);
      expect(readFileSync(join(roots.procRoot, '300/oom_score_adj'), 'utf8').trim()).toBe('200');
    },
  );
});

describe('a change that cannot be recorded is not made', () => {
  it('with the audit log on a full file system, set writes nothing to the process and says so', async (ctx) => {
    needKernel(
      ctx,
      root && existsSync('/proc/filesystems') && readFileSync('/proc/filesystems', 'utf8').includes('tmpfs'),
      'needs root to mount a small tmpfs',
    );
    const { roots, dir } = writableBasic();
    dirs.push(dir);
    const mnt = join(dir, 'full');
    mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'oomtop-test', mnt], { encoding: 'utf8' });
    needKernel(ctx, m.status === 0, `mount tmpfs failed: ${m.stderr.trim()}`);
    try {
      const state = join(mnt, 'state');
      mkdirSync(state, { mode: 0o700 });
      writeFileSync(join(state, 'audit.jsonl'), '', { mode: 0o600 });
      // fill the file system to the last byte
      spawnSync('sh', ['-c', `dd if=/dev/zero of=${join(mnt, 'filler')} bs=4k 2>/dev/null; :`]);
      const io = fakeIo(state);
      const code = await runSet(roots, io, ['300'], { adj: '10' }, 'set').catch((e: Error) => {
        io.out(e.message);
        return 2;
      });
      expect(code).not.toBe(0);
      expect(io.text()).toMatch(/ENOSPC/);
      expect(io.text()).toContain('nothing written');
      expect(readFileSync(join(roots.procRoot, '300/oom_score_adj'), 'utf8').trim()).toBe('0');
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});

describe('policy files are opened once and checked on that descriptor', () => {
  it("as root, a symbolic link swapped between a root policy and another user's never loads the other", async (ctx) => {
    needKernel(ctx, root, 'needs root to own files as another user');
    const d = tmp('oomtop-race-');
    chmodSync(d, 0o755);
    writeFileSync(join(d, 'good.yaml'), 'rules:\n  - name: good\n    adj: 1\n', { mode: 0o644 });
    writeFileSync(join(d, 'evil.yaml'), 'rules:\n  - name: evil\n    adj: 1000\n', { mode: 0o644 });
    chownSync(join(d, 'evil.yaml'), 65534, 65534);
    symlinkSync(join(d, 'good.yaml'), join(d, 'policy.yaml'));
    const flipper = spawn(
      'sh',
      [
        '-c',
        `i=0; while [ $i -lt 4000 ]; do ln -sfn evil.yaml ${d}/policy.yaml; ln -sfn good.yaml ${d}/policy.yaml; i=$((i+1)); done`,
      ],
      { stdio: 'ignore' },
    );
    let good = 0;
    let refused = 0;
    try {
      for (let i = 0; i < 200; i++) {
        try {
          const p = loadPolicyFile(join(d, 'policy.yaml'), 0);
          expect(p.rules[0]?.name).toBe('good');
          good++;
        } catch (e) {
          expect((e as Error).message).toMatch(/owned by uid 65534|cannot read policy/);
          refused++;
        }
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      flipper.kill('SIGKILL');
    }
    expect(good + refused).toBe(200);
  });
  it('as root, refuses a policy in a folder another user can write', () => {
    const d = tmp('oomtop-pdir-');
    chmodSync(d, 0o777);
    writeFileSync(join(d, 'p.yaml'), 'rules:\n  - name: x\n    adj: 1\n', { mode: 0o644 });
    expect(() => loadPolicyFile(join(d, 'p.yaml'), 0)).toThrow(
      /folder .* is writable by every user, so another user could swap/,
    );
  });
});
