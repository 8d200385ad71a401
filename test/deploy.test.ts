// What deploy/ ships, checked by the tools that run it: the Kubernetes manifests against the
// Kubernetes API schema (kubernetes-models' validators, and its types with TypeScript's
// excess-property check, so an unknown or misspelt field fails too); the Prometheus rules by
// promtool (check rules, and unit tests in which each alert fires or stays quiet); the Grafana
// dashboard's queries by promtool and against the series oomtop exports; the systemd units by
// systemd-analyze (verify, and the offline security exposure), with the capability set of the
// watch unit tried on the real kernel.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { COMMANDS, ROOT_OPTIONS } from '../src/commands/table.js';
import { needKernel } from './helpers/kernel.js';

const ROOT = join(import.meta.dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const CLI = join(ROOT, 'dist/bin/oomtop.js');
const FIXTURE = join(ROOT, 'test/fixtures/basic');
const dir = mkdtempSync(join(tmpdir(), 'oomtop-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> };
const manifests = (): Doc[] =>
  parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes/oomtop.yaml'), 'utf8')).map((d) => d.toJS() as Doc);

/** Where each kind's model (class and interface) is. */
const MODELS: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/Service': 'kubernetes-models/v1/Service',
  'apps/v1/DaemonSet': 'kubernetes-models/apps/v1/DaemonSet',
  'scheduling.k8s.io/v1/PriorityClass': 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass',
  'monitoring.coreos.com/v1/ServiceMonitor':
    '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
};

describe('deploy/kubernetes', () => {
  it('every object is valid against the Kubernetes API schema', async () => {
    const docs = manifests();
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'DaemonSet',
      'Namespace',
      'PriorityClass',
      'Service',
      'ServiceMonitor',
    ]);
    for (const d of docs) {
      const where = MODELS[`${d.apiVersion}/${d.kind}`];
      expect(where, `${d.apiVersion} ${d.kind}`).toBeDefined();
      const mod = (await import(where as string)) as Record<string, new (x: unknown) => { validate(): void }>;
      const Model = mod[d.kind] as new (x: unknown) => { validate(): void };
      expect(() => new Model(d).validate(), `${d.kind} ${d.metadata.name}`).not.toThrow();
    }
    // a wrong type is caught: the validator is really validating
    const ds = structuredClone(docs.find((d) => d.kind === 'DaemonSet')) as Doc;
    (ds.spec as { template: { spec: { hostPID: unknown } } }).template.spec.hostPID = 'yes';
    const { DaemonSet } = await import('kubernetes-models/apps/v1/DaemonSet');
    expect(() => new DaemonSet(ds as never).validate()).toThrow(/hostPID must be boolean/);
  });
  it('has no field the API does not know (TypeScript excess-property check on the API types)', () => {
    const docs = manifests();
    const check = (list: Doc[]) => {
      const lines = list.map((d, i) => {
        const where = MODELS[`${d.apiVersion}/${d.kind}`] as string;
        return `import type { I${d.kind} as T${i} } from '${where}';\nexport const d${i}: T${i} = ${JSON.stringify(d)};`;
      });
      const file = join(ROOT, `test/.deploy-types-${process.pid}.ts`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      try {
        return spawnSync(
          join(ROOT, 'node_modules/.bin/tsc'),
          [
            '--ignoreConfig',
            '--noEmit',
            '--strict',
            '--module',
            'nodenext',
            '--moduleResolution',
            'nodenext',
            '--skipLibCheck',
            file,
          ],
          { encoding: 'utf8', cwd: ROOT },
        );
      } finally {
        rmSync(file, { force: true });
      }
    };
    const ok = check(docs);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    const typo = structuredClone(docs);
    const ds = typo.find((d) => d.kind === 'DaemonSet') as unknown as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    ds.spec.template.spec.hostPid = true;
    expect(check(typo).stdout).toMatch(/'"hostPid"' does not exist in type 'IPodSpec'/);
  });
  it('reads the host with no privilege: hostPID, read-only mounts, no capability, limits, tolerations, priority', () => {
    const ds = manifests().find((d) => d.kind === 'DaemonSet') as unknown as {
      spec: { template: { spec: Record<string, never> } };
    };
    const pod = ds.spec.template.spec as unknown as {
      hostPID: boolean;
      hostNetwork?: boolean;
      priorityClassName: string;
      tolerations: unknown[];
      securityContext: { runAsNonRoot: boolean };
      containers: {
        args: string[];
        securityContext: Record<string, unknown>;
        resources: { limits: Record<string, string> };
        volumeMounts: { mountPath: string; readOnly?: boolean }[];
      }[];
      volumes: { name: string; hostPath?: { path: string } }[];
    };
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBeUndefined();
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.tolerations.length).toBeGreaterThan(0);
    expect(manifests().find((d) => d.kind === 'PriorityClass')?.metadata.name).toBe(pod.priorityClassName);
    const [c] = pod.containers;
    expect(c?.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c?.securityContext.capabilities).not.toHaveProperty('add');
    expect(Object.keys(c?.resources.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    const host = new Set(pod.volumes.filter((v) => v.hostPath).map((v) => v.name));
    const hostMounts = (c?.volumeMounts ?? []).filter((m) => host.has((m as { name?: string }).name ?? ''));
    expect(hostMounts.map((m) => m.mountPath).sort()).toEqual([
      '/host/etc',
      '/host/proc',
      '/host/sys/fs/cgroup',
      '/host/var/lib/kubelet/config.yaml',
    ]);
    for (const m of hostMounts) expect(m.readOnly, m.mountPath).toBe(true);
    // its arguments are an exporter command line oomtop accepts
    expect(unknownFlags(c?.args ?? [])).toEqual([]);
  });
});

/** The flags of an oomtop command line that its command (or the root options) does not take. */
function unknownFlags(argv: string[]): string[] {
  const words = argv.filter((a) => !a.startsWith('-'));
  const spec = COMMANDS.find((c) => c.path.every((p, i) => words[i] === p));
  if (!spec) return [`no command in: ${argv.join(' ')}`];
  const known = new Set(
    [...spec.options, ...ROOT_OPTIONS].flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'))),
  );
  return argv.filter((a) => a.startsWith('-')).filter((a) => !known.has(a.split('=')[0] as string));
}

describe('deploy/prometheus', () => {
  it('promtool checks the rules and runs their unit tests', (ctx) => {
    needKernel(ctx, has('promtool'), 'promtool is not installed (apt-get install prometheus)');
    const check = spawnSync('promtool', ['check', 'rules', 'oomtop-rules.yaml'], {
      cwd: join(DEPLOY, 'prometheus'),
      encoding: 'utf8',
    });
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 9 rules found/);
    const unit = spawnSync('promtool', ['test', 'rules', 'oomtop-rules.test.yaml'], {
      cwd: join(DEPLOY, 'prometheus'),
      encoding: 'utf8',
    });
    expect(unit.stdout + unit.stderr).toMatch(/SUCCESS/);
    expect(unit.status).toBe(0);
    // every alert has a test that sees it fire
    const rules = parseYaml(readFileSync(join(DEPLOY, 'prometheus/oomtop-rules.yaml'), 'utf8')) as {
      groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
    };
    const tests = readFileSync(join(DEPLOY, 'prometheus/oomtop-rules.test.yaml'), 'utf8');
    const alerts = rules.groups.flatMap((g) => g.rules).flatMap((r) => (r.alert ? [r.alert] : []));
    const untested = alerts.filter(
      (a) => !new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests),
    );
    expect(untested.sort()).toEqual(['OOMCheckCritical', 'OOMKillerTriggered'].sort());
  });
});

/** Every series name oomtop can export: snapshot (with the killer race), check, the exporter's own, the recording rules. */
function exportedNames(): Set<string> {
  const roots = ['--proc-root', join(FIXTURE, 'proc'), '--sys-root', join(FIXTURE, 'sys')];
  const env = { ...process.env, OOMTOP_STATE_DIR: join(dir, 'state') };
  writeFileSync(join(dir, 'empty.log'), '');
  const texts = [
    spawnSync('node', [CLI, 'snapshot', '--format', 'prometheus', ...roots], { encoding: 'utf8', env }).stdout,
    spawnSync('node', [CLI, 'check', '--format', 'prometheus', '--from', join(dir, 'empty.log'), ...roots], {
      encoding: 'utf8',
      env,
    }).stdout,
    readFileSync(join(ROOT, 'test/fixtures/basic/snapshot.prom'), 'utf8'),
  ];
  const names = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1] as string)));
  const rules = parseYaml(readFileSync(join(DEPLOY, 'prometheus/oomtop-rules.yaml'), 'utf8')) as {
    groups: { rules: { record?: string }[] }[];
  };
  for (const g of rules.groups) for (const r of g.rules) if (r.record) names.add(r.record);
  return names;
}

/** The series names a PromQL expression reads (quoted strings, functions and label names aside). */
function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]');
  const words = [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]);
  return words.filter((w) => /oomtop/.test(w));
}

describe('deploy/grafana', () => {
  const dash = JSON.parse(readFileSync(join(DEPLOY, 'grafana/oomtop.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string; definition?: string }[] };
  };
  it("every panel's query reads only series oomtop exports, and parses as PromQL", (ctx) => {
    const names = exportedNames();
    expect(names.has('oomtop_process_badness_bytes')).toBe(true);
    expect(names.has('oomtop_kills_since_baseline')).toBe(true);
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThanOrEqual(dash.panels.length);
    for (const { panel, expr } of exprs) {
      const used = seriesIn(expr);
      expect(used.length, panel).toBeGreaterThan(0);
      for (const n of used) expect(names.has(n), `${panel}: ${n}`).toBe(true);
    }
    for (const v of dash.templating.list)
      if (v.definition) for (const n of seriesIn(v.definition)) expect(names.has(n), v.name).toBe(true);
    needKernel(ctx, has('promtool'), 'promtool is not installed (apt-get install prometheus)');
    // Grafana's variables as Prometheus would receive them
    const concrete = (e: string) => e.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
    const file = join(dir, 'panels.rules.yaml');
    const rules = exprs.map(
      (x, i) => `      - record: grafana:panel_${i}\n        expr: ${JSON.stringify(concrete(x.expr))}`,
    );
    writeFileSync(file, `groups:\n  - name: panels\n    rules:\n${rules.join('\n')}\n`);
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });
  it('the check catches a series oomtop does not export', () => {
    expect(seriesIn('sum by (killer) (oomtop_process_badness_pages{instance=~"$instance"}[5m])')).toEqual([
      'oomtop_process_badness_pages',
    ]);
    expect(exportedNames().has('oomtop_process_badness_pages')).toBe(false);
  });
});

describe('deploy/systemd', () => {
  const units = readdirSync(join(DEPLOY, 'systemd')).filter((f) => f.endsWith('.service'));
  const execs = (unit: string) =>
    [
      ...readFileSync(join(DEPLOY, 'systemd', unit), 'utf8').matchAll(/^ExecStart=\/usr\/local\/bin\/oomtop (.+)$/gm),
    ].map((m) => (m[1] as string).split(/\s+/));
  it('each unit runs oomtop command lines it accepts', () => {
    expect(units.sort()).toEqual(['oomtop-exporter.service', 'oomtop-textfile.service', 'oomtop-watch.service']);
    for (const u of units) {
      expect(execs(u).length, u).toBeGreaterThan(0);
      for (const argv of execs(u)) expect(unknownFlags(argv), `${u}: ${argv.join(' ')}`).toEqual([]);
    }
  });
  it('systemd-analyze verifies them, and rates each far less exposed than earlyoom’s own unit', (ctx) => {
    needKernel(ctx, has('systemd-analyze'), 'systemd-analyze is not installed (apt-get install systemd)');
    const copies = join(dir, 'units');
    rmSync(copies, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', copies]);
    for (const f of readdirSync(join(DEPLOY, 'systemd'))) {
      // the binary a global install puts in /usr/local/bin is this checkout's CLI here
      const text = readFileSync(join(DEPLOY, 'systemd', f), 'utf8').replaceAll(
        '/usr/local/bin/oomtop',
        `${process.execPath} ${CLI}`,
      );
      writeFileSync(join(copies, f), text);
    }
    const all = readdirSync(copies).map((f) => join(copies, f));
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...all], { encoding: 'utf8' });
    expect(
      verify.stderr.split('\n').filter((l) => l && !/Failed to connect|systemd is not running|bus/i.test(l)),
    ).toEqual([]);
    const exposure = (unit: string) => {
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', unit], { encoding: 'utf8' });
      const m = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout);
      return Number(m?.[1]);
    };
    for (const u of units) expect(exposure(join(copies, u)), u).toBeLessThanOrEqual(2.0);
    const earlyoom = '/lib/systemd/system/earlyoom.service';
    if (readdirSync('/lib/systemd/system').includes('earlyoom.service'))
      for (const u of units) expect(exposure(join(copies, u))).toBeLessThan(exposure(earlyoom));
  });
  it("the watch unit's capabilities are enough to change another user's process, and each is needed", async (ctx) => {
    needKernel(ctx, process.getuid?.() === 0 && has('setpriv'), 'needs root and setpriv (util-linux)');
    const unit = readFileSync(join(DEPLOY, 'systemd/oomtop-watch.service'), 'utf8');
    const caps = (/^CapabilityBoundingSet=(.+)$/m.exec(unit)?.[1] ?? '').split(/\s+/).map((c) => c.toLowerCase());
    expect(caps).toContain('cap_dac_override');
    // this machine's root lacks CAP_SYS_RESOURCE: keep what it has of the unit's set
    const bnd = BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
    const NUM: Record<string, number> = {
      cap_dac_override: 1,
      cap_dac_read_search: 2,
      cap_sys_ptrace: 19,
      cap_sys_resource: 24,
    };
    const here = caps.filter((c) => (bnd >> BigInt(NUM[c] ?? 63)) & 1n);
    const { spawn } = await import('node:child_process');
    // a process of another user (nobody), started by this test
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '60'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const pid = String(child.pid);
      const state = join(dir, 'watch-state');
      const asUnit = (set: string[]) =>
        spawnSync(
          'setpriv',
          [
            `--bounding-set=-all,${set.map((c) => `+${c.replace(/^cap_/, '')}`).join(',')}`,
            '--',
            process.execPath,
            CLI,
            'set',
            pid,
            '--adj',
            '300',
            '--yes',
          ],
          { encoding: 'utf8', env: { ...process.env, OOMTOP_STATE_DIR: state } },
        );
      const without = asUnit(here.filter((c) => c !== 'cap_dac_override'));
      expect(without.status, without.stderr).toBe(1);
      expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('0');
      const withAll = asUnit(here);
      expect(withAll.status, withAll.stderr + withAll.stdout).toBe(0);
      expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('300');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
