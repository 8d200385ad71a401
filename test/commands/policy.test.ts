import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runApply, runExportSystemd, runWatch, watchTick, type WatchState } from '../../src/commands/policy.js';
import { formatPolicyErrors, parsePolicy } from '../../src/core/policy.js';
import { Adjuster } from '../../src/system/adjuster.js';
import { AuditLog } from '../../src/system/audit-log.js';
import { loadPolicyFile } from '../../src/system/policy-file.js';
import { ProcFs } from '../../src/system/read/procfs.js';
import { fakeIo, writableBasic } from '../helpers/io.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'oomtop-pol-'));
  dirs.push(d);
  return d;
}

function policyFile(text: string, mode = 0o644): string {
  const f = join(tmp(), 'policy.yaml');
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
}

const errorsOf = (text: string) => {
  const r = parsePolicy(text, 'p.yaml');
  return r.policy ? '' : formatPolicyErrors(r.errors);
};

describe('policy parsing', () => {
  it('parses the README example', () => {
    const r = parsePolicy(readFileSync(join(import.meta.dirname, '../../examples/policy.yaml'), 'utf8'), 'policy.yaml');
    expect(r.errors).toEqual([]);
    expect(r.policy?.rules.map((x) => [x.line, x.adj])).toEqual([
      [13, -1000],
      [16, -900],
      [18, -800],
      [20, 800],
      [23, 500],
      [25, 1000],
    ]);
  });

  it('reports every error with file, line and what was expected', () => {
    const text = [
      'rules:',
      '  - name: sshd',
      '    protct: true',
      '  - cmdline: "([a-z"',
      '    adj: 5',
      '  - name: a',
      '    adj: 1001',
      '  - name: b',
      '    adj: 1',
      '  - name: b',
      '    adj: 2',
      '  - adj: 3',
      '  - name: c',
      '  - name: d',
      '    adj: 1',
      '    protect: true',
      '  - name: "0x10"',
      '    adj: "0x10"',
    ].join('\n');
    expect(errorsOf(text).split('\n')).toEqual([
      "p.yaml:3: unknown key 'protct' (expected name, cmdline, user, cgroup, unit, adj, protect, comment)",
      expect.stringMatching(/^p\.yaml:4: cmdline '\(\[a-z' is not a valid regular expression: /),
      'p.yaml:7: adj must be an integer from -1000 to 1000, got 1001',
      'p.yaml:10: duplicate rule: it matches exactly what the rule at line 8 matches',
      'p.yaml:12: rule matches nothing: give at least one of name, cmdline, user, cgroup, unit',
      'p.yaml:13: rule sets nothing: give adj (-1000..1000) or protect: true',
      'p.yaml:14: give either adj or protect: true, not both',
      'p.yaml:18: adj must be an integer from -1000 to 1000, got "0x10"',
    ]);
  });

  it('refuses a rule whose only setting is protect: false (it would set no value)', () => {
    expect(errorsOf('rules:\n  - name: a\n    protect: false\n')).toBe(
      'p.yaml:2: protect: false sets nothing: give adj, or remove the rule',
    );
    expect(errorsOf('rules:\n  - name: a\n    protect: false\n    adj: 5\n')).toBe('');
  });

  it('reports YAML syntax errors and a wrong shape with their lines', () => {
    expect(errorsOf('rules:\n  - name: [a\n')).toMatch(/^p\.yaml:\d+: YAML: /);
    expect(errorsOf('- name: a\n')).toBe('p.yaml:1: expected a mapping with a "rules:" list at the top');
    expect(errorsOf('rules: 5\nextra: 1\n')).toBe(
      'p.yaml:2: unknown top-level key \'extra\' (expected rules, version)\np.yaml:1: expected "rules:" to be a list of rules',
    );
    expect(errorsOf('rules:\n  - name: a\n    name: b\n    adj: 1\n')).toMatch(
      /^p\.yaml:3: YAML: Map keys must be unique/,
    );
  });

  it('as root, refuses a policy others can write, with the reason', () => {
    const f = policyFile('rules:\n  - name: sshd\n    protect: true\n', 0o666);
    expect(() => loadPolicyFile(f, 0)).toThrow(/refusing policy .*writable by every user \(mode 666\).*chmod go-w/);
    chmodSync(f, 0o664);
    expect(() => loadPolicyFile(f, 0)).toThrow(/writable by its group/);
    expect(loadPolicyFile(f, 1000).rules).toHaveLength(1);
    chmodSync(f, 0o644);
    expect(loadPolicyFile(f, 0).rules).toHaveLength(1);
  });
});

describe('oomtop apply / watch / export-systemd on a fixture tree', () => {
  const POLICY =
    'rules:\n  - name: worker\n    adj: 700\n  - unit: postgresql.service\n    adj: -300\n  - cmdline: java\n    protect: true\n';

  it('applies once, prints the changes and the kill order; a second run changes nothing', async () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const io = fakeIo(join(dir, 'state'));
    const f = policyFile(POLICY);
    expect(await runApply(roots, io, { policy: f })).toBe(0);
    const adj = (pid: number) => Number(readFileSync(join(roots.procRoot, String(pid), 'oom_score_adj'), 'utf8'));
    expect([adj(306), adj(307), adj(300)]).toEqual([700, 700, -300]);
    expect(io.text()).toMatch(/ok: worker \(pid 306\): oom_score_adj 0 → 700/);
    expect(io.text()).toContain('kill order after');
    const again = fakeIo(join(dir, 'state'));
    expect(await runApply(roots, again, { policy: f })).toBe(0);
    expect(again.text()).toContain('nothing to change');
    const records = new AuditLog(join(dir, 'state')).read();
    expect(records.filter((r) => r.source === 'apply').map((r) => r.rule)).toContain('line 2 (name=worker)');
  });

  it('dry run writes nothing; a policy with an error applies nothing', async () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const io = fakeIo(join(dir, 'state'));
    expect(await runApply(roots, io, { policy: policyFile(POLICY), dryRun: true })).toBe(0);
    expect(io.text()).toContain('dry run: nothing written');
    await expect(runApply(roots, io, { policy: policyFile(`${POLICY}  - name: x\n    adj: 5000\n`) })).rejects.toThrow(
      /policy\.yaml:9: adj must be an integer from -1000 to 1000, got 5000\n.*1 error\(s\): nothing was applied/,
    );
    expect(readFileSync(join(roots.procRoot, '306/oom_score_adj'), 'utf8')).toBe('0\n');
  });

  it('watch applies, then leaves alone a value the operator set by hand, and records it', () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const io = fakeIo(join(dir, 'state'));
    const log = new AuditLog(join(dir, 'state'));
    const adjuster = new Adjuster(new ProcFs(roots.procRoot), log, io.actor, io.now);
    const state: WatchState = { written: new Map(), overridden: new Set(), refused: new Set() };
    const policy = loadPolicyFile(policyFile('rules:\n  - name: worker\n    adj: 700\n'), 1000);
    expect(watchTick(policy, roots, io, state, adjuster, log, true)).toHaveLength(2);
    expect(watchTick(policy, roots, io, state, adjuster, log, true)).toEqual([]);
    writeFileSync(join(roots.procRoot, '306/oom_score_adj'), '50\n'); // by hand
    expect(watchTick(policy, roots, io, state, adjuster, log, true)).toEqual([
      'left alone: worker (pid 306) was set by hand to 50 after oomtop wrote 700',
    ]);
    expect(watchTick(policy, roots, io, state, adjuster, log, true)).toEqual([]);
    expect(readFileSync(join(roots.procRoot, '306/oom_score_adj'), 'utf8')).toBe('50\n');
    expect(log.read().at(-1)).toMatchObject({ result: 'operator-override', pid: 306, old: 700, new: 50 });
  });

  it('watch passes many intervals without piling listeners on its stop signal, and stops on abort', async () => {
    const { dir, roots } = writableBasic();
    dirs.push(dir);
    const io = fakeIo(join(dir, 'state'));
    const warnings: string[] = [];
    const onWarning = (w: Error) => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    const stop = new AbortController();
    let passes = 0;
    const now = io.now;
    io.now = () => {
      passes++;
      return now();
    }; // once per pass, when it samples (and per write)
    try {
      const done = runWatch(
        roots,
        io,
        { policy: policyFile('rules:\n  - name: worker\n    adj: 700\n'), interval: '0.1' },
        stop.signal,
      );
      // More than 11 passes: Node warned at the 11th listener.
      let failed: unknown = null;
      done.catch((e: unknown) => {
        failed = e;
      });
      while (passes < 20 && !failed) await new Promise((r) => setTimeout(r, 20));
      if (failed) throw failed;
      stop.abort();
      expect(await done).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(io.text()).toContain('watch stopped');
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('exports OOMScoreAdjust= drop-ins for unit rules', () => {
    const io = fakeIo(tmp());
    // no systemd-oomd runs in this tree: no ManagedOOMPreference=
    runExportSystemd(writableBasic().roots, io, { policy: policyFile(POLICY) });
    expect(io.text()).toBe(
      '# /etc/systemd/system/postgresql.service.d/oomtop.conf  (policy ' +
        dirs.at(-1) +
        '/policy.yaml line 4)\n' +
        '[Service]\nOOMScoreAdjust=-300\n\n# then: systemctl daemon-reload, and restart each unit for the value to take effect\n',
    );
  });
});
