// The native batch reader (native/proc_batch.c) must give the sampler exactly what the
// JavaScript reader gives: same processes, same fields, same unknowns.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeReader, nativeStatus, NOT_READ } from '../../src/system/native.js';
import { HeldFiles } from '../../src/system/read/held-files.js';
import { ProcFs } from '../../src/system/read/procfs.js';
import { ALL_NEEDS, MODEL_NEEDS, Sampler } from '../../src/system/sampler.js';
import { needKernel } from '../helpers/kernel.js';
import { statLine, statusText, writeProcTree } from '../helpers/proc-tree.js';

const BASIC = join(import.meta.dirname, '../fixtures/basic/proc');
const tmp = mkdtempSync(join(tmpdir(), 'oomtop-native-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const built = nativeReader() !== null;
const why = `the native reader is not built (${nativeStatus()}); npm install builds it with node-gyp`;

describe('native batch reader', () => {
  it('gives the same sample as the JavaScript reader on the basic fixture', (ctx) => {
    needKernel(ctx, built, why);
    for (const needs of [ALL_NEEDS, MODEL_NEEDS]) {
      const native = new Sampler(BASIC);
      expect(native.readerName).toBe('native batch');
      expect(native.sample(7, needs)).toEqual(new Sampler(BASIC, { native: false }).sample(7, needs));
    }
  });

  it('grows its buffer for large files and maps errno codes like fs does', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'odd');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 70, comm: 'big', cmdline: ['x'.repeat(300_000)] },
      { pid: 71, comm: 'odd', rssPages: 5 },
      { pid: 72, comm: 'gone', vanished: true },
    ]);
    rmSync(join(root, '71/status'));
    mkdirSync(join(root, '71/status')); // reading a folder: EISDIR, an unreadable file
    const native = new Sampler(root).sample(0);
    expect(native).toEqual(new Sampler(root, { native: false }).sample(0));
    expect(native.processes.find((p) => p.pid === 70)?.cmdline).toHaveLength(300_000);
    expect(native.processes.find((p) => p.pid === 71)).toMatchObject({ uid: null, unreadable: ['status: EISDIR'] });
    expect(native.processes.some((p) => p.pid === 72)).toBe(false);
  });

  it('splits the work over threads without changing a byte, and skips what is not wanted', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'many');
    const procs = Array.from({ length: 300 }, (_, i) => ({
      pid: 1000 + i,
      comm: `p${i}`,
      rssPages: i,
      cmdline: [`p${i}`, 'a,b'],
    }));
    procs.push({ pid: 2000, comm: 'kworker/0:1', rssPages: 0, cmdline: [], kthread: true } as never);
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, procs);
    const pids = Int32Array.from(procs.map((p) => p.pid));
    const names = ['stat', 'status', 'cmdline'];
    const n = nativeReader()!;
    const keep = [null, ['Name:', 'VmSwap:'], null];
    const files = (d: Buffer[], m: Int32Array, rows: Int32Array) =>
      Array.from({ length: m.length / 2 }, (_, k) => {
        const len = m[2 * k + 1]!;
        if (len < 0) return len;
        const row = Math.floor(k / names.length);
        let t = 0;
        while (t + 1 < d.length && row >= rows[t + 1]!) t++;
        return d[t]!.toString('latin1', m[2 * k]!, m[2 * k]! + len);
      });
    const [d1, m1, r1] = n.readBatch(root, pids, names, 0b111, 0b110, 1, keep);
    const [d3, m3, r3] = n.readBatch(root, pids, names, 0b111, 0b110, 3, keep);
    expect([d1.length, d3.length, [...r3]]).toEqual([1, 3, [0, 100, 200, 301]]);
    const one = files(d1, m1, r1);
    expect(files(d3, m3, r3)).toEqual(one);
    // status keeps only the asked lines, in the kernel's order
    expect(one[1]).toMatch(/^Name:\tp0\nVmSwap:\t +0 kB\n$/);
    // The kernel thread's status and cmdline are skipped (its stat says PF_KTHREAD).
    const last = 3 * (pids.length - 1);
    expect([m1[2 * last + 1]! > 0, m1[2 * (last + 1) + 1], m1[2 * (last + 2) + 1]]).toEqual([true, NOT_READ, NOT_READ]);
    const [, only] = n.readBatch(root, pids, names, 0b001, 0, 2, []);
    expect(only[3]).toBe(NOT_READ);
  });
});

describe("readBatchAsync (readBatch on a thread of Node's pool)", () => {
  it("gives readBatch's result byte for byte, as a promise", async (ctx) => {
    needKernel(ctx, built, why);
    const n = nativeReader()!;
    expect(n.readBatchAsync).toBeTypeOf('function');
    const pids = Int32Array.from([1, 2, 3, 4, 99]); // 99: no such process
    const names = ['stat', 'status', 'cmdline', 'oom_score_adj'];
    const keep = [null, ['Name:', 'VmRSS:'], null, null];
    const sync = n.readBatch(BASIC, pids, names, 0b1111, 0b110, 2, keep);
    const pending = n.readBatchAsync!(BASIC, pids, names, 0b1111, 0b110, 2, keep);
    expect(pending).toBeInstanceOf(Promise);
    const [datas, meta, rows] = await pending;
    expect([meta, rows]).toEqual([sync[1], sync[2]]);
    expect(datas.map((b) => b.toString('latin1'))).toEqual(sync[0].map((b) => b.toString('latin1')));
    expect([...meta]).toContain(-2); // ENOENT for the missing process
  });

  it('throws on arguments it cannot read, and reports a missing root per file, not as a rejection', async (ctx) => {
    needKernel(ctx, built, why);
    const n = nativeReader()!;
    expect(() => n.readBatchAsync!(BASIC, [1] as never, ['stat'], 1, 0, 1, [])).toThrow(
      /readBatchAsync: pids must be an Int32Array/,
    );
    const [, meta] = await n.readBatchAsync!(join(tmp, 'no-such-root'), Int32Array.from([1]), ['stat'], 1, 0, 1, []);
    expect(meta[1]).toBe(-2);
  });
});

describe('readSlots (the held files: each process its own slot, compared in place)', () => {
  it('reads by descriptor or by path into each process slot, and compares with that slot whatever the row', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'slots');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 60, comm: 'a' },
      { pid: 61, comm: 'b' },
      { pid: 62, comm: 'c'.repeat(80) },
    ]);
    const n = nativeReader()!;
    const slot = 200;
    const out = Buffer.alloc(4 * slot);
    const lastLens = new Int32Array(4).fill(-1);
    const fd60 = n.openMany(root, Int32Array.from([60]), ['stat'], 1)[0]!;
    expect(fd60).toBeGreaterThanOrEqual(0);
    const read = (pids: number[], fds: number[], at: number[]) => {
      const same = new Uint8Array(pids.length);
      const lens = n.readSlots(
        root,
        ['stat'],
        Int32Array.from(pids),
        Int32Array.from(fds),
        slot,
        out,
        Int32Array.from(at),
        lastLens,
        same,
      );
      return { lens: [...lens], same: [...same] };
    };
    const stat60 = statLine({ pid: 60, comm: 'a' });
    // first read: nothing to compare with; 61 and 62 by path (no descriptor); 62 fills its slot
    const first = read([60, 61, 62], [fd60, -1, -1], [3, 0, 1]);
    expect(first).toEqual({ lens: [stat60.length, statLine({ pid: 61, comm: 'b' }).length, slot], same: [0, 0, 0] });
    expect(out.toString('latin1', 3 * slot, 3 * slot + stat60.length)).toBe(stat60);
    expect([...lastLens]).toEqual([first.lens[1], slot, -1, stat60.length]);
    // rows moved (a new process 59 first), slots kept: the same bytes are the same
    writeFileSync(join(root, '61/stat'), statLine({ pid: 61, comm: 'b', rssPages: 7 }));
    const again = read([59, 60, 61, 62], [-1, fd60, -1, -1], [2, 3, 0, 1]);
    expect(again.same).toEqual([0, 1, 0, 0]); // 59 is gone (ENOENT); 61 moved; 62 is longer than its slot
    expect(again.lens[0]).toBe(-2);
    expect(lastLens[2]).toBe(-1);
    expect(out.toString('latin1', 0, again.lens[2]!)).toBe(statLine({ pid: 61, comm: 'b', rssPages: 7 }));
    expect(read([61], [-1], [0]).same).toEqual([1]);
    expect(() => read([60], [fd60], [4])).toThrow(/slot index/);
    closeSync(fd60);
  });
});

describe('readHashed (the held stat files: a hash per slot, the bytes of what moved)', () => {
  it('says the same from the slot hash whatever the row, and hands out the bytes of the rows that moved only', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'hashed');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 60, comm: 'a' },
      { pid: 61, comm: 'b' },
      { pid: 62, comm: 'c'.repeat(80) },
    ]);
    const n = nativeReader()!;
    const slot = 200;
    const lastLens = new Int32Array(4).fill(-1);
    const lastHash = new BigUint64Array(4);
    const fd60 = n.openMany(root, Int32Array.from([60]), ['stat'], 1)[0]!;
    const read = (pids: number[], fds: number[], at: number[], always = pids.map(() => 0)) => {
      const same = new Uint8Array(pids.length);
      const [lens, offs, data] = n.readHashed(
        root,
        ['stat'],
        Int32Array.from(pids),
        Int32Array.from(fds),
        slot,
        Int32Array.from(at),
        lastLens,
        lastHash,
        same,
        Uint8Array.from(always),
      );
      const text = (i: number) => (offs[i]! < 0 ? null : data.toString('latin1', offs[i]!, offs[i]! + lens[i]!));
      return { lens: [...lens], same: [...same], texts: pids.map((_, i) => text(i)) };
    };
    const [s60, s61] = [statLine({ pid: 60, comm: 'a' }), statLine({ pid: 61, comm: 'b' })];
    const first = read([60, 61, 62], [fd60, -1, -1], [3, 0, 1]);
    expect(first.same).toEqual([0, 0, 0]);
    expect(first.texts.slice(0, 2)).toEqual([s60, s61]);
    expect(first.lens[2]).toBe(slot); // longer than its slot: never the same
    // rows moved (59 is gone), slots kept: 60 reads the same and hands out no bytes; 61 moved
    const s61b = statLine({ pid: 61, comm: 'b', rssPages: 7 });
    writeFileSync(join(root, '61/stat'), s61b);
    const again = read([59, 60, 61, 62], [-1, fd60, -1, -1], [2, 3, 0, 1]);
    expect(again.same).toEqual([0, 1, 0, 0]);
    expect(again.texts.slice(0, 3)).toEqual([null, null, s61b]);
    expect(again.texts[3]).toBe(statLine({ pid: 62, comm: 'c'.repeat(80) }).slice(0, slot)); // cut: read it again
    expect(again.lens[0]).toBe(-2);
    expect(lastLens[2]).toBe(-1);
    expect(read([61], [-1], [0])).toMatchObject({ same: [1], texts: [null] });
    // the bytes of a row asked for always, even when it reads the same
    expect(read([60, 61], [fd60, -1], [3, 0], [0, 1])).toMatchObject({ same: [1, 1], texts: [null, s61b] });
    // a slot whose length is forgotten compares with nothing
    lastLens[0] = -1;
    expect(read([61], [-1], [0])).toMatchObject({ same: [0], texts: [s61b] });
    // the same length, other bytes: not the same
    const s61c = s61b.replace('(b)', '(c)');
    writeFileSync(join(root, '61/stat'), s61c);
    expect(read([61], [-1], [0])).toMatchObject({ same: [0], texts: [s61c] });
    expect(() => read([60], [fd60], [4])).toThrow(/slot index/);
    closeSync(fd60);
  });
});

describe('readEach (the rolling refresh, by path into a kept buffer)', () => {
  it('puts each file in its slot, flags one longer than its slot, maps errno, skips what is not wanted', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'each');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 90, comm: 'a', cmdline: ['a', 'b'] },
      { pid: 91, comm: 'long', cmdline: ['x'.repeat(100)] },
      { pid: 92, comm: 'gone', vanished: true },
    ]);
    const n = nativeReader()!;
    const slots = Uint32Array.from([64, 32]);
    const out = Buffer.alloc(3 * 96);
    const lens = n.readEach(
      root,
      Int32Array.from([90, 91, 92]),
      ['cgroup', 'cmdline'],
      Uint8Array.from([3, 2, 3]),
      slots,
      out,
    );
    expect(out.toString('latin1', 0, lens[0]!)).toBe('0::/\n');
    expect(out.toString('latin1', 64, 64 + lens[1]!)).toBe('a\0b\0');
    expect([lens[2], lens[3], lens[4], lens[5]]).toEqual([NOT_READ, 32, -2, -2]); // not wanted; full slot; ENOENT
    expect(() =>
      n.readEach(root, Int32Array.from([90, 91, 92, 93]), ['cgroup', 'cmdline'], new Uint8Array(4), slots, out),
    ).toThrow(/smaller/);
  });
});

describe('held files (incremental sampler)', () => {
  it('reads through held descriptors, within the budget, and closes them for exited pids', () => {
    const root = join(tmp, 'held');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 80, comm: 'a', rssPages: 3 },
      { pid: 81, comm: 'b', rssPages: 4 },
    ]);
    const held = new HeldFiles(new ProcFs(root), ['stat', 'oom_score_adj'], 3);
    expect(held.read(80, 0).n).toBeGreaterThan(0);
    held.read(80, 1);
    held.read(81, 0);
    held.read(81, 1); // over the budget of 3: read, not kept
    expect(held.openCount).toBe(3);
    expect(held.read(81, 1).buf.toString('latin1', 0, 2)).toBe('0\n');
    held.retain([81]);
    expect(held.openCount).toBe(1);
    held.closeAll();
    expect(held.openCount).toBe(0);
  });

  it.for([true, false])(
    'gives the same sample as a one-shot sampler on the basic fixture, tick after tick (native reads: %s)',
    (native, ctx) => {
      if (native) needKernel(ctx, built, why);
      const s = new Sampler(BASIC, { incremental: true, native });
      expect(s.readerName).toBe(native ? 'held files, native reads (incremental)' : 'held files (incremental)');
      const oneShot = new Sampler(BASIC, { native: false }).sample(7);
      expect(s.sample(7)).toEqual(oneShot);
      const second = s.sample(7);
      expect(second).toEqual(oneShot);
      // Unchanged processes keep their record from one tick to the next.
      expect(s.sample(7).processes.filter((p, i) => p === second.processes[i]).length).toBeGreaterThan(5);
      expect(s.heldCount).toBeGreaterThan(0);
      s.close();
      expect(s.heldCount).toBe(0);
    },
  );

  it('hands on the last record when the held files read the same bytes, and only then', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'fast');
    writeProcTree(root, { memTotalKb: 1000, swapTotalKb: 0 }, [
      { pid: 33, comm: 'a', rssPages: 3 },
      { pid: 34, comm: 'b', rssPages: 4 },
      { pid: 35, comm: 'c', rssPages: 5 },
    ]);
    rmSync(join(root, '35/status'));
    mkdirSync(join(root, '35/status')); // unreadable: such a record is never handed on
    const s = new Sampler(root, { incremental: true });
    const offScreen = { cmdline: true, cgroup: true, oomScoreFor: new Set<number>() };
    const byPid = () => new Map(s.sample(0, offScreen).processes.map((p) => [p.pid, p]));
    byPid();
    const one = byPid();
    const two = byPid();
    expect(two.get(33)).toBe(one.get(33));
    expect(two.get(35)).not.toBe(one.get(35));
    // stat moves (rss), oom_score_adj moves, status becomes readable: each is seen next tick
    writeFileSync(join(root, '33/stat'), statLine({ pid: 33, comm: 'a', rssPages: 30 }));
    writeFileSync(join(root, '34/oom_score_adj'), '7\n');
    rmSync(join(root, '35/status'), { recursive: true });
    writeFileSync(join(root, '35/status'), statusText({ pid: 35, comm: 'c', rssPages: 5, swapKb: 12 }));
    const three = byPid();
    expect([three.get(33)?.rssPages, three.get(34)?.oomScoreAdj, three.get(35)?.swapKb]).toEqual([30, 7, 12]);
    expect(byPid().get(34)).toBe(three.get(34));
    // a record that could not be cached (status unreadable now) is not handed on later
    writeFileSync(join(root, '33/stat'), statLine({ pid: 33, comm: 'a', rssPages: 31 }));
    rmSync(join(root, '33/status'));
    mkdirSync(join(root, '33/status'));
    expect(byPid().get(33)).toMatchObject({ rssPages: 31, uid: null });
    expect(byPid().get(33)).toMatchObject({ rssPages: 31, uid: null });
    // a row wanted on screen reads the kernel's oom_score: not handed on blind
    expect(
      s.sample(0, { ...offScreen, oomScoreFor: new Set([34]) }).processes.find((p) => p.pid === 34)?.oomScore,
    ).not.toBeNull();
    s.close();
  });

  it('lists pids ascending from either reader', (ctx) => {
    needKernel(ctx, built, why);
    const root = join(tmp, 'order');
    writeProcTree(
      root,
      { memTotalKb: 1000, swapTotalKb: 0 },
      [100, 9, 20, 3].map((pid) => ({ pid, comm: 'x' })),
    );
    mkdirSync(join(root, '12abc'));
    expect(new ProcFs(root, nativeReader()).listPids()).toEqual([3, 9, 20, 100]);
    expect(new ProcFs(root).listPids()).toEqual([3, 9, 20, 100]);
    expect(() => new ProcFs(join(root, 'missing'), nativeReader()).listPids()).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
  });
});

describe('trimFilePages (the commands that stay up give back what only start-up touched)', () => {
  it("unmaps a process's clean file pages, and what it unmapped still runs", (ctx) => {
    needKernel(ctx, built, why);
    // in a child of its own: its RSS and nothing else's is measured
    const addon = (createRequire(import.meta.url)('node-gyp-build') as { path(dir: string): string }).path(
      join(import.meta.dirname, '../..'),
    );
    const child = `
      const m = require(${JSON.stringify(addon)});
      const fs = require('node:fs');
      const kb = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
      new Intl.Segmenter(); // ICU's data, in the node binary
      const before = { file: kb('RssFile'), anon: kb('RssAnon') };
      const dropped = m.trimFilePages();
      const after = { file: kb('RssFile'), anon: kb('RssAnon') };
      // code, read-only data and relocated sections after the trim: ICU, zlib (not loaded yet), JSON
      const graphemes = [...new Intl.Segmenter().segment('日本語e\\u0301')].length;
      const gz = require('node:zlib').gunzipSync(require('node:zlib').gzipSync('x'.repeat(999))).length;
      console.log(JSON.stringify({ before, dropped, after, graphemes, gz, json: JSON.parse('[1]')[0] }));`;
    const r = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const o = JSON.parse(r.stdout) as {
      before: { file: number; anon: number };
      after: { file: number; anon: number };
      dropped: number;
      graphemes: number;
      gz: number;
      json: number;
    };
    expect(o.dropped).toBeGreaterThan(0);
    // Node alone has ~30 MiB of its binary resident after start-up; the read of status maps some back
    expect(o.after.file).toBeLessThan(o.before.file / 2);
    // anonymous memory (the heap, copied-on-write pages) is not touched
    expect(o.after.anon).toBeGreaterThanOrEqual(o.before.anon * 0.9);
    expect([o.graphemes, o.gz, o.json]).toEqual([4, 999, 1]);
  });
});
