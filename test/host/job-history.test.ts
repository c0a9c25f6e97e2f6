import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobAdvice } from '../../contract/job-summary.js';
import type { JobState } from '../../contract/jobs.js';
import { JobHistory } from '../../host/job-history.js';
import { useTempDirs } from '../support/temp.js';

const verifyJob: JobState = {
  id: 'j1',
  kind: 'verify',
  title: 'Verify host/docs',
  store: '/s',
  status: 'attention',
  startedAt: 1,
  endedAt: 2,
  progress: { phase: 'verifying' },
  problems: [{ path: 'host/docs/2026-12-01T10:00:00Z: /a.bin', message: 'chunk ab is damaged' }],
  problemCount: 1,
  advice: { kind: 'verify', groups: [{ group: 'host/docs', source: '/home/ann/docs' }] },
  log: [],
};

/** The finished jobs kept across restarts: read back record by record, older versions' records included. */
describe('the job history', () => {
  const temp = useTempDirs();

  function historyWith(jobs: unknown[]): JobHistory {
    const dir = temp('job-history');
    writeFileSync(join(dir, 'job-history.json'), JSON.stringify({ version: 1, jobs }));
    return new JobHistory(dir);
  }

  it('keeps a job advice as fields across a restart', () => {
    const dir = temp('job-history');
    const history = new JobHistory(dir);
    history.save([verifyJob]);
    history.flush();
    expect(JSON.parse(readFileSync(join(dir, 'job-history.json'), 'utf8')).jobs[0].advice).toEqual(verifyJob.advice);
    expect(new JobHistory(dir).load()).toEqual([verifyJob]);
  });

  it("loads an older version's advice sentence as that job's adviceText, shown as it was", () => {
    const sentence = 'Back up /home/ann/docs (host/docs) again: that writes … Then verify again.';
    const [job] = historyWith([{ ...verifyJob, advice: sentence }]).load();
    expect(job!.advice).toBeUndefined();
    expect(job!.adviceText).toBe(sentence);
    expect(jobAdvice(job!)).toBe(sentence);
  });

  it('drops a record whose advice is of another shape, and keeps the others', () => {
    const strange = { ...verifyJob, id: 'j2', advice: { kind: 'reinstall', groups: [] } };
    const noGroups = { ...verifyJob, id: 'j3', advice: { kind: 'restore' } };
    const plain = { ...verifyJob, id: 'j4', status: 'done', advice: undefined };
    expect(
      historyWith([strange, noGroups, verifyJob, plain])
        .load()
        .map((j) => j.id),
    ).toEqual(['j1', 'j4']);
  });
});
