// The browser phone: posts each input to /simulator/step and shows the screen.
(() => {
  let session = null;
  const csrf = document.getElementById('sim-script').dataset.csrf;
  const $ = (id) => document.getElementById(id);
  async function call(body) {
    const r = await fetch('/simulator/step', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) { $('sim-screen').textContent = data.error || 'erreur'; return; }
    session = data.session;
    $('sim-screen').textContent = (data.screen.end ? 'END ' : 'CON ') + data.screen.text;
    $('sim-meta').textContent = data.node + ' · ' + data.screen.length + ' ' + data.screen.encoding;
    const ended = data.screen.end;
    $('sim-input').disabled = ended; $('sim-send').disabled = ended;
    if (!ended) $('sim-input').focus();
    if (data.effects.length) { $('sim-effects').hidden = false; $('sim-effects').textContent = data.effects.map((e) => JSON.stringify(e)).join('\n'); }
  }
  $('sim-start').addEventListener('submit', (e) => { e.preventDefault(); $('sim-effects').hidden = true; call({ lang: $('sim-lang').value, flow: $('sim-flow').value || undefined }); });
  // `/simulator?lang=bm&flow=vote` (the review page's links): that language and flow, called at once.
  const wanted = new URLSearchParams(location.search);
  const pick = (select, value) => { if (value && [...select.options].some((o) => o.value === value)) { select.value = value; return true; } return false; };
  const langSet = pick($('sim-lang'), wanted.get('lang'));
  const flowSet = pick($('sim-flow'), wanted.get('flow'));
  if (langSet && flowSet) call({ lang: $('sim-lang').value, flow: $('sim-flow').value });
  $('sim-step').addEventListener('submit', (e) => { e.preventDefault(); const input = $('sim-input').value; $('sim-input').value = ''; call({ session, input }); });
})();
