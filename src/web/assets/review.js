// Sends the reviewer's CSV file as the request body; shows why it was refused, row by row, or reloads the list.
(() => {
  const form = document.getElementById('review-import');
  if (!form) return;
  const status = document.getElementById('review-import-status');
  const list = document.getElementById('review-import-problems');
  const button = document.getElementById('review-import-button');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = document.getElementById('review-file').files[0];
    list.hidden = true;
    list.replaceChildren();
    if (!file) {
      status.textContent = consoleText('Choisissez un fichier.');
      return;
    }
    if (file.size > Number(form.dataset.maxMb) * 1048576) {
      status.textContent = consoleText('Fichier trop gros : {{max}} Mo au plus.', { max: form.dataset.maxMb });
      return;
    }
    button.disabled = true;
    status.textContent = consoleText('Vérification…');
    try {
      const res = await fetch(`/texts/import?lang=${encodeURIComponent(form.dataset.lang)}`, { method: 'POST', headers: { 'content-type': 'text/csv', 'x-csrf-token': form.dataset.csrf, accept: 'application/json' }, body: file });
      let data = { message: consoleText('Import refusé (erreur {{status}}).', { status: res.status }), problems: [] };
      try {
        data = await res.json();
      } catch {
        // not JSON: the generic message
      }
      status.textContent = data.message;
      status.className = res.ok ? 'ok' : 'error';
      for (const p of data.problems || []) {
        const li = document.createElement('li');
        li.textContent = p;
        list.append(li);
      }
      list.hidden = !list.children.length;
      if (res.ok) {
        const link = document.createElement('a');
        link.href = location.pathname + location.search;
        link.id = 'review-import-refresh';
        link.textContent = ` ${consoleText('Voir la liste à jour')}`;
        status.append(link);
      }
    } catch {
      status.textContent = consoleText('Envoi interrompu : vérifiez la connexion et réessayez.');
    }
    button.disabled = false;
  });
})();
