/**
 * A caller whose call drops mid-menu (weak signal, timeout) and who dials
 * again is offered to continue where they were, half-written report included.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pseudonymizePhone } from '../../src/privacy/phone.js';
import { converse, startHarness, type Harness } from '../support/harness.js';
import { waitFor } from '../support/wait.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness('resume');
});
afterAll(() => h.close());

describe('resuming a dropped call', () => {
  it('puts a French caller back in a half-filled fraud report, and files it with the earlier answers', async () => {
    const phone = '+22376200001';
    // Type, region and place given; the call drops before the description.
    const first = await converse(h, { sessionId: 'ATUid_resume_fr_1', phoneNumber: phone }, ['1', '2', '1', '1', '2', '3', 'Koulikoro*marché']);
    expect(first[7]).toMatch(/^CON Décrivez/);
    const second = await converse(h, { sessionId: 'ATUid_resume_fr_2', phoneNumber: phone }, ['1', 'Un homme menaçait les votants', '1']);
    expect(second[0]).toBe("CON Votre appel précédent a été coupé.\n1. Continuer où j'en étais\n2. Recommencer");
    expect(second[1]).toMatch(/^CON Décrivez en quelques mots ce que vous avez vu, sans nom:/);
    expect(second[2]).toMatch(/^CON Envoyer ce signalement\? Menaces ou violences, Koulikoro\./);
    expect(second[3]).toMatch(/^END Merci\. Votre référence: KA-/);
    const ref = /KA-[0-9A-Z]{7}/.exec(second[3]!)![0];
    const report = await h.ctx.db.selectFrom('reports').select('fields').where('ref', '=', ref).executeTakeFirstOrThrow();
    expect(report.fields).toEqual({ incident: 'intimidation', region: 'koulikoro', place: 'Koulikoro*marché', description: 'Un homme menaçait les votants' });
    // Done: the next call starts fresh.
    const third = await converse(h, { sessionId: 'ATUid_resume_fr_3', phoneNumber: phone }, []);
    expect(third[0]).toMatch(/^CON Kalata: infos sur le vote/);
  });

  it('offers it in Bambara to a Bambara caller, and starting again really starts again', async () => {
    const phone = '+22366200002';
    await converse(h, { sessionId: 'ATUid_resume_bm_1', phoneNumber: phone }, ['2', '1', '3', '98']);
    const again = await converse(h, { sessionId: 'ATUid_resume_bm_2', phoneNumber: phone }, ['2']);
    expect(again[0]).toBe('CON I ka wele kɔrɔ tigɛra.\n1. Taa a fɛ\n2. A daminɛ kokura');
    expect(again[1]).toMatch(/^CON Kalata\n1\. Wote cogo/);
    const later = await converse(h, { sessionId: 'ATUid_resume_bm_3', phoneNumber: phone }, []);
    expect(later[0]).toMatch(/^CON Kalata\n1\. Wote cogo/); // back home: nothing to resume
  });

  it('continues on the page where the caller was', async () => {
    const phone = '+22376200003';
    await converse(h, { sessionId: 'ATUid_resume_page_1', phoneNumber: phone }, ['1', '1', '3', '98']);
    const again = await converse(h, { sessionId: 'ATUid_resume_page_2', phoneNumber: phone }, ['1']);
    expect(again[1]).toMatch(/0\. Retour 00\. Accueil$/);
    expect(again[1]).not.toMatch(/^CON Les bureaux/);
  });

  it('offers nothing after a call that ended properly, nor to another number', async () => {
    await converse(h, { sessionId: 'ATUid_resume_done_1', phoneNumber: '+22376200004' }, ['1', '2', '1', '1', '1', '1', 'Kati', 'Des billets distribués', '1']);
    const next = await converse(h, { sessionId: 'ATUid_resume_done_2', phoneNumber: '+22376200004' }, []);
    expect(next[0]).toMatch(/^CON Kalata: infos sur le vote/);
    await converse(h, { sessionId: 'ATUid_resume_other_1', phoneNumber: '+22376200005' }, ['1', '2', '1', '1']);
    const stranger = await converse(h, { sessionId: 'ATUid_resume_other_2', phoneNumber: '+22376200006' }, []);
    expect(stranger[0]).toMatch(/^CON Kalata\. Langue/);
  });

  it('re-asks on an invalid answer to the offer', async () => {
    const phone = '+22376200007';
    await converse(h, { sessionId: 'ATUid_resume_inv_1', phoneNumber: phone }, ['1', '2', '1', '1']);
    const again = await converse(h, { sessionId: 'ATUid_resume_inv_2', phoneNumber: phone }, ['7', '1']);
    expect(again[1]).toBe("CON Choix non valide.\nVotre appel précédent a été coupé.\n1. Continuer où j'en étais\n2. Recommencer");
    expect(again[2]).toMatch(/^CON Type d'incident:/);
  });
});

describe('the resume window and the session lifetime (RESUME_WINDOW_SECONDS, SESSION_TTL_SECONDS)', () => {
  const hashOf = (x: Harness, phone: string) => pseudonymizePhone(x.ctx.secrets.phoneHashKey, phone);

  it('RESUME_WINDOW_SECONDS=0: a dropped call is not offered again, and no resume record is kept', async () => {
    const off = await startHarness('resume off', { env: { RESUME_WINDOW_SECONDS: '0' } });
    try {
      const phone = '+22376200101';
      await converse(off, { sessionId: 'ATUid_resume_off_1', phoneNumber: phone }, ['1', '1', '3', '98']);
      expect(await off.ctx.redis.exists(`${off.ctx.redisPrefix}ussd:resume:${hashOf(off, phone)}`)).toBe(0);
      const again = await converse(off, { sessionId: 'ATUid_resume_off_2', phoneNumber: phone }, []);
      expect(again[0]).toMatch(/^CON Kalata: infos sur le vote/);
    } finally {
      await off.close();
    }
  });

  it('a dropped call is offered within the window, not after it; a session lives SESSION_TTL_SECONDS', async () => {
    const short = await startHarness('resume short', { env: { RESUME_WINDOW_SECONDS: '2', SESSION_TTL_SECONDS: '45' } });
    try {
      const phone = '+22376200102';
      const call = { sessionId: 'ATUid_resume_short_1', phoneNumber: phone };
      await converse(short, call, ['1', '1', '3', '98']);
      const resumeKey = `${short.ctx.redisPrefix}ussd:resume:${hashOf(short, phone)}`;
      const ttl = await short.ctx.redis.ttl(resumeKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2);
      const sessionKeys = await short.ctx.redis.keys(`${short.ctx.redisPrefix}*ATUid_resume_short_1`);
      expect(sessionKeys).toHaveLength(1);
      const sessionTtl = await short.ctx.redis.ttl(sessionKeys[0]!);
      expect(sessionTtl).toBeGreaterThan(30);
      expect(sessionTtl).toBeLessThanOrEqual(45);
      // Redis forgets the record when the window closes: the next call starts at home.
      await waitFor('the resume window to close', () => short.ctx.redis.exists(resumeKey), (n) => n === 0, 5_000);
      const later = await converse(short, { sessionId: 'ATUid_resume_short_2', phoneNumber: phone }, []);
      expect(later[0]).toMatch(/^CON Kalata: infos sur le vote/);
    } finally {
      await short.close();
    }
  });
});
