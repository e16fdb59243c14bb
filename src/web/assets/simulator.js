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
  $('sim-step').addEventListener('submit', (e) => { e.preventDefault(); const input = $('sim-input').value; $('sim-input').value = ''; call({ session, input }); });
})();
