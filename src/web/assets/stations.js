// Sends the chosen CSV file as the request body (the server imports it in the
// background), then follows the latest import until it ends.
(() => {
  const form = document.getElementById('import-form');
  const status = document.getElementById('upload-status');
  const button = document.getElementById('import-button');
  const megabytes = (bytes) => (bytes / 1048576).toLocaleString(document.documentElement.lang || 'fr', { maximumFractionDigits: 1 });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = document.getElementById('csv-file').files[0];
    if (!file) {
      status.textContent = consoleText('Choisissez un fichier.');
      return;
    }
    const maxMb = Number(form.dataset.maxMb);
    if (file.size > maxMb * 1048576) {
      status.textContent = consoleText('Fichier trop gros : {{max}} Mo au plus.', { max: maxMb });
      return;
    }
    button.disabled = true;
    status.textContent = consoleText('Envoi du fichier ({{size}} Mo)…', { size: megabytes(file.size) });
    const replace = document.getElementById('replace').checked ? '?replace=1' : '';
    try {
      const res = await fetch(`/stations/import${replace}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', 'x-csrf-token': form.dataset.csrf, accept: 'application/json' },
        body: file,
      });
      if (res.status === 202) {
        location.assign('/stations');
        return;
      }
      let message = consoleText('Envoi refusé (erreur {{status}}).', { status: res.status });
      try {
        message = (await res.json()).error || message;
      } catch {
        // not JSON: the generic message
      }
      status.textContent = message;
    } catch {
      status.textContent = consoleText('Envoi interrompu : vérifiez la connexion et réessayez.');
    }
    button.disabled = false;
  });

  const latest = document.getElementById('latest-import');
  if (!latest || latest.dataset.finished !== '0') return;
  const id = latest.dataset.import;
  const row = document.querySelector(`#imports tr[data-import="${id}"]`);
  const show = (view) => {
    document.getElementById('import-result').textContent = view.message;
    if (!row) return;
    const badge = row.querySelector('.import-status');
    badge.textContent = view.statusLabel;
    badge.className = `badge import-${view.status} import-status`;
    row.querySelector('.import-kind').textContent = view.kindLabel;
    row.querySelector('.import-rows').textContent = view.rowsLabel;
    row.querySelector('.import-message').textContent = view.message;
  };
  const poll = async () => {
    try {
      const res = await fetch(`/stations/imports/${id}`, { headers: { accept: 'application/json' } });
      if (res.ok) {
        const view = await res.json();
        // Ended: the page again, with the list in service and the problems, if any.
        if (view.finished) return location.reload();
        show(view);
      }
    } catch {
      // the server is restarting: try again
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
})();
