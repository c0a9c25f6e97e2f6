import { watch, type FSWatcher } from 'node:fs';
import { isCairnError } from '../errors.js';
import { makeDirectories } from '../fs/make-directories.js';
import { acquireExclusiveLock, describeHolder, exclusiveLockHolder, type HeldLock } from '../locks/process-lock.js';
import { silentLogger, type Logger } from '../log.js';
import { PlanBook, PLANS_FILE } from '../plans/plan-book.js';
import { PlanRuntimeFile } from '../plans/plan-runtime.js';
import { PAUSE_FILE, PlansPause } from '../plans/plans-pause.js';
import { RunHistory } from '../plans/run-history.js';
import { Scheduler, type SchedulerDeps } from './scheduler.js';

/** How often a scheduler on standby looks whether the active one is gone. */
export const STANDBY_POLL_MS = 5_000;
/** Files whose edit by another process the active scheduler reads at once. */
const WATCHED_FILES: ReadonlySet<string> = new Set([PLANS_FILE, PAUSE_FILE]);
/** Edits of the plans file close together are one re-read. */
const EDIT_SETTLE_MS = 200;

export type SchedulerRole = 'active' | 'standby' | 'stopped';

export interface SchedulerServiceOptions extends Omit<SchedulerDeps, 'book' | 'runtime' | 'history' | 'pause'> {
  configDir: string;
  /** Who runs it, for the lock's holder record and the standby's message: "the desktop app", "cairn scheduler". */
  where: string;
  /** The role it takes; on standby, `holder` says who holds the lock ("the scheduler of … by pid …"). */
  onRole?: (role: SchedulerRole, holder?: string) => void;
}

/**
 * Exactly one scheduler per user: the one that holds the `scheduler` lock in the config folder runs plans;
 * any other (a second app, browser mode, `cairn scheduler`) stays on standby and takes over within
 * STANDBY_POLL_MS when the holder stops or dies (a killed holder's lock is taken over at once by pid).
 */
export class SchedulerService {
  readonly book: PlanBook;
  readonly runtime: PlanRuntimeFile;
  readonly history: RunHistory;
  readonly pause: PlansPause;
  readonly scheduler: Scheduler;
  private readonly log: Logger;
  private lock: HeldLock | undefined;
  private standbyTimer: ReturnType<typeof setTimeout> | undefined;
  private watcher: FSWatcher | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private role: SchedulerRole = 'stopped';
  private started = false;

  constructor(private readonly options: SchedulerServiceOptions) {
    this.log = options.log ?? silentLogger;
    makeDirectories(options.configDir, 0o700);
    this.book = new PlanBook(options.configDir, this.log);
    this.runtime = new PlanRuntimeFile(options.configDir);
    this.history = new RunHistory(options.configDir);
    this.pause = new PlansPause(options.configDir, this.log);
    const files = { book: this.book, runtime: this.runtime, history: this.history, pause: this.pause };
    this.scheduler = new Scheduler({ ...options, ...files });
  }

  get currentRole(): SchedulerRole {
    return this.role;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.tryToLead();
  }

  /**
   * One look at the plans under the lock: what is due runs, one run after another (`cairn scheduler --once`).
   * If another scheduler holds the lock nothing runs here, and the answer names it.
   */
  async runOnce(): Promise<{ ran: true } | { ran: false; holder: string }> {
    const lock = this.takeLock();
    if (!lock) return { ran: false, holder: this.holder() };
    this.lock = lock;
    lock.signal.addEventListener('abort', () => void this.scheduler.stop(), { once: true });
    this.setRole('active');
    try {
      await this.scheduler.runDue();
    } finally {
      lock.release();
      this.lock = undefined;
      this.setRole('stopped');
    }
    return { ran: true };
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.standbyTimer);
    await this.stepDown();
    this.setRole('stopped');
  }

  /** Stops running plans and lets the lock go. */
  private async stepDown(): Promise<void> {
    clearTimeout(this.settleTimer);
    this.watcher?.close();
    this.watcher = undefined;
    await this.scheduler.stop();
    this.lock?.release();
    this.lock = undefined;
  }

  /** Re-read plans now (an edit made through this process, a resume from sleep, a power change). */
  wake(): void {
    if (this.role === 'active') this.scheduler.wake();
  }

  private tryToLead(): void {
    if (!this.started || this.role === 'active') return;
    this.lock = this.takeLock();
    if (!this.lock) {
      // Told once, when it starts standing by; the polls after that are quiet.
      if (this.role !== 'standby') this.setRole('standby', this.holder());
      this.standbyTimer = setTimeout(() => this.tryToLead(), STANDBY_POLL_MS);
      this.standbyTimer.unref?.();
      return;
    }
    this.lock.signal.addEventListener('abort', () => void this.lostLock(), { once: true });
    this.watchPlans();
    this.setRole('active');
    this.scheduler.start();
  }

  private takeLock(): HeldLock | undefined {
    try {
      return acquireExclusiveLock(
        this.options.configDir,
        'scheduler',
        `the scheduler of ${this.options.where}`,
        this.log,
      );
    } catch (err) {
      if (!isCairnError(err, 'LOCKED')) this.log.warn(`cannot take the scheduler lock: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** Who holds the scheduler lock, in words. */
  private holder(): string {
    const holder = exclusiveLockHolder(this.options.configDir, 'scheduler');
    return holder ? describeHolder(holder) : 'a process that is just starting or stopping';
  }

  /** The lock was lost (its folder removed, or judged stale after a long sleep): stand by again. */
  private async lostLock(): Promise<void> {
    this.log.warn('the scheduler lost its lock; another scheduler may run plans now, this one stands by');
    await this.stepDown();
    this.role = 'stopped'; // not told: tryToLead tells standby (with the new holder) or active
    this.tryToLead();
  }

  private watchPlans(): void {
    try {
      this.watcher = watch(this.options.configDir, (_event, name) => {
        if (typeof name !== 'string' || !WATCHED_FILES.has(name)) return;
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => this.scheduler.wake(), EDIT_SETTLE_MS);
      });
      this.watcher.on('error', () => undefined); // the wake at MAX_SLEEP_MS reads the plans anyway
    } catch {
      // No watching on this filesystem: plans are re-read at every wake.
    }
  }

  private setRole(role: SchedulerRole, holder?: string): void {
    if (role === this.role) return;
    this.role = role;
    this.options.onRole?.(role, holder);
  }
}
