import { describe, expect, it } from 'vitest';
import {
  badnessParts,
  calibrate,
  GENERATIONS,
  guessFromRelease,
  oomScoreOf,
  rulesById,
} from '../../src/core/kernel-model.js';

const input = { rssPages: 50_000, swapKb: 0, pteKb: 400, pmdKb: null, capSysAdmin: true, adj: 0 };

describe('the release string guess, with the known backports', () => {
  it.each([
    ['3.10.0-1160.119.1.el7.x86_64', 'rhel7'],
    ['3.10.108', '3.5'],
    ['3.16.0-11-amd64', '3.14'],
    ['4.14.343-261.564.amzn2.x86_64', '3.14'],
    ['4.15.0-213-generic', '4.15'],
    ['4.18.0-240.el8.x86_64', '4.17'],
    ['4.18.0-394.el8.x86_64', '5.9'],
    ['4.19.0-27-amd64', '4.17'],
    ['5.0.21', '4.17'],
    ['5.2.9', '5.1'],
    ['5.4.0-150-generic', '5.3'],
    ['5.4.143', '5.3'],
    ['5.4.144', '5.9'],
    ['5.10.0-30-amd64', '5.9'],
    ['6.18.0', '5.9'],
  ])('%s -> %s', (release, id) => {
    expect(guessFromRelease(release).rules.id).toBe(id);
  });

  it('says when the release is older than any rules it knows, or unknown', () => {
    expect(guessFromRelease('2.6.32-754.el6.x86_64').why).toContain('older than 3.5');
    expect(guessFromRelease(null).rules.id).toBe('5.9');
  });
});

describe('the rules of each generation', () => {
  it('the CAP_SYS_ADMIN bonus: adj -30 (3.5–3.13), 3% (3.14–4.16, RHEL 7), none (4.17+)', () => {
    expect(badnessParts(rulesById('3.5'), input, 1_000_000, 4096).badness).toBe(50_100 - 30 * 1000);
    expect(badnessParts(rulesById('rhel7'), input, 1_000_000, 4096)).toMatchObject({
      bonusPages: 1503,
      badness: 48_597,
    });
    expect(badnessParts(rulesById('4.17'), input, 1_000_000, 4096).badness).toBe(50_100);
    // Without the capability, no generation discounts.
    for (const g of GENERATIONS)
      expect(badnessParts(g, { ...input, capSysAdmin: false }, 1_000_000, 4096).badness).toBe(50_100);
  });

  it('clamps to 1 before 5.9, is signed since', () => {
    const low = { ...input, capSysAdmin: false, adj: -900 };
    expect(badnessParts(rulesById('5.3'), low, 1_000_000, 4096).badness).toBe(1);
    expect(badnessParts(rulesById('5.9'), low, 1_000_000, 4096).badness).toBe(50_100 - 900_000);
  });

  it('oom_score: badness * 1000 / totalpages before 5.9, (1000 + that) * 2 / 3 since; 0 when unkillable', () => {
    expect(oomScoreOf(rulesById('4.17'), 50_100, 1_000_000)).toBe(50);
    expect(oomScoreOf(rulesById('5.9'), 50_100, 1_000_000)).toBe(700);
    expect(oomScoreOf(rulesById('5.9'), -499_000, 1_000_000)).toBe(334);
    expect(oomScoreOf(rulesById('3.5'), null, 1_000_000)).toBe(0);
  });

  it('every generation names where its rules were read', () => {
    for (const g of GENERATIONS) expect(g.source).toMatch(/v\d\.\d+/);
  });
});

describe('calibration', () => {
  const obs = (oomScore: number) => [{ ...input, oomScore }];
  it('keeps the release guess among generations that score alike, overrules it otherwise', () => {
    expect(calibrate('5.2.9', obs(50), 1_000_000, 4096)).toMatchObject({ chosenBy: 'release', exact: true });
    expect(calibrate('5.2.9', obs(50), 1_000_000, 4096).rules.id).toBe('5.1');
    const m = calibrate('5.2.9', obs(700), 1_000_000, 4096);
    expect(m).toMatchObject({ chosenBy: 'calibration', exact: true, matched: 1, compared: 1 });
    expect(m.rules.id).toBe('5.9');
  });
  it('with nothing to compare the guess stands, unconfirmed', () => {
    expect(calibrate('4.19.0', [], 1_000_000, 4096)).toMatchObject({ chosenBy: 'release', exact: false, compared: 0 });
  });
});
