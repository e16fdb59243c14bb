// Sends a prompt's audio (a chosen file, or a recording from the microphone) as the request body; shows the answer.
(() => {
  const table = document.getElementById('prompts');
  if (!table) return;
  const status = document.getElementById('prompts-status');
  const { lang, csrf } = table.dataset;
  const maxBytes = Number(table.dataset.maxMb) * 1048576;
  const say = (text, kind) => {
    status.textContent = text;
    status.className = kind || 'muted';
  };
  async function send(ref, blob) {
    if (blob.size > maxBytes) return say(consoleText('Fichier trop gros : {{max}} Mo au plus.', { max: table.dataset.maxMb }), 'error');
    say(consoleText('Conversion et publication…'));
    let data = { message: '' };
    let res;
    try {
      res = await fetch(`/prompts/upload?lang=${encodeURIComponent(lang)}&ref=${encodeURIComponent(ref)}`, { method: 'POST', headers: { 'content-type': blob.type || 'application/octet-stream', 'x-csrf-token': csrf, accept: 'application/json' }, body: blob });
      data = await res.json().catch(async () => ({ message: await res.text() }));
    } catch {
      return say(consoleText('Le serveur ne répond pas : réessayez.'), 'error');
    }
    if (!res.ok) return say(data.message || consoleText('Refusé (erreur {{status}}).', { status: res.status }), 'error');
    say(data.message, 'ok');
    // The page again, with the new recording and its player.
    setTimeout(() => window.location.reload(), 600);
  }
  for (const row of table.querySelectorAll('tr[data-ref]')) {
    const ref = row.dataset.ref;
    row.querySelector('.prompt-file').addEventListener('change', (e) => {
      const file = e.target.files[0];
      if (file) send(ref, file);
    });
    const button = row.querySelector('.prompt-record');
    let recorder = null;
    button.addEventListener('click', async () => {
      if (recorder) {
        recorder.stop();
        return;
      }
      let stream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch {
        return say(consoleText('Le micro n’est pas disponible : autorisez-le dans le navigateur, ou choisissez un fichier.'), 'error');
      }
      const chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener('dataavailable', (e) => chunks.push(e.data));
      recorder.addEventListener('stop', () => {
        for (const track of stream.getTracks()) track.stop();
        const blob = new Blob(chunks, { type: recorder.mimeType || 'audio/webm' });
        recorder = null;
        button.textContent = consoleText('Enregistrer au micro');
        const preview = document.createElement('audio');
        preview.controls = true;
        preview.src = URL.createObjectURL(blob);
        const sendButton = document.createElement('button');
        sendButton.type = 'button';
        sendButton.className = 'prompt-send';
        sendButton.textContent = consoleText('Envoyer');
        sendButton.addEventListener('click', () => send(ref, blob));
        row.querySelector('.prompt-state').replaceChildren(preview, ' ', sendButton);
      });
      recorder.start();
      button.textContent = consoleText('Arrêter');
      say(consoleText('Enregistrement en cours : parlez, puis « Arrêter ».'));
    });
  }
})();
