// The live dashboard: follows the server's event stream (one snapshot every few seconds,
// each card already rendered and escaped by the server, in the reader's language and the console's zone)
// and redraws the chart. If the stream drops, the page says so and EventSource reconnects.
const status = document.getElementById('dash-status');
const initial = JSON.parse(document.getElementById('dash-data').textContent);
const counts = { beginAtZero: true, ticks: { precision: 0 } };
const chart = new Chart(document.getElementById('activity-chart'), {
  type: 'line',
  data: {
    labels: initial.labels,
    datasets: [
      { label: consoleText('Appels'), data: initial.calls, borderColor: '#14532d', backgroundColor: '#14532d', tension: 0, pointRadius: 2 },
      { label: consoleText('Signalements'), data: initial.reports, borderColor: '#d97706', backgroundColor: '#d97706', tension: 0, pointRadius: 2 },
    ],
  },
  options: { animation: false, maintainAspectRatio: false, scales: { y: counts, x: { ticks: { autoSkip: true, maxRotation: 0 } } }, plugins: { legend: { position: 'bottom' } } },
});

const say = (text, state) => {
  status.textContent = text;
  status.className = `dash-status ${state}`;
};

function show(view) {
  for (const [name, html] of Object.entries(view.cards)) {
    const el = document.getElementById(`card-${name}`);
    // Only a card that changed is replaced: focus and an open « chiffres » stay where they are.
    if (!el || el.dataset.html === html) continue;
    const open = el.querySelector('details')?.open;
    el.innerHTML = html;
    el.dataset.html = html;
    if (open) el.querySelector('details').open = true;
  }
  document.getElementById('card-alerts').classList.toggle('dash-alarm', view.alerting);
  document.getElementById('card-health').classList.toggle('dash-alarm', view.down);
  chart.data.labels = view.chart.labels;
  chart.data.datasets[0].data = view.chart.calls;
  chart.data.datasets[1].data = view.chart.reports;
  chart.update();
  say(consoleText('En direct · mis à jour à {{at}}', { at: view.at }), 'live');
}

let source;
let ended = false;
function connect() {
  source = new EventSource('/api/dashboard/events');
  source.addEventListener('snapshot', (e) => {
    status.dataset.seq = e.lastEventId;
    show(JSON.parse(e.data));
  });
  source.addEventListener('end', () => {
    ended = true;
    source.close();
    say(consoleText('Session terminée : reconnectez-vous pour suivre le tableau de bord.'), 'lost');
    const a = document.createElement('a');
    a.href = `/login?next=${encodeURIComponent('/')}`;
    a.textContent = ` ${consoleText('Se reconnecter')}`;
    status.append(a);
  });
  source.addEventListener('error', () => {
    if (ended) return;
    say(consoleText('Connexion perdue, nouvel essai…'), 'lost');
    // EventSource retries by itself, except after a refusal (an HTTP error): then retry ourselves.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 10_000);
  });
}
say(consoleText('Connexion…'), 'wait');
connect();
