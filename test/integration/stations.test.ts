/**
 * "Where do I vote?": importing the list (all or nothing, idempotent,
 * --replace), finding a station by NINA or by place over the real webhook,
 * a 40-centre commune paged in Bambara, the BUREAU keyword by SMS, and no
 * NINA number left in clear in logs, records or Redis.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { measure } from '../../src/i18n/gsm.js';
import { csvText, importStationsCsv, ImportError, type ImportOptions } from '../../src/stations/station-import.js';
import { converse, startHarness, type Harness } from '../support/harness.js';

const fixture = (name: string) => readFileSync(join(process.cwd(), 'test', 'fixtures', name), 'utf8');
const NINA = 'FICTIF000000002';
let h: Harness;
let key: string;

const counts = async () => ({
  centres: Number((await h.ctx.db.selectFrom('polling_centres').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
  stations: Number((await h.ctx.db.selectFrom('polling_stations').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
  voters: Number((await h.ctx.db.selectFrom('voter_assignments').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
});
const importText = (text: string, options: Omit<ImportOptions, 'key'>) => importStationsCsv(h.ctx.db, csvText(text), { ...options, key });
/** The problems an import finds (nothing imported), or [] when it went through. */
const problemsOf = async (text: string) => {
  try {
    await importText(text, { replace: false });
  } catch (err) {
    if (err instanceof ImportError) return err.problems;
    throw err;
  }
  return [];
};

beforeAll(async () => {
  // No per-number limit: the 40-centre test pages through some twenty screens in well under a minute.
  h = await startHarness('stations', { env: { LOG_LEVEL: 'debug', RATE_LIMIT_PER_PHONE: '0' }, context: { worker: false } });
  key = h.ctx.secrets.phoneHashKey;
});
afterAll(() => h.close());

describe('importing polling stations', () => {
  it('imports the fictional list and its voters, and a second import changes nothing', async () => {
    for (let round = 0; round < 2; round++) {
      await expect(importText(fixture('stations-fictional.csv'), { replace: false })).resolves.toMatchObject({ centres: 4, stations: 7 });
      await expect(importText(fixture('voters-fictional.csv'), { replace: false })).resolves.toMatchObject({ voters: 2 });
      expect(await counts()).toEqual({ centres: 4, stations: 7, voters: 2 });
    }
    const hashes = await h.ctx.db.selectFrom('voter_assignments').select('nina_hash').execute();
    expect(JSON.stringify(hashes)).not.toContain('FICTIF');
  });

  it('reports every bad row with its column and imports nothing', async () => {
    const bad = [
      'centre_code;region;cercle;commune;centre;address;station;hours;latitude;longitude',
      'X-1;Fictive-Est;Cercle Trois;Commune Delta;Centre Delta (fictif);;1;;91;-8',
      'X-1;Fictive-Est;Cercle Trois;Commune Autre;Centre Delta (fictif);;1;;;',
      'X-2;;Cercle Trois;Commune Delta;Centre Epsilon (fictif);;;;12.5;',
      `X-3;Fictive-Est;Cercle Trois;Commune Delta;${'N'.repeat(61)};;1;;;`,
    ].join('\r\n');
    await expect(problemsOf(`\uFEFF${bad}`)).resolves.toEqual([
      { row: 2, column: 'latitude', reason: 'latitude invalide (un nombre entre -90 et 90)' },
      { row: 3, column: 'commune', reason: 'diffère de la ligne 2 (même centre_code)' },
      { row: 3, column: 'station', reason: 'bureau 1 déjà sur une autre ligne de ce centre' },
      { row: 4, column: 'region', reason: 'valeur manquante' },
      { row: 4, column: 'station', reason: 'valeur manquante' },
      { row: 4, column: 'longitude', reason: 'donnez la latitude et la longitude, ou aucune des deux' },
      { row: 5, column: 'centre', reason: 'plus de 60 caractères' },
    ]);
    await expect(problemsOf('region,name\nA,B')).resolves.toEqual([
      { row: 1, column: 'name', reason: 'colonne inconnue (attendues : centre_code, region, cercle, commune, centre, address, station, hours, latitude, longitude)' },
      { row: 1, column: 'centre_code', reason: 'colonne obligatoire absente' },
      { row: 1, column: 'cercle', reason: 'colonne obligatoire absente' },
      { row: 1, column: 'commune', reason: 'colonne obligatoire absente' },
      { row: 1, column: 'centre', reason: 'colonne obligatoire absente' },
      { row: 1, column: 'station', reason: 'colonne obligatoire absente' },
    ]);
    // A voters file without its header row: the first NINA is not shown as a column name.
    const headless = await problemsOf('FICTIF000000009,FIC-001,1\n');
    expect(headless).toContainEqual({ row: 1, column: 'colonne 1', reason: expect.stringMatching(/^colonne inconnue/) });
    expect(JSON.stringify(headless)).not.toContain('fictif');
    await expect(problemsOf('')).resolves.toEqual([{ row: 1, column: '', reason: 'fichier vide : une ligne d’en-tête est attendue' }]);
    await expect(problemsOf('nina,centre_code,station\n')).resolves.toEqual([{ row: 2, column: '', reason: 'aucune ligne de données' }]);
    // Saved as Windows-1252 rather than UTF-8: é is not a character any more.
    await expect(problemsOf(Buffer.from('centre_code,region,cercle,commune,centre,station\nA,R\xe9gion,C,K,Centre A,1\n', 'latin1').toString('utf8'))).resolves.toEqual([
      { row: 2, column: 'region', reason: 'caractères illisibles : enregistrez le fichier en UTF-8' },
    ]);
    // A voter on a centre that does not exist: the whole file is refused, and no NINA appears in the reasons.
    const refused = await importText('nina,centre_code,station\nFICTIF000000009,FIC-001,1\nFICTIF000000010,NOPE,1\nFICTIF000000011,FIC-001,99\n', { replace: false }).catch((e: ImportError) => e);
    expect(refused).toBeInstanceOf(ImportError);
    expect((refused as ImportError).problems).toEqual([
      { row: 3, column: 'centre_code', reason: 'centre inconnu : importez d’abord les bureaux' },
      { row: 4, column: 'station', reason: 'bureau inconnu dans ce centre' },
    ]);
    expect(JSON.stringify((refused as ImportError).problems)).not.toContain('FICTIF');
    expect(await counts()).toEqual({ centres: 4, stations: 7, voters: 2 });
  });

  it('never quotes a value in a CSV syntax error (it may be a NINA), and counts rows as the file does', async () => {
    const broken = await problemsOf('nina,centre_code,station\nAB1234567890",FIC-001,1\n');
    expect(broken).toEqual([{ row: 2, column: '', reason: 'CSV illisible : guillemet ouvrant mal placé' }]);
    expect(JSON.stringify(broken)).not.toContain('AB1234567890');
    // Every syntax error is listed, reading goes on after each.
    await expect(problemsOf(`nina,centre_code,station\nAB1234567890",FIC-001,1\nFICTIF000000009,FIC-001,1\n"${'X'.repeat(20_000)}",FIC-001,1\n`)).resolves.toEqual([
      { row: 2, column: '', reason: 'CSV illisible : guillemet ouvrant mal placé' },
      { row: 4, column: '', reason: 'CSV illisible : ligne trop longue (plus de 10\u202f000 caractères)' },
    ]);
    // Blank lines and multi-line values still count: the bad row is line 6 of the file.
    await expect(problemsOf('centre_code,region,cercle,commune,centre,address,station\n\nA,R,C,K,Centre A,"Rue 1\nporte 2",1\n\nB,R,C,K,,,1\n')).resolves.toEqual([{ row: 6, column: 'centre', reason: 'valeur manquante' }]);
  });

  it('refuses a list longer than a caller can choose from (97), importing nothing', async () => {
    const rows = ['centre_code,region,cercle,commune,centre,station'];
    for (let i = 1; i <= 98; i++) rows.push(`HUGE-${i},Fictive-Est,Cercle Cinq,Commune Lambda,Centre ${i} (fictif),1`);
    const refused = await importText(rows.join('\n'), { replace: false }).catch((e: ImportError) => e);
    expect((refused as ImportError).problems).toEqual([
      { row: 0, column: 'centre', reason: '98 centres dans Fictive-Est / Cercle Cinq / Commune Lambda : un appelant choisit parmi 97 au plus ; scindez la liste (par exemple une commune par quartier)' },
    ]);
    expect(await counts()).toEqual({ centres: 4, stations: 7, voters: 2 });
  });

  it('with --replace, makes the file the whole list', async () => {
    const smaller = fixture('stations-fictional.csv')
      .split('\n')
      .filter((l) => !l.startsWith('FIC-002') && !l.includes(',2,') && !l.includes(',3,'))
      .join('\n');
    const replaced = await importText(smaller, { replace: true });
    expect(replaced).toMatchObject({ centres: 3, stations: 3, removed: 1, votersRemoved: 2 });
    // Both voters were on stations that are gone.
    expect(await counts()).toEqual({ centres: 3, stations: 3, voters: 0 });
    await importText(fixture('stations-fictional.csv'), { replace: true });
    await importText(fixture('voters-fictional.csv'), { replace: true });
    expect(await counts()).toEqual({ centres: 4, stations: 7, voters: 2 });
    // The same voters file again: nobody removed, and no centre touched.
    const before = await h.ctx.db.selectFrom('polling_centres').select(['code', 'updated_at']).orderBy('code').execute();
    await expect(importText(fixture('voters-fictional.csv'), { replace: true })).resolves.toMatchObject({ voters: 2, removed: 0 });
    await importText(fixture('stations-fictional.csv'), { replace: false });
    expect(await h.ctx.db.selectFrom('polling_centres').select(['code', 'updated_at']).orderBy('code').execute()).toEqual(before);
  });

  it('npm run stations lists bad rows as FILE:ROW and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kalata-stations-'));
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'centre_code,region,cercle,commune,centre,station\nA,R,C,K,,1\n');
    const env = { ...process.env, DATABASE_URL: h.databaseUrl!, DATA_DIR: dir, LOG_LEVEL: 'warn', PHONE_HASH_KEY: key, DATA_ENCRYPTION_KEY: h.ctx.secrets.dataEncryptionKey };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main/stations.ts', 'import', file], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:2: centre: valeur manquante`);
    expect(r.stderr).toContain('kalata: 1 problem in the file: nothing was imported');
  });
});

describe('finding one\'s polling station', () => {
  it('by NINA number: a typo re-prompts, the station is found, and an SMS is offered and queued', async () => {
    const replies = await converse(h, { sessionId: 'ATUid_nina_1', phoneNumber: '+22376500001' }, ['1', '3', '1', 'AB-12?', NINA, '1']);
    expect(replies[3]).toMatch(/^CON Tapez votre numéro NINA:/);
    expect(replies[4]).toMatch(/^CON Numéro NINA non valide/);
    expect(replies[5]).toBe('CON Votre bureau: Lycée Gamma (fictif), Commune Gamma. Bureau 3. Adresse: Quartier Est (fictif).\n1. Recevoir par SMS\n0. Retour 00. Accueil');
    expect(replies[6]).toBe('END Merci. Ces informations vous arrivent par SMS.');
    const sms = await h.ctx.db.selectFrom('sms_outbox').selectAll().where('template', '=', 'stations:sms.station').executeTakeFirstOrThrow();
    expect(sms.vars).toMatchObject({ centre: 'Lycée Gamma (fictif)', station: '3' });
  });

  it('by place, in Bambara', async () => {
    const replies = await converse(h, { sessionId: 'ATUid_place_1', phoneNumber: '+22376500002' }, ['2', '3', '2', '2', '1', '1', '1']);
    expect(replies[3]).toBe('CON I ka mara:\n1. Fictive-Nord\n2. Fictive-Sud\n0. Segin 00. Daminɛ');
    expect(replies[7]).toBe('CON Lycée Gamma (fictif), Commune Gamma. Yɔrɔ: Quartier Est (fictif).\n98. Nɔfɛta');
    const more = await h.at({ sessionId: 'ATUid_place_1', phoneNumber: '+22376500002', serviceCode: '*384*123#', text: '2*3*2*2*1*1*1*98' });
    expect(more.body).toBe('CON Biro: 1, 2, 3. Waati: -.\n1. A sɔrɔ SMS la\n0. Segin 00. Daminɛ');
  });

  it('pages a commune of 40 centres within 80 UCS-2 characters, and every centre can be chosen', async () => {
    const rows = ['centre_code,region,cercle,commune,centre,station'];
    for (let i = 1; i <= 40; i++) rows.push(`BIG-${i},Fictive-Ouest,Cercle Quatre,Commune Kappa,Lakɔli ${i} (fictif),1`);
    await importText(rows.join('\n'), { replace: false });
    const call = { sessionId: 'ATUid_big_1', phoneNumber: '+22376500003', serviceCode: '*384*123#' };
    const typed: string[] = [];
    const send = async (input: string) => {
      typed.push(input);
      return (await h.at({ ...call, text: typed.join('*') })).body;
    };
    /** The number a screen gives `label`. */
    const optionFor = (screen: string, label: string) => new RegExp(`(\\d+)\\. ${label}$`, 'm').exec(screen)![1]!;
    await h.at({ ...call, text: '' });
    let regions = '';
    for (const input of ['2', '3', '2']) regions = await send(input);
    const cercles = await send(optionFor(regions, 'Fictive-Ouest'));
    const communes = await send(optionFor(cercles, 'Cercle Quatre'));
    const replies = [await send(optionFor(communes, 'Commune Kappa'))];
    let screen = replies.at(-1)!;
    expect(screen).toMatch(/^CON I ka wote biro yɔrɔ:\n1\. Lakɔli 1 \(fictif\)\n2\. Lakɔli 2 \(fictif\)\n98\. Nɔfɛta$/);
    const seen = new Set<string>();
    for (let page = 0; page < 60; page++) {
      const m = measure(screen.slice(4));
      expect([m.encoding, m.length <= 80]).toEqual(['UCS-2', true]);
      for (const line of screen.slice(4).split('\n')) if (/^\d+\. Lakɔli/.test(line)) seen.add(line.split('.')[0]!);
      if (!screen.includes('\n98. ')) break;
      screen = await send('98');
    }
    expect(seen.size).toBe(40);
    const chosen = await send('40');
    expect(chosen).toMatch(/^CON Lakɔli 40 \(fictif\), Commune Kappa\./);
  });
});

describe('BUREAU by SMS', () => {
  const inbound = (id: string, text: string, from = '+22376500009') =>
    h.ctx.inboundSms({ gatewayId: id, phone: from, to: '36000', text, receivedAt: new Date(), linkId: null });
  const reply = async (id: string) => {
    const row = await h.ctx.db.selectFrom('sms_inbound').select(['reply_id', 'text']).where('gateway_id', '=', id).executeTakeFirstOrThrow();
    const out = row.reply_id ? await h.ctx.db.selectFrom('sms_outbox').select(['template', 'vars']).where('id', '=', row.reply_id).executeTakeFirstOrThrow() : undefined;
    return { stored: row.text, template: out?.template, vars: out?.vars };
  };

  it('answers with the station, keeps no NINA, and says how when the number is missing', async () => {
    await inbound('st-1', `Bureau ${NINA.toLowerCase()}`);
    expect(await reply('st-1')).toEqual({ stored: 'Bureau [private]', template: 'sms:station_found', vars: expect.objectContaining({ centre: 'Lycée Gamma (fictif)', station: '3' }) });
    await inbound('st-2', 'OÙ FICTIF999999999');
    expect(await reply('st-2')).toMatchObject({ stored: 'OÙ [private]', template: 'sms:station_unknown' });
    await inbound('st-3', 'BUREAU');
    expect(await reply('st-3')).toMatchObject({ stored: 'BUREAU', template: 'sms:station_help' });
    // A question, not a NINA: how to use it, no lookup.
    await inbound('st-4', 'Ou est mon bureau ?', '+22376500011');
    expect(await reply('st-4')).toMatchObject({ template: 'sms:station_help' });
  });

  it('answers at most 5 lookups an hour per number, then says so once', async () => {
    const from = '+22376500010';
    for (let i = 0; i < 7; i++) await inbound(`lim-${i}`, `BUREAU ${NINA}`, from);
    const templates = [];
    for (let i = 0; i < 7; i++) templates.push((await reply(`lim-${i}`)).template);
    expect(templates).toEqual([...Array(5).fill('sms:station_found'), 'sms:station_limit', undefined]);
  });
});

describe('NINA numbers in clear', () => {
  it('are nowhere: not in logs, call steps, SMS records, or Redis', async () => {
    const logs = h.logs.join('');
    expect(logs).toMatch(/looked_up|inbound SMS|request/); // the scan reads real logs
    expect(logs.toUpperCase()).not.toContain(NINA);
    const steps = await h.ctx.db.selectFrom('call_steps').select(['input', 'screen']).execute();
    expect(steps.some((s) => s.input === '[private]')).toBe(true);
    expect(JSON.stringify(steps).toUpperCase()).not.toContain(NINA);
    const inboundRows = await h.ctx.db.selectFrom('sms_inbound').select('text').execute();
    expect(JSON.stringify(inboundRows).toUpperCase()).not.toContain(NINA);
    // The outbox and its events: what a reply copies, and what the gateway answered.
    const outbox = await h.ctx.db.selectFrom('sms_outbox').selectAll().execute();
    expect(outbox.length).toBeGreaterThan(0);
    expect(JSON.stringify(outbox).toUpperCase()).not.toContain(NINA);
    expect(JSON.stringify(await h.ctx.db.selectFrom('sms_events').selectAll().execute()).toUpperCase()).not.toContain(NINA);
    // Every key of this test's own prefix, whatever its type (streams, lists, sets and sorted sets too).
    const redis = h.ctx.redis;
    const keys = await redis.keys(`${h.ctx.redisPrefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    const types = new Set<string>();
    for (const k of keys) {
      const type = await redis.type(k);
      types.add(type);
      const value =
        type === 'string' ? await redis.get(k)
        : type === 'hash' ? await redis.hgetall(k)
        : type === 'list' ? await redis.lrange(k, 0, -1)
        : type === 'set' ? await redis.smembers(k)
        : type === 'zset' ? await redis.zrange(k, '0', '-1', 'WITHSCORES')
        : type === 'stream' ? await redis.xrange(k, '-', '+')
        : `unread type ${type}`;
      expect([k, type, JSON.stringify(value).toUpperCase().includes(NINA), JSON.stringify(value).startsWith('"unread')]).toEqual([k, type, false, false]);
    }
    // the scan did read more than strings
    expect([...types].some((t) => t !== 'string')).toBe(true);
  });
});
