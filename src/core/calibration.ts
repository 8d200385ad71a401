// Which kernel rules a sample follows: the release string's guess (kernel-model.ts), proven
// or overruled by the kernel's own /proc/PID/oom_score of the processes the sample read.
import { globalTotalPages, unkillableReason } from './badness.js';
import { calibrate, type KernelModel, type Observation } from './kernel-model.js';
import type { ProcSample, SystemSample } from './types.js';

/** What calibration can compare: killable processes with every term and their oom_score read. */
export function observationsOf(processes: readonly ProcSample[], initIsGlobal: boolean): Observation[] {
  const out: Observation[] = [];
  for (const p of processes) {
    if (p.oomScore === null || p.oomScoreAdj === null || p.hasMm !== true) continue;
    if (unkillableReason(p, initIsGlobal, p.oomScoreAdj) !== null) continue;
    if (p.rssPages === null || p.swapKb === null || p.pteKb === null) continue;
    out.push({
      rssPages: p.rssPages,
      swapKb: p.swapKb,
      pteKb: p.pteKb,
      pmdKb: p.pmdKb,
      capSysAdmin: p.capSysAdmin,
      adj: p.oomScoreAdj,
      oomScore: p.oomScore,
    });
  }
  return out;
}

/** The model of a sample: its release's guess proven (or overruled) by the oom_score values it read. */
export function modelOf(
  s: Pick<SystemSample, 'kernelRelease' | 'meminfo' | 'pageSize' | 'initIsGlobal' | 'processes'>,
): KernelModel {
  const total = globalTotalPages(s.meminfo.memTotalKb, s.meminfo.swapTotalKb, s.pageSize);
  return calibrate(s.kernelRelease, observationsOf(s.processes, s.initIsGlobal), total, s.pageSize);
}
