import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanRun, PlanStatus } from '../../../contract/plans.js';
import { PlanRuntimeFile, type PlanRuntime } from '../../../core/plans/plan-runtime.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import { cairn, CLI, expectCliError, type CliResult } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { storeTempRoot, tempDir, useTempDirs } from '../../support/temp.js';

/** A usage error: exit 2, a pointer to --help, nothing on stdout, no stack trace. */
function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain("Run 'cairn --help' for usage.");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

function json<T>(r: CliResult): T {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface ShownPlan {
  plan: Plan;
  status: PlanStatus;
  excludes: string[];
  nextRuns: number[];
  runtime: PlanRuntime;
  runs: PlanRun[];
}

describe('cairn plan: backup plans from the command line', () => {
  const temp = useTempDirs();
  let base = '';
  let store = '';

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    base = tempDir('plan-cli', storeTempRoot());
    store = join(base, 'store');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** A config folder of its own for each test: the plans file, the state and the history live there. */
  function config(): { dir: string; plan: (args: string[]) => Promise<CliResult> } {
    const dir = temp('plan-config');
    return { dir, plan: (args) => cairn(['plan', ...args], { env: { CAIRN_CONFIG_DIR: dir } }) };
  }

  function source(files: Record<string, string>): string {
    const dir = temp('plan-source');
    for (const [name, data] of Object.entries(files)) put(dir, name, data);
    return dir;
  }

  const quick = ['--gc-every-days', '0', '--full-verify-every-days', '0'];

  it('add, list, show, edit and remove a plan, in words and as JSON', async () => {
    const { dir, plan } = config();
    const src = source({ 'a.txt': 'a' });
    const added = json<{ plan: Plan; status: PlanStatus }>(
      await plan([
        'add',
        'My Docs',
        '--source',
        src,
        '--store',
        store,
        '--every',
        '30m',
        '--preset',
        'caches',
        '--exclude',
        '*.log',
        '--keep-last',
        '3',
        '--keep-daily',
        '7',
        '--verify-new',
        '--notify',
        'all',
        '--json',
      ]),
    );
    expect(added.plan).toMatchObject({
      name: 'My Docs',
      id: 'my-docs',
      groupId: 'My-Docs',
      sources: [{ kind: 'folder', path: src }],
      store,
      schedule: { kind: 'interval', every: 30, unit: 'minutes' },
      excludes: ['*.log'],
      excludePresets: ['caches'],
      retention: { keepLast: 3, keepDaily: 7 },
      maintenance: { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 },
      notify: 'all',
      paused: false,
    });
    // A new plan on an interval makes its first backup at once.
    expect(added.status).toMatchObject({ state: 'new', nextRunAt: added.plan.createdAt });

    const human = await plan(['add', 'Photos', '--source', src, '--store', store, '--daily', '3:30']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Added plan "Photos" \(id photos\)\n/);
    expect(human.stdout).toMatch(/group +host\/Photos\n/);
    expect(human.stdout).toMatch(/schedule +daily at 03:30\n/);
    expect(human.stdout).toMatch(/next run +\d{4}-\d\d-\d\d 03:30:00\n/);

    const list = await plan(['list']);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME +ID +SOURCE +STORE +SCHEDULE +STATE +LAST SUCCESS +NEXT RUN$/);
    expect(list.stdout).toMatch(/My Docs +my-docs +\S+ +\S+ +every 30 minutes +not run yet +never +due now/);
    const listed = json<{ plan: Plan; status: PlanStatus }[]>(await plan(['list', '--json']));
    expect(listed.map((e) => [e.plan.name, e.status.state])).toEqual([
      ['My Docs', 'new'],
      ['Photos', 'new'],
    ]);

    const shown = json<ShownPlan>(await plan(['show', 'my docs', '--json']));
    expect(shown.excludes).toEqual(['.cache/', 'Cache/', 'cache/', 'CacheStorage/', '.thumbnails/', '*.tmp', '*.log']);
    // Due now (a new interval plan), then every 30 minutes from then.
    const [first] = shown.nextRuns;
    expect(first).toBeGreaterThanOrEqual(added.plan.createdAt);
    expect(first).toBeLessThanOrEqual(Date.now());
    expect(shown.nextRuns).toEqual([0, 1, 2].map((i) => first! + i * 30 * 60_000));
    expect(shown.runs).toEqual([]);
    const showText = (await plan(['show', 'my-docs'])).stdout;
    expect(showText).toMatch(/retention +keep last 3, daily 7\n/);
    expect(showText).toMatch(/excluded +\.cache\/ Cache\/ .* \*\.log\n/);
    expect(showText).toMatch(/next runs +\S+ \S+, \S+ \S+, \S+ \S+\n/);
    expect(showText).toMatch(/No runs yet\.\n$/);

    // Each flag replaces its setting; the rest stays. A rename keeps the id and the group.
    const edited = json<{ plan: Plan; status: PlanStatus }>(
      await plan([
        'edit',
        'my-docs',
        '--name',
        'Documents',
        '--weekly',
        'mon-wed,sat@07:00',
        '--keep-daily',
        '0',
        '--no-verify-new',
        '--preset',
        '',
        '--pause',
        '--json',
      ]),
    );
    expect(edited.plan).toMatchObject({
      name: 'Documents',
      id: 'my-docs',
      groupId: 'My-Docs',
      createdAt: added.plan.createdAt,
      schedule: { kind: 'weekly', days: ['mon', 'tue', 'wed', 'sat'], at: '07:00' },
      retention: { keepLast: 3 },
      excludes: ['*.log'],
      excludePresets: [],
      maintenance: { gcEveryDays: 7, verifyNew: false, fullVerifyEveryDays: 30 },
      paused: true,
    });
    expect(edited.status).toMatchObject({ state: 'paused' });
    expect(edited.status.nextRunAt).toBeUndefined();
    const resumed = await plan(['edit', 'documents', '--resume']);
    expect(resumed.stdout).toMatch(/schedule +Mon, Tue, Wed, Sat at 07:00\n/);

    const removed = await plan(['remove', 'Documents']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('Removed plan "Documents" (id my-docs), its schedule state and its run history.');
    expect(removed.stdout).toContain(`Its snapshots stay in ${store} (group host/My-Docs)`);
    const left = JSON.parse(readFileSync(join(dir, 'plans.json'), 'utf8')) as { plans: Plan[] };
    expect(left.plans.map((p) => p.name)).toEqual(['Photos']);
    expectCliError(await plan(['show', 'my-docs']), /no plan "my-docs"; the plans are: Photos/);
  });

  it('pause-all pauses every plan for a while or until resume-all, and says so in the list', async () => {
    const { dir, plan } = config();
    expect(
      (await plan(['add', 'Nightly', '--source', source({ a: 'a' }), '--store', store, '--daily', '03:00'])).code,
    ).toBe(0);
    const timed = await plan(['pause-all', '--for', '2h', '--json']);
    expect(timed.code, timed.stderr).toBe(0);
    const { pause } = JSON.parse(timed.stdout) as { pause: { until: number } };
    expect(pause.until).toBeGreaterThan(Date.now() + 119 * 60_000);
    const listed = JSON.parse((await plan(['list', '--json'])).stdout) as { status: { state: string } }[];
    expect(listed.map((p) => p.status.state)).toEqual(['paused']);
    expect((await plan(['pause-all'])).stdout).toMatch(/until 'cairn plan resume-all'/);
    expect((await plan(['list'])).stdout).toMatch(/Nightly .* paused .* -\n/);
    expect((await plan(['pause-all', '--for', 'soon'])).code).toBe(2);
    expect((await plan(['resume-all', '--for', '1h'])).code).toBe(2);
    expect((await plan(['resume-all'])).code).toBe(0);
    expect(existsSync(join(dir, 'plans-paused.json'))).toBe(false);
    expect((await plan(['list'])).stdout).toMatch(/Nightly .* not run yet /);
  });

  it('refuses unknown flags, bad values, a taken name or group, and writes nothing', async () => {
    const { dir, plan } = config();
    const src = source({ 'a.txt': 'a' });
    const add = (name: string, ...flags: string[]) => plan(['add', name, '--source', src, '--store', store, ...flags]);
    expect((await add('Docs')).code).toBe(0);
    const file = join(dir, 'plans.json');
    const before = readFileSync(file);

    expectUsageError(await add('X', '--dry-run'), /plan add takes no --dry-run \(it takes --source, /);
    expectUsageError(await plan(['list', '--every', '1m']), /plan list takes no --every/);
    expectUsageError(await plan(['edit', 'docs', '--paused']), /plan edit takes no --paused/);
    expectUsageError(
      await plan(['frob']),
      /unknown plan sub-command "frob" \(add, list, show, edit, remove, run, pause-all, resume-all\)/,
    );
    expectUsageError(await add('X', '--every', '5x'), /invalid --every "5x": minutes or hours, e.g. 30m or 2h/);
    expectUsageError(await add('X', '--every', '0m'), /invalid --every "0m": at least 1 minute/);
    expectUsageError(await add('X', '--daily', '25:00'), /invalid --daily "25:00": a time of day is HH:MM/);
    expectUsageError(await add('X', '--weekly', 'mon,xyz@10:00'), /"xyz" is not a day or a range of days/);
    expectUsageError(await add('X', '--calendar', '61 * * * *'), /invalid --calendar: .*"61 \* \* \* \*" is not valid/);
    expectUsageError(await add('X', '--calendar', '* * *'), /has 3 fields; cron has 5/);
    expectUsageError(
      await add('X', '--daily', '03:00', '--every', '1h'),
      /a plan has one schedule: give one of --every, --daily/,
    );
    expectUsageError(await add('X', '--notify', 'loud'), /invalid --notify "loud": one of off, failures, all/);
    expectUsageError(await add('X', '--keep-last', 'many'), /invalid --keep-last "many": a whole number/);
    expectUsageError(await add('X', '--preset', 'music'), /invalid --preset "music": one of caches, trash, /);
    expectUsageError(await add('X', '--gc-every-days', '400'), /from 0 \(never\) to 366/);
    expectUsageError(await plan(['add', 'X', '--store', store]), /plan add needs --source/);
    expectUsageError(await plan(['add', 'My', 'Docs', '--source', src, '--store', store]), /unexpected "Docs"/);
    expectUsageError(await plan(['edit', 'docs']), /plan edit needs a setting to change/);
    expectUsageError(await plan(['edit', 'docs', '--pause', '--resume']), /--pause and --resume say opposite things/);
    expectCliError(await add('docs'), /a plan named "Docs" exists already/);
    // Another name, the same group id, the same store: two plans would prune each other's snapshots.
    expectCliError(
      await add('Docs!'),
      /the plan "Docs" already backs up into host\/Docs in .*; give this plan another name/,
    );
    expectCliError(await add('X', '--image'), /is a folder: --image is for a disk image file/);
    expect(readFileSync(file)).toEqual(before);
  });

  it('plan add and edit take several sources: folders and disk images, all shown; bad combinations refused', async () => {
    const { plan } = config();
    const [docs, music] = [source({ 'a.txt': 'a' }), source({ 'b.txt': 'b' })];
    const image = join(source({}), 'disk.img');
    writeFileSync(image, 'a disk');
    const added = json<{ plan: Plan }>(
      await plan([
        'add',
        'Several',
        '--source',
        docs,
        '--source',
        music,
        '--source-image',
        image,
        '--store',
        store,
        '--json',
      ]),
    );
    expect(added.plan.sources).toEqual([
      { kind: 'folder', path: docs },
      { kind: 'folder', path: music },
      { kind: 'image', path: image },
    ]);
    const shown = await plan(['show', 'several']);
    expect(shown.stdout).toMatch(new RegExp(`sources +folder ${docs}\n +folder ${music}\n +disk image ${image}\n`));
    expect((await plan(['list'])).stdout).toContain(`${docs}, ${music}, ${image}`);

    const edited = await plan(['edit', 'several', '--source', music]);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(new RegExp(`source +folder ${music}\n +store`));
    expect(edited.stderr).toMatch(/the next run backs up .* whose snapshots so far are of /);

    expectUsageError(
      await plan(['add', 'X', '--source', image, '--image', '--source-image', image, '--store', store]),
      /--image makes every --source a disk image; with --source-image/,
    );
    expectUsageError(await plan(['add', 'X', '--source-image', '', '--store', store]), /--source-image is empty/);
    expectCliError(
      await plan(['add', 'X', '--source', docs, '--source', join(docs, 'a.txt'), '--store', store]),
      /a.txt is a file: add --image/,
    );
    expectCliError(
      await plan(['add', 'X', '--source', docs, '--source', `${docs}/`, '--store', store]),
      /is given twice/,
    );
    expectCliError(
      await plan(['add', 'X', '--source', docs, '--source-image', docs, '--store', store]),
      /is a folder: --source-image is for a disk image file/,
    );
  });

  it('a plans file edited into nonsense is an error naming it, and is never rewritten', async () => {
    const { dir, plan } = config();
    const src = source({ 'a.txt': 'a' });
    const file = join(dir, 'plans.json');
    for (const broken of ['nonsense {\n  "plans": [\n', '{"version":1,"plans":[{"name":"x"}]}\n']) {
      writeFileSync(file, broken);
      const pattern = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*(not valid JSON|not a plans file)`);
      expectCliError(await plan(['list']), pattern);
      expectCliError(await plan(['show', 'x']), pattern);
      expectCliError(await plan(['add', 'Y', '--source', src, '--store', store]), pattern);
      expectCliError(await plan(['edit', 'x', '--daily', '01:00']), pattern);
      expectCliError(await plan(['remove', 'x']), pattern);
      expectCliError(await plan(['run', 'x']), pattern);
      expect(readFileSync(file, 'utf8')).toBe(broken);
    }
  });

  it('plan run backs up into the store, records the run, and applies retention', async () => {
    const { dir, plan } = config();
    const src = source({ 'a.txt': 'first', 'sub/b.txt': 'b' });
    const { plan: made } = json<{ plan: Plan }>(
      await plan([
        'add',
        'Run me',
        '--source',
        src,
        '--store',
        store,
        '--manual',
        '--keep-last',
        '1',
        ...quick,
        '--json',
      ]),
    );
    const first = await plan(['run', 'run me']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^Plan "Run me" backed up: host\/Run-me\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, 2 files \(6 B\), .* new\n$/,
    );
    const snapshots = json<{ path: string }[]>(await cairn(['snapshots', store, 'host/Run-me', '--json']));
    expect(snapshots).toHaveLength(1);
    expect(first.stdout).toContain(snapshots[0]!.path);

    // Snapshot times are to the second: the second run must not share the first's.
    await new Promise((r) => setTimeout(r, 1100));
    put(src, 'a.txt', 'second');
    const second = json<PlanRun>(await plan(['run', made.id, '--json']));
    expect(second).toMatchObject({ trigger: 'manual', status: 'succeeded', files: 2, pruned: 1 });
    const after = json<{ path: string }[]>(await cairn(['snapshots', store, 'host/Run-me', '--json']));
    expect(after.map((s) => s.path)).toEqual([second.snapshot]);

    const history = new RunHistory(dir).runs(made.id);
    expect(history.map((r) => [r.status, r.snapshot])).toEqual([
      ['succeeded', second.snapshot],
      ['succeeded', snapshots[0]!.path],
    ]);
    const runtime = new PlanRuntimeFile(dir).get(made.id);
    expect(runtime).toMatchObject({ failures: 0, lastSuccessAt: second.endedAt, lastAttemptAt: second.startedAt });
    const shown = json<ShownPlan>(await plan(['show', made.id, '--json']));
    expect(shown.status).toMatchObject({ state: 'ok', lastSuccessAt: second.endedAt });
    expect(shown.runs).toHaveLength(2);
    const text = (await plan(['show', made.id])).stdout;
    expect(text).toMatch(
      /Last runs \(newest first\):\n +STARTED +TRIGGER +RESULT\n.*manual +succeeded in \d+ s: host\/Run-me\//,
    );
  });

  it('a run whose source is missing fails (exit 1) and is a failed run in the history; a missing store is a clear error', async () => {
    const { dir, plan } = config();
    const gone = join(temp('plan-gone'), 'not-here');
    const added = await plan(['add', 'Gone', '--source', gone, '--store', store, ...quick]);
    expect(added.code).toBe(0);
    expect(added.stderr).toContain(`warning: ${gone} does not exist: the plan's runs fail until it does`);
    expectCliError(
      await plan(['run', 'gone']),
      new RegExp(`plan "Gone" failed: cannot back up ${gone}: no such file or folder`),
    );
    const [run] = new RunHistory(dir).runs('gone');
    expect(run).toMatchObject({ trigger: 'manual', status: 'failed' });
    expect(new PlanRuntimeFile(dir).get('gone')).toMatchObject({ failures: 1 });
    expect(json<{ status: PlanStatus }[]>(await plan(['list', '--json']))[0]?.status.state).toBe('failing');

    const noStore = join(temp('plan-nostore'), 'store');
    expect((await plan(['add', 'Away', '--source', temp('plan-source'), '--store', noStore, '--manual'])).code).toBe(0);
    expectCliError(
      await plan(['run', 'away']),
      new RegExp(`the store of plan "Away" is not there: datastore ${noStore} does not exist \\(an unplugged drive\\?`),
    );
    // As the scheduler records it: a wait for the store, not a failure.
    expect(new RunHistory(dir).runs('away')).toEqual([]);
    expect(new PlanRuntimeFile(dir).get('away')).toMatchObject({ failures: 0, waiting: 'store' });
  });
});
