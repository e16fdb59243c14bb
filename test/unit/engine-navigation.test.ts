/**
 * The engine's navigation rules on the real flows: back, home, language,
 * paging, invalid input and the end of a call.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { start, step } from '../../src/engine/step.js';
import { renderPages } from '../../src/engine/render.js';
import type { CompiledFlows, StepResult } from '../../src/engine/types.js';
import { loadFlows } from '../../src/flows/flow-set.js';

let flows: CompiledFlows;
beforeAll(() => {
  flows = loadFlows({ flowsDir: 'flows', localesDir: 'locales', limits: { gsm7: 182, ucs2: 80 }, spelling: 'standard' });
});

function play(inputs: string[], known = true, lang: 'fr' | 'bm' = 'fr', using: CompiledFlows = flows): StepResult[] {
  let r = start(using, { id: 't', ref: 'KA-0000000', lang, languageKnown: known }, 1000);
  const out = [r];
  for (const input of inputs) {
    r = step(using, r.session, input, 2000);
    out.push(r);
  }
  return out;
}
const last = (rs: StepResult[]) => rs[rs.length - 1]!;

describe('engine navigation', () => {
  it('starts on the language menu for a new caller, on home for a known one', () => {
    expect(play([], false)[0]!.session.node).toBe('main.language');
    expect(play([], true)[0]!.session.node).toBe('main.home');
  });

  it('shows no back line on home, and one deeper', () => {
    expect(play([])[0]!.screen.text).not.toMatch(/Retour/);
    expect(last(play(['1'])).screen.text).toMatch(/0\. Retour 00\. Accueil$/);
  });

  it('goes back one node with 0, home with 00, and home clears the trail', () => {
    expect(last(play(['1', '2', '0'])).session.node).toBe('vote.menu');
    const home = last(play(['1', '2', '00']));
    expect(home.session.node).toBe('main.home');
    expect(home.session.trail).toEqual([]);
  });

  it('treats 0 on home as invalid', () => {
    const r = last(play(['0']));
    expect(r.session.node).toBe('main.home');
    expect(r.screen.text).toMatch(/^Choix non valide\./);
  });

  it('pages with 98 and goes back a page with 0', () => {
    // vote.who: an information screen of two pages
    const rs = play(['1', '4', '98', '0']);
    expect(rs[2]!.screen.text).toMatch(/98\. Suite$/);
    expect(rs[3]!.session.page).toBe(1);
    expect(rs[3]!.screen.text).toMatch(/0\. Retour 00\. Accueil$/);
    expect(rs[4]!.session.page).toBe(0);
    expect(rs[4]!.screen.text).toBe(rs[2]!.screen.text);
  });

  it('treats 98 on the last page as an invalid input that stays on the page and says there is no next page', () => {
    // flows whose common texts name the no-next-page notice, and flows that do not (the invalid-choice notice then)
    const withNoMore: CompiledFlows = { ...flows, common: { ...flows.common, noMore: 'common:nav.no_more' } };
    const { noMore: _absent, ...common } = flows.common;
    const without: CompiledFlows = { ...flows, common };
    for (const [using, notice] of [[withNoMore, 'Pas de page suivante.'], [without, 'Choix non valide.']] as const) {
      const rs = play(['1', '3', '98', '98'], true, 'fr', using);
      const [lastPage, again] = [rs[3]!, rs[4]!];
      expect(again.session.invalid).toBe(1);
      expect(again.events).toEqual([{ type: 'invalid', node: 'vote.polling_day' }]);
      expect(again.session.page).toBe(lastPage.session.page);
      expect(again.session.notice).toBe('no_more');
      expect(again.screen.text).toBe(`${notice}\n${lastPage.screen.text}`);
      // on a one-page menu too
      expect(last(play(['98'], true, 'fr', using)).screen.text).toBe(`${notice}\n${play([])[0]!.screen.text}`);
    }
    // the Bambara vote menu holds on one page: 98 there says there is no next page
    const bm = last(play(['1', '98'], true, 'bm', withNoMore));
    expect(bm.session.page).toBe(0);
    expect(bm.screen.text.split('\n')[0]).toMatch(/^(Nɔfɛta tɛ yen\.|Fili don\.)$/);
  });

  it('keeps 98 as an answer on the last page of an input', () => {
    const r = last(play(['2', '1', '1', '1', '1', '98']));
    expect(r.session.node).toBe('report.description');
    expect(r.session.answers.place).toBe('98');
  });

  it('a wrong key on page 2 stays on page 2, the notice over it, every page as before', () => {
    const rs = play(['1', '3', '98', '7']);
    const [page2, wrong] = [rs[3]!, rs[4]!];
    expect(page2.session.page).toBe(1);
    expect(wrong.session.page).toBe(1);
    expect(wrong.session.invalid).toBe(1);
    expect(wrong.screen.text).toBe(`Choix non valide.\n${page2.screen.text}`);
    const node = flows.nodes.get('vote.polling_day')!;
    const { notice: _n, ...plain } = wrong.session;
    expect(renderPages(flows, node, plain)).toEqual(renderPages(flows, node, page2.session));
    // the next key moves on from the same layout, without the notice
    const back = step(flows, wrong.session, '0', 3000);
    expect(back.session.page).toBe(0);
    expect(back.screen.text).toBe(rs[2]!.screen.text);
    expect(step(flows, back.session, '98', 3000).screen.text).toBe(page2.screen.text);
    // and on the first page of two, it stays on the first
    const first = last(play(['1', '3', 'x']));
    expect(first.session.page).toBe(0);
    expect(first.screen.text.startsWith('Choix non valide.\n')).toBe(true);
    expect(first.screen.text).toMatch(/98\. Suite$/);
  });

  it('a wrong key on page 3 of a Bambara text stays on page 3', () => {
    const rs = play(['1', '98', '4', '98', '98', '5'], true, 'bm');
    const [page3, wrong] = [rs[5]!, rs[6]!];
    expect(wrong.session.node).toBe('vote.who');
    expect(wrong.session.page).toBe(2);
    expect(wrong.screen.text.startsWith('Fili don.')).toBe(true);
    expect(wrong.screen.text.endsWith('\n98. Nɔfɛta')).toBe(true);
    // what the notice leaves of the page is the page's own end
    const kept = wrong.screen.text.split('\n')[1]!;
    expect(page3.screen.text.split('\n')[0]!.endsWith(kept)).toBe(true);
  });

  it('keeps the two answers of a Bambara confirm on one page', () => {
    const r = last(play(['2', '1', '1', '2', '4', 'Kati', 'Urni fara ka da wuli'], true, 'bm'));
    expect(r.session.node).toBe('report.confirm');
    expect(r.screen.text).toBe('Nin kofɔli ci wa? Bagabagali walima fariyakow, Sikaso.\n1. A ci\n2. A dabila');
    expect(renderPages(flows, flows.nodes.get('report.confirm')!, r.session)).toHaveLength(1);
  });

  it('shows the Bambara vote menu, title and every option, on one page (80 UCS-2 units)', () => {
    const rs = play(['1'], true, 'bm');
    expect(rs[1]!.screen.text).toBe('Wote cogo\n1. Tɔgɔsɛbɛn\n2. Sɛbɛnw\n3. Wote don\n4. Wotelaw\n5. Wote biro\n6. Jaabiw');
    expect(last(play(['1', '5'], true, 'bm')).session.node).toBe('stations.intro');
    // 0 still goes back home, though the footer gave way to the options
    expect(last(play(['1', '0'], true, 'bm')).session.node).toBe('main.home');
  });

  it('changes language with 99 from any menu and emits set_language once chosen', () => {
    const rs = play(['1', '99', '2']);
    expect(rs[2]!.session.node).toBe('main.language');
    expect(rs[3]!.session.lang).toBe('bm');
    expect(rs[3]!.effects).toEqual([{ type: 'set_language', lang: 'bm' }]);
    expect(rs[3]!.screen.text).toMatch(/^Kalata\n1\. Wote cogo/);
  });

  it('keeps 99 as text on an input node', () => {
    const r = last(play(['2', '1', '1', '1', '1', '99']));
    expect(r.session.node).toBe('report.description');
    expect(r.session.answers.place).toBe('99');
  });

  it('re-prompts an input with its own error, and ends after three invalid tries', () => {
    const rs = play(['2', '1', '1', '1', '1', 'K', '', 'x']);
    expect(rs[6]!.screen.text).toMatch(/^Écrivez le lieu, de 2 à 60 caractères\.\nLieu/);
    expect(rs[6]!.screen.end).toBe(false);
    const end = rs[8]!;
    expect(end.screen.end).toBe(true);
    expect(end.session.outcome).toBe('too_many_invalid');
    expect(end.events).toContainEqual({ type: 'ended', node: 'report.place', outcome: 'too_many_invalid' });
  });

  it('resets the invalid count on a valid input', () => {
    const r = last(play(['7', '8', '1']));
    expect(r.session.invalid).toBe(0);
    expect(r.session.ended).toBe(false);
  });

  it('emits the report and SMS effects only on the submitted node, with the session reference', () => {
    const rs = play(['2', '1', '1', '2', '3', 'Koulikoro', 'Menaces au bureau 12', '1']);
    const end = last(rs);
    expect(end.session.ended).toBe(true);
    expect(end.effects).toEqual([
      { type: 'save_report', ref: 'KA-0000000', lang: 'fr', fields: { incident: 'intimidation', region: 'koulikoro', place: 'Koulikoro', description: 'Menaces au bureau 12' }, contact: 'sms' },
      { type: 'send_sms', ref: 'KA-0000000', lang: 'fr', template: 'report:sms.report_ack', vars: { ref: 'KA-0000000' } },
    ]);
    expect(rs.slice(0, -1).every((r) => r.effects.length === 0)).toBe(true);
  });

  it('files nothing when the caller cancels', () => {
    const end = last(play(['2', '1', '1', '2', '3', 'Koulikoro', 'Menaces au bureau 12', '2']));
    expect(end.session.ended).toBe(true);
    expect(end.screen.text).toMatch(/^Signalement annulé/);
    expect(end.effects).toEqual([]);
  });

  it('answers a step after the end with the same END and no effect', () => {
    const end = last(play(['2', '1', '1', '2', '3', 'Koulikoro', 'Menaces au bureau 12', '1']));
    const after = step(flows, end.session, '1', 3000);
    expect(after.screen).toEqual(end.screen);
    expect(after.effects).toEqual([]);
  });

  it('ends politely when the session names a node this version does not have', () => {
    const r = play([])[0]!;
    const lost = step(flows, { ...r.session, node: 'vote.gone' }, '1', 3000);
    expect(lost.screen.end).toBe(true);
    expect(lost.screen.text).toMatch(/^Service indisponible/);
    expect(lost.session.outcome).toBe('error');
  });

  it('stamps the session with the time the shell passes in', () => {
    const rs = play(['1']);
    expect(rs[1]!.session.startedAt).toBe(1000);
    expect(rs[1]!.session.updatedAt).toBe(2000);
    expect(rs[1]!.session.flowHash).toBe(flows.hash);
  });
});
