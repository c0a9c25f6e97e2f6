// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import type { JobState } from '../../contract/jobs.js';
import { createClient } from '../../renderer/src/api/client.js';
import { TasksPanel } from '../../renderer/src/components/TasksPanel.js';
import { createAppStore } from '../../renderer/src/state/app-store.js';
import { AppStoreContext } from '../../renderer/src/state/use-app.js';
import { FakeTransport } from '../support/fake-transport.js';

const job = (id: string, status: JobState['status']): JobState => ({
  id,
  kind: 'gc',
  title: `Garbage collection ${id}`,
  store: '/s',
  status,
  startedAt: 1,
  progress: { phase: status },
  log: [],
});

afterEach(() => {
  cleanup();
  localStorage.clear();
});

it('"Clear finished" asks the host to forget the finished jobs and keeps the running ones', async () => {
  const host = new FakeTransport();
  const running = job('a', 'running');
  host.answers.clearFinishedJobs = () => [running];
  const store = createAppStore(createClient(host));
  for (const j of [job('b', 'done'), job('c', 'failed'), running]) store.getState().applyJob(j);
  render(
    <AppStoreContext.Provider value={store}>
      <TasksPanel />
    </AppStoreContext.Provider>,
  );
  expect(screen.getByText('Garbage collection b')).toBeTruthy();
  await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Clear finished' })));
  expect(host.called('clearFinishedJobs')).toHaveLength(1);
  expect(screen.queryByText('Garbage collection b')).toBeNull();
  expect(screen.queryByText('Garbage collection c')).toBeNull();
  expect(screen.getByText('Garbage collection a')).toBeTruthy();
  expect(screen.queryByRole('button', { name: 'Clear finished' })).toBeNull();
});

it('folds to a strip in a narrow window while nothing runs, remembers a fold, and unfolds when the user starts a job', async () => {
  const host = new FakeTransport();
  const store = createAppStore(createClient(host));
  store.getState().applyJob(job('b', 'done'));
  const panel = () =>
    render(
      <AppStoreContext.Provider value={store}>
        <TasksPanel />
      </AppStoreContext.Provider>,
    );
  window.innerWidth = 1024;
  panel();
  expect(screen.queryByText('Garbage collection b')).toBeNull();
  fireEvent.click(screen.getByRole('button', { name: 'Show tasks' }));
  expect(screen.getByText('Garbage collection b')).toBeTruthy();
  cleanup();
  panel(); // the user's choice stands over the window's width
  expect(screen.getByText('Garbage collection b')).toBeTruthy();
  fireEvent.click(screen.getByRole('button', { name: 'Hide tasks' }));
  expect(screen.queryByText('Garbage collection b')).toBeNull();
  expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Show tasks' }));
  // A scheduled run and a failure are told on the strip, which stays folded.
  act(() => store.getState().applyJob(job('c', 'running')));
  act(() => store.getState().applyJob(job('d', 'failed')));
  expect(screen.getByRole('button', { name: 'Show tasks, 1 running, 1 needs a look' })).toBeTruthy();
  // A job the user starts opens it.
  host.answers.startJob = () => job('a', 'running');
  await act(async () => void (await store.getState().startJob({ kind: 'gc', store: '/s' })));
  expect(screen.getByText('Garbage collection a')).toBeTruthy();
  // So does a plan's "Back up now" (its job comes by event).
  fireEvent.click(screen.getByRole('button', { name: 'Hide tasks' }));
  host.answers.runPlanNow = () => null;
  await act(async () => store.getState().runPlanNow('docs'));
  expect(host.called('runPlanNow')).toEqual([{ planId: 'docs' }]);
  expect(screen.getByText('Garbage collection a')).toBeTruthy();
});
