import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { PlanBook, PLANS_FILE } from '../../../core/plans/plan-book.js';
import { cairnConfigDir } from '../../../core/plans/config-dir.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';

const docs = { name: 'My Docs', sources: [{ kind: 'folder' as const, path: '/home/u/docs' }], store: '/mnt/store' };

/** A store in `dir`, and a folder holding one file for each name. */
async function storeWithFolders(dir: string, names: [string, string]) {
  const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
  const folders = names.map((name) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'a.txt'), name);
    return join(dir, name);
  }) as [string, string];
  return { dir, store, folders };
}

describe('plan book', () => {
  const temp = useTempDirs();

  it('adds a plan with defaults, a stable id and a group derived from its name; edits keep both', () => {
    const book = new PlanBook(temp('plans'));
    const plan = book.add(docs, 1_000);
    expect(plan).toMatchObject({
      id: 'my-docs',
      groupId: 'My-Docs',
      createdAt: 1_000,
      schedule: { kind: 'daily', at: '12:00' },
      notify: 'failures',
      excludes: [],
      paused: false,
    });
    const renamed = book.edit('my docs', {
      name: 'Documents',
      schedule: { kind: 'interval', every: 2, unit: 'hours' },
    });
    expect(renamed).toMatchObject({ id: 'my-docs', groupId: 'My-Docs', name: 'Documents', createdAt: 1_000 });
    expect(book.get('my-docs').schedule).toEqual({ kind: 'interval', every: 2, unit: 'hours' });
    expect(book.get('documents').id).toBe('my-docs');
    expect(statSync(book.file).mode & 0o777).toBe(0o600);
    book.remove('my-docs');
    expect(book.list()).toEqual([]);
  });

  it('refuses what would share a group or a name, an invalid schedule, and sources twice or inside one another, writing nothing', () => {
    const book = new PlanBook(temp('plans'));
    book.add(docs);
    const before = readFileSync(book.file);
    expect(() => book.add({ ...docs, name: 'my docs' })).toThrow(/a plan named "My Docs" exists already/);
    expect(() => book.add({ ...docs, name: 'My-Docs' })).toThrow(/already backs up into host\/My-Docs/);
    expect(() => book.add({ ...docs, name: 'Cron', schedule: { kind: 'calendar', expression: '99 * * * *' } })).toThrow(
      /calendar expression "99 \* \* \* \*" is not valid/,
    );
    expect(() => book.add({ ...docs, name: 'Daily', schedule: { kind: 'daily', at: '25:00' } })).toThrow(
      /schedule.at: a time of day is HH:MM/,
    );
    expect(() => book.add({ ...docs, name: 'Two', sources: [...docs.sources, ...docs.sources] })).toThrow(
      /sources: \/home\/u\/docs is given twice/,
    );
    const inside = [...docs.sources, { kind: 'image' as const, path: '/home/u/docs/vm/disk.img' }];
    expect(() => book.add({ ...docs, name: 'Inside', sources: inside })).toThrow(
      /disk.img is inside \/home\/u\/docs, another source of the plan/,
    );
    expect(() => book.add({ ...docs, name: 'None', sources: [] })).toThrow(/a plan needs a folder or disk image/);
    const many = Array.from({ length: 33 }, (_, i) => ({ kind: 'folder' as const, path: `/data/${i}` }));
    expect(() => book.add({ ...docs, name: 'Many', sources: many })).toThrow(/at most 32/);
    expect(() => book.add({ ...docs, name: '%%%' })).toThrow(/cannot make a group id/);
    expect(() => book.edit('nope', { paused: true })).toThrow(/no plan "nope"; the plans are: My Docs/);
    expect(readFileSync(book.file)).toEqual(before);
  });

  it('a plans file edited into nonsense is an error naming it, and is left as it is', () => {
    const dir = temp('plans');
    const file = join(dir, PLANS_FILE);
    for (const text of ['{"version": 1, "plans": [{"name": 3}]}', '{ not json', '{"version": 2, "plans": []}']) {
      writeFileSync(file, text);
      const book = new PlanBook(dir);
      expect(() => book.list()).toThrow(new RegExp(`${file}.*(is not|not valid JSON)`));
      expect(() => book.add(docs)).toThrow(/is not/);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });

  it('takes several sources; an edit of them keeps every one it had as a former source', () => {
    const book = new PlanBook(temp('plans'));
    const two = [
      { kind: 'folder' as const, path: '/home/u/docs' },
      { kind: 'image' as const, path: '/vm/disk.img' },
    ];
    const plan = book.add({ ...docs, sources: two });
    expect(plan.sources).toEqual(two);
    expect(book.edit(plan.id, { sources: [...two].reverse() }).formerSources).toEqual([]); // the same, reordered
    const more = book.edit(plan.id, { sources: [...two, { kind: 'folder', path: '/home/u/music' }] });
    expect(more.formerSources).toEqual(['/vm/disk.img', '/home/u/docs']); // as the plan listed them
    const fewer = book.edit(plan.id, { sources: [{ kind: 'folder', path: '/home/u/music' }] });
    expect(fewer.formerSources).toEqual(['/home/u/docs', '/vm/disk.img', '/home/u/music']);
  });

  it('refuses a new plan whose group already holds backups of another folder in that store, when it is saved', async () => {
    const { dir, store, folders } = await storeWithFolders(temp('plan-group', storeTempRoot()), ['docs', 'other/docs']);
    const [docs, other] = folders;
    await backupFolder(store, docs, { id: 'Docs' }); // by hand, before any plan
    const book = new PlanBook(temp('plans'));
    const input = (path: string, at = store.root) => ({
      name: 'Docs',
      sources: [{ kind: 'folder' as const, path }],
      store: at,
    });
    expect(() => book.add(input(other))).toThrow(
      `host/Docs in ${store.root} holds backups of ${docs}; a plan backs up into the group named after it, so the plan "Docs" would back up there: give the plan for ${other} another name`,
    );
    expect(book.list()).toEqual([]);
    // The folder the group holds is taken, as the group's own; a store not there yet is left to the run.
    expect(book.add(input(docs)).groupId).toBe('Docs');
    book.remove('docs');
    const elsewhere = book.add(input(other, join(dir, 'not-yet')));
    expect(() => book.edit(elsewhere.id, { store: store.root })).toThrow(/holds backups of/);
    expect(book.get(elsewhere.id).store).toBe(join(dir, 'not-yet'));
    // The plan's own former folder (the user moved it on, then points it at that store): the run moves the group.
    book.edit(elsewhere.id, { sources: [{ kind: 'folder', path: docs }] });
    const movedOn = book.edit(elsewhere.id, { sources: [{ kind: 'folder', path: other }] });
    expect(movedOn.formerSources).toContain(docs);
    expect(book.edit(elsewhere.id, { store: store.root }).store).toBe(store.root);
    book.remove(elsewhere.id);
  });

  it('takes a plan of several folders over the group that records them, in whatever order it names them', async () => {
    const { store, folders } = await storeWithFolders(temp('plan-group-order', storeTempRoot()), ['music', 'docs']);
    const [music, docs] = folders;
    await backupFolder(store, [docs, music], { id: 'Both' });
    const sources = [music, docs].map((path) => ({ kind: 'folder' as const, path }));
    expect(new PlanBook(temp('plans')).add({ name: 'Both', sources, store: store.root }).groupId).toBe('Both');
  });

  it('paths are stored absolute', () => {
    const book = new PlanBook(temp('plans'));
    const plan = book.add({ ...docs, store: 'rel/store', sources: [{ kind: 'image', path: 'disk.img' }] });
    expect(plan.store).toBe(resolve('rel/store'));
    expect(plan.sources[0]!.path).toBe(resolve('disk.img'));
  });

  it('edits from several processes at once are all kept (read, change and write under a lock)', () => {
    const dir = temp('plans');
    const script = `
      import { PlanBook } from ${JSON.stringify(resolve('dist/core/plans/plan-book.js'))};
      const book = new PlanBook(process.argv[1]);
      for (let i = 0; i < 15; i++) book.add({ name: process.argv[2] + '-' + i, sources: [{ kind: 'folder', path: '/x' }], store: '/s' });
    `;
    // Three processes at once, each adding 15 plans: a lost update would lose plans.
    execFileSync('sh', [
      '-c',
      'for t in a b c; do "$0" --input-type=module -e "$1" "$2" "$t" & done; wait',
      process.execPath,
      script,
      dir,
    ]);
    const names = new PlanBook(dir).list().map((p) => p.name);
    expect(names).toHaveLength(45);
  });

  it('the config folder is $CAIRN_CONFIG_DIR, else the platform config folder (XDG on Linux)', () => {
    expect(cairnConfigDir({ CAIRN_CONFIG_DIR: '/tmp/x' })).toBe('/tmp/x');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = '/tmp/xdg';
    try {
      expect(cairnConfigDir({})).toBe(process.platform === 'linux' ? '/tmp/xdg/cairn' : cairnConfigDir({}));
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});
