// The browser phone. "Appel complet": a call from the number through the real
// runtime (/simulator/call); one flow: the stateless engine (/simulator/step).
// The inbox (/simulator/inbox) is read gently: every 2 s for a minute after
// something that may bring an SMS, never more. Its words are in the reader's
// language (consoleText); the screens are the hotline's own, in the caller's.
(() => {
  const $ = (id) => document.getElementById(id);
  // The language's name as the page's own select shows it.
  const languageName = (lang) => [...$('sim-lang').options].find((o) => o.value === lang)?.textContent ?? lang;
  const csrf = $('sim-script').dataset.csrf;
  const POLL_MS = 2000;
  const POLL_FOR_MS = 60000;
  let call = null; // { mode: 'phone', id, seq, lang, phone } or { mode: 'flow', session, lang, flow }
  let lastRef = '';

  const post = async (path, body) => {
    const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    let data = {};
    try { data = await r.json(); } catch { data = { error: consoleText('réponse illisible du serveur') }; }
    return { ok: r.ok, data };
  };
  const showError = (text) => { $('sim-error').textContent = text || ''; $('sim-error').hidden = !text; };
  const item = (cls, text, label) => {
    const li = document.createElement('li');
    li.className = cls;
    if (label) { const b = document.createElement('span'); b.className = 'sim-tag'; b.textContent = label; li.append(b); }
    const body = document.createElement('span');
    body.className = 'sim-text';
    body.textContent = text;
    li.append(body);
    return li;
  };
  const addHistory = (li) => { $('sim-history').append(li); li.scrollIntoView({ block: 'nearest' }); };

  function setLive(live) {
    $('sim-input').disabled = !live; $('sim-send').disabled = !live; $('sim-hangup').disabled = !live;
    for (const k of document.querySelectorAll('.sim-key')) k.disabled = !live;
    $('sim-redial').disabled = live || !call;
    if (live) $('sim-input').focus();
  }

  function showScreen(screen, node) {
    $('sim-screen').textContent = screen.text;
    $('sim-meta').textContent = (node ? node + ' · ' : '') + screen.length + ' ' + screen.encoding;
    const who = call.mode === 'phone' ? call.phone : consoleText('flux {{flow}}', { flow: call.flow });
    $('sim-status').textContent = screen.end ? consoleText('Appel terminé') : consoleText('En ligne · {{who}} · {{language}}', { who, language: languageName(call.lang) });
    addHistory(item(screen.end ? 'sim-seen sim-end' : 'sim-seen', screen.text, screen.end ? consoleText('Dernier écran') : consoleText('Écran')));
    if (screen.end) addHistory(item('sim-note', consoleText("Fin de l'appel")));
    setLive(!screen.end);
  }

  function showEffects(words) {
    if (!words || !words.length) return;
    const list = $('sim-effects');
    if (list.querySelector('.muted')) list.textContent = '';
    for (const w of words) {
      list.append(item('sim-effect', w));
      addHistory(item('sim-note', w, consoleText('Effet')));
      const ref = /KA-[0-9A-Z]{7}/.exec(w);
      if (ref) lastRef = ref[0];
      if (/SMS/.test(w) && call && call.mode === 'phone') watchInbox();
    }
  }

  async function dial() {
    showError('');
    const lang = $('sim-lang').value;
    const flow = $('sim-flow').value;
    $('sim-history').textContent = '';
    $('sim-effects').textContent = '';
    $('sim-effects').append(item('muted', consoleText("Aucun pour l'instant.")));
    if (flow) {
      call = { mode: 'flow', lang, flow, session: null };
      addHistory(item('sim-note', consoleText("Flux « {{flow}} », {{language}} : rien n'est enregistré", { flow, language: languageName(lang) })));
      const { ok, data } = await post('/simulator/step', { lang, flow });
      if (!ok) return failed(data.error);
      call.session = data.session;
      showScreen(data.screen, data.node);
      showEffects(data.words);
      return;
    }
    const phone = $('sim-phone').value;
    const { ok, data } = await post('/simulator/call', { phone, lang });
    if (!ok) { call = null; setLive(false); return showError(data.error); }
    call = { mode: 'phone', id: data.call, seq: 0, lang, phone };
    addHistory(item('sim-note', consoleText('Appel depuis {{phone}}, {{language}}', { phone, language: languageName(lang) })));
    showScreen(data.screen, data.node);
    showEffects(data.effects);
    refreshInbox();
  }

  function failed(error) {
    $('sim-screen').textContent = error || consoleText('erreur');
    addHistory(item('sim-note', error || consoleText('erreur')));
    setLive(false);
  }

  async function answer(input) {
    if (!call) return;
    addHistory(item('sim-typed', input === '' ? consoleText('(rien)') : input, consoleText('Touches')));
    if (call.mode === 'flow') {
      const { ok, data } = await post('/simulator/step', { session: call.session, input });
      if (!ok) return failed(data.error);
      call.session = data.session;
      showScreen(data.screen, data.node);
      showEffects(data.words);
      return;
    }
    const seq = call.seq + 1;
    const { ok, data } = await post('/simulator/call', { phone: call.phone, lang: call.lang, call: call.id, seq, input });
    if (!ok) return failed(data.error);
    call.seq = seq;
    showScreen(data.screen, data.node);
    showEffects(data.effects);
  }

  // The inbox: shown for the number in the field; polled only while something may arrive.
  let pollUntil = 0;
  let timer = null;
  let shown = '';
  async function refreshInbox() {
    const phone = $('sim-phone').value;
    const r = await fetch('/simulator/inbox?phone=' + encodeURIComponent(phone));
    const data = await r.json().catch(() => ({}));
    if (!r.ok) { $('sim-inbox-for').textContent = data.error || ''; return; }
    $('sim-inbox-for').textContent = data.messages.length ? consoleText('Pour {{phone}}', { phone }) : consoleText("Pour {{phone}} : aucun message pour l'instant.", { phone });
    const key = phone + '|' + data.messages.map((m) => m.id).join(',');
    if (key === shown) return;
    shown = key;
    const list = $('sim-inbox');
    list.textContent = '';
    for (const m of data.messages) {
      list.append(item(m.direction === 'in' ? 'sim-sms-in' : 'sim-sms-out', m.text, m.direction === 'in' ? consoleText('Reçu de Kalata · {{time}}', { time: m.time }) : consoleText('Envoyé · {{time}}', { time: m.time })));
    }
    if (list.lastElementChild) list.lastElementChild.scrollIntoView({ block: 'nearest' });
  }
  function watchInbox() {
    pollUntil = Date.now() + POLL_FOR_MS;
    if (timer) return;
    const tick = async () => {
      timer = null;
      if (document.hidden || Date.now() > pollUntil) return;
      await refreshInbox().catch(() => undefined);
      if (Date.now() <= pollUntil) timer = setTimeout(tick, POLL_MS);
    };
    timer = setTimeout(tick, 200);
  }

  // In voice mode the form calls the voice line (simulator-voice.js).
  $('sim-start').addEventListener('submit', (e) => { e.preventDefault(); if ($('sim-start').dataset.mode !== 'voice') dial(); });
  // The voice mode's effects: an SMS on its way to this number's inbox.
  document.addEventListener('sim-sms-expected', () => watchInbox());
  $('sim-step').addEventListener('submit', (e) => { e.preventDefault(); const input = $('sim-input').value; $('sim-input').value = ''; answer(input); });
  for (const k of document.querySelectorAll('.sim-key')) {
    k.addEventListener('click', () => { $('sim-input').value += k.dataset.key; $('sim-input').focus(); });
  }
  $('sim-hangup').addEventListener('click', () => {
    addHistory(item('sim-note', consoleText('Raccroché')));
    $('sim-status').textContent = consoleText('Raccroché');
    setLive(false);
  });
  $('sim-redial').addEventListener('click', () => dial());
  $('sim-phone').addEventListener('change', () => { shown = ''; refreshInbox(); });
  $('sim-sms').addEventListener('submit', async (e) => {
    e.preventDefault();
    showError('');
    const text = $('sim-sms-text').value.trim();
    if (!text) return;
    const { ok, data } = await post('/simulator/sms', { phone: $('sim-phone').value, text });
    if (!ok) return showError(data.error);
    $('sim-sms-text').value = '';
    shown = '';
    await refreshInbox();
    if (!data.replied) $('sim-inbox-for').textContent += ` ${consoleText('(pas de réponse à ce message)')}`;
    watchInbox();
  });
  for (const w of document.querySelectorAll('.sim-word')) {
    w.addEventListener('click', () => {
      const word = w.dataset.word;
      $('sim-sms-text').value = word === 'STATUT ' && lastRef ? 'STATUT ' + lastRef : word;
      $('sim-sms-text').focus();
    });
  }

  // `/simulator?lang=bm&flow=vote` (the review page's links): that language and flow, called at once.
  const wanted = new URLSearchParams(location.search);
  const pick = (select, value) => { if (value && [...select.options].some((o) => o.value === value)) { select.value = value; return true; } return false; };
  const langSet = pick($('sim-lang'), wanted.get('lang'));
  const flowSet = pick($('sim-flow'), wanted.get('flow'));
  refreshInbox().catch(() => undefined);
  if (langSet && flowSet) dial();
})();
