// The simulator's voice mode: a call to the voice line from the number in the
// field, turn by turn (/simulator/voice). Each screen comes back as prompts:
// recordings, played one after another with an Audio element, or words, said
// by the browser's voice in their language when it has one; every prompt is
// also written under the phone. A key stops what is playing and answers: a
// menu takes one key, a number or a NINA waits for `#`. Its words are in the
// reader's language (consoleText).
(() => {
  const $ = (id) => document.getElementById(id);
  const csrf = $('sim-script').dataset.csrf;
  const keys = [...document.querySelectorAll('.sim-vkey')];
  let mode = 'ussd';
  let call = null; // { id, phone, gather, digits, silences, ended }
  let playing = 0; // bumped to stop what is playing
  let audio = null;

  const post = async (body) => {
    const r = await fetch('/simulator/voice', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    let data = {};
    try { data = await r.json(); } catch { data = { error: consoleText('réponse illisible du serveur') }; }
    return { ok: r.ok, data };
  };
  const showError = (text) => { $('sim-error').textContent = text || ''; $('sim-error').hidden = !text; };
  const history = (cls, text, label) => {
    const li = document.createElement('li');
    li.className = cls;
    if (label) { const b = document.createElement('span'); b.className = 'sim-tag'; b.textContent = label; li.append(b); }
    const body = document.createElement('span');
    body.className = 'sim-text';
    body.textContent = text;
    li.append(body);
    $('sim-history').append(li);
    li.scrollIntoView({ block: 'nearest' });
  };

  function setMode(wanted) {
    mode = wanted;
    const voice = mode === 'voice';
    for (const b of document.querySelectorAll('.sim-mode-button')) b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
    $('sim-start').dataset.mode = mode;
    $('sim-ussd-phone').hidden = voice;
    $('sim-voice-phone').hidden = !voice;
    for (const el of document.querySelectorAll('.sim-ussd-only')) el.hidden = voice;
    for (const el of document.querySelectorAll('.sim-voice-only')) el.hidden = !voice;
    if (!voice) stop();
  }

  /** Stops the recording or the voice now playing, and whatever was to follow. */
  function stop() {
    playing += 1;
    if (audio) { audio.pause(); audio = null; }
    if (window.speechSynthesis) window.speechSynthesis.cancel();
  }
  const playUrl = (url) => new Promise((resolve) => {
    audio = new Audio(url);
    audio.addEventListener('ended', resolve);
    audio.addEventListener('error', resolve);
    audio.play().catch(resolve);
  });
  /** The browser's voice for a language (`fr`: fr-FR first), or none. */
  const voiceFor = (lang) => {
    const voices = window.speechSynthesis ? window.speechSynthesis.getVoices() : [];
    const tag = (v) => v.lang.replace('_', '-').toLowerCase();
    return voices.find((v) => tag(v) === `${lang}-${lang === 'fr' ? 'fr' : lang}`) || voices.find((v) => tag(v).split('-')[0] === lang) || null;
  };
  const say = (words, lang) => new Promise((resolve) => {
    const voice = voiceFor(lang);
    if (!voice) return resolve();
    const u = new SpeechSynthesisUtterance(words);
    u.voice = voice;
    u.lang = voice.lang;
    u.onend = resolve;
    u.onerror = resolve;
    window.speechSynthesis.speak(u);
  });
  async function play(prompts) {
    stop();
    const mine = playing;
    const lines = [...$('sim-voice-caption').children];
    for (const [i, p] of prompts.entries()) {
      if (mine !== playing) return;
      lines[i]?.classList.add('sim-now');
      if (p.recordings) {
        for (const url of p.recordings) {
          if (mine !== playing) return;
          await playUrl(url);
        }
      } else {
        await say(p.words, p.lang);
      }
      lines[i]?.classList.remove('sim-now');
    }
  }

  /** Each prompt on a line: its words, or how many recordings, and how it is heard. */
  function caption(prompts) {
    const list = $('sim-voice-caption');
    list.textContent = '';
    for (const p of prompts) {
      const li = document.createElement('li');
      const words = document.createElement('span');
      words.textContent = p.words;
      const how = document.createElement('span');
      how.className = 'sim-how';
      how.textContent = p.recordings ? consoleText('(enregistrement)') : consoleText('(voix de synthèse)');
      li.append(words, ' ', how);
      list.append(li);
      history('sim-seen', `${words.textContent} ${how.textContent}`, consoleText('Dit'));
    }
  }

  /** What the phone shows: how to answer, and the digits typed so far. */
  function showState() {
    const screen = $('sim-voice-screen');
    const g = call?.gather.kind;
    const live = Boolean(call && !call.ended);
    for (const k of keys) k.disabled = !live || g === 'record';
    $('sim-voice-hangup').disabled = !live;
    $('sim-voice-silence').disabled = !live;
    $('sim-voice-speak').hidden = !(live && g === 'record');
    $('sim-voice-call').disabled = live;
    if (!call) return;
    if (call.ended) screen.textContent = consoleText('Appel terminé');
    else if (g === 'key') screen.textContent = consoleText('Tapez une touche.');
    else if (g === 'record') screen.textContent = consoleText('Le service attend un message parlé : « Parler ».');
    else screen.textContent = consoleText('Tapez le numéro puis # : {{digits}}', { digits: call.digits || '…' });
    $('sim-voice-status').textContent = call.ended ? consoleText('Appel terminé') : consoleText('En ligne · {{who}} · appel vocal', { who: call.phone });
  }

  function effects(words, sms) {
    if (sms) document.dispatchEvent(new CustomEvent('sim-sms-expected'));
    if (!words || !words.length) return;
    const list = $('sim-effects');
    if (list.querySelector('.muted')) list.textContent = '';
    for (const w of words) {
      const li = document.createElement('li');
      li.className = 'sim-effect';
      li.textContent = w;
      list.append(li);
      history('sim-note', w, consoleText('Effet'));
    }
  }

  function show(data) {
    call.id = data.call;
    call.gather = data.gather;
    call.ended = data.ended;
    call.digits = '';
    caption(data.prompts);
    effects(data.effects, data.sms);
    if (data.ended) history('sim-note', consoleText("Fin de l'appel"));
    showState();
    play(data.prompts);
  }
  function failed(error) {
    stop();
    showError(error || consoleText('erreur'));
    if (call) call.ended = true;
    showState();
  }

  async function dial() {
    showError('');
    stop();
    const phone = $('sim-phone').value;
    $('sim-history').textContent = '';
    $('sim-effects').textContent = '';
    const none = document.createElement('li');
    none.className = 'muted';
    none.textContent = consoleText("Aucun pour l'instant.");
    $('sim-effects').append(none);
    $('sim-voice-caption').textContent = '';
    const { ok, data } = await post({ phone });
    if (!ok) { call = null; showState(); return showError(data.error); }
    call = { id: data.call, phone, gather: data.gather, digits: '', silences: 0, ended: false };
    history('sim-note', consoleText('Appel vocal depuis {{phone}}', { phone }));
    show(data);
  }

  async function answer(body, typed) {
    if (!call || call.ended) return;
    stop();
    if (!body.silence) call.silences = 0;
    history('sim-typed', typed, consoleText('Touches'));
    const { ok, data } = await post({ phone: call.phone, call: call.id, ...body });
    if (!ok) return failed(data.error);
    if (data.recording) history('sim-note', consoleText('Enregistrement simulé : {{url}}', { url: data.recording }));
    show(data);
  }

  function press(key) {
    if (!call || call.ended) return;
    stop();
    const g = call.gather.kind;
    if (g === 'key') return answer({ keys: key }, key);
    if (g !== 'number' && g !== 'digits') return;
    if (key === '#') {
      const typed = `${call.digits}#`;
      call.digits = '';
      return answer({ keys: typed }, typed);
    }
    call.digits += key;
    showState();
  }

  for (const b of document.querySelectorAll('.sim-mode-button')) b.addEventListener('click', () => setMode(b.dataset.mode));
  for (const k of keys) k.addEventListener('click', () => press(k.dataset.key));
  $('sim-voice-call').addEventListener('click', () => dial());
  $('sim-start').addEventListener('submit', (e) => { if (mode === 'voice') { e.preventDefault(); dial(); } });
  $('sim-voice-silence').addEventListener('click', () => {
    if (!call || call.ended) return;
    call.silences += 1;
    answer({ silence: Math.min(call.silences, 2) }, consoleText('(silence)'));
  });
  $('sim-voice-speak').addEventListener('click', () => answer({ speak: true }, consoleText('(parle)')));
  $('sim-voice-hangup').addEventListener('click', async () => {
    if (!call || call.ended) return;
    stop();
    call.ended = true;
    history('sim-note', consoleText('Raccroché'));
    showState();
    $('sim-voice-status').textContent = consoleText('Raccroché');
    await post({ phone: call.phone, call: call.id, hangup: true });
  });
  // A keyboard works as the keypad while the voice phone is shown.
  document.addEventListener('keydown', (e) => {
    if (mode !== 'voice' || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (/^[0-9*#]$/.test(e.key) && keys.some((k) => !k.disabled)) { e.preventDefault(); press(e.key); }
  });
  if (new URLSearchParams(location.search).get('mode') === 'voice') setMode('voice');
})();
