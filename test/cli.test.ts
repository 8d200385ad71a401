// The CLI's own contract: one line per error, the cause chain only with OOMTOP_DEBUG=1.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../dist/bin/oomtop.js');

describe('errors', () => {
  it('one line by default; OOMTOP_DEBUG=1 adds what caused it', () => {
    const plain = spawnSync('node', [CLI, 'history', '--from', '/nonexistent-oomtop'], { encoding: 'utf8' });
    expect(plain.status).toBe(1);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    const debug = spawnSync('node', [CLI, 'history', '--from', '/nonexistent-oomtop'], {
      encoding: 'utf8',
      env: { ...process.env, OOMTOP_DEBUG: '1' },
    });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toContain('caused by: UserError: cannot read /nonexistent-oomtop (ENOENT)');
    expect(debug.stderr).toContain('caused by: Error: ENOENT: no such file or directory');
  });
});
