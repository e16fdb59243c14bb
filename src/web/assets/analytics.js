// Draws the analytics page's charts from the JSON the server embedded.
const data = JSON.parse(document.getElementById('data').textContent);
const bar = (id, rows, horizontal) =>
  new Chart(document.getElementById(id), {
    type: 'bar',
    data: { labels: rows.map((r) => r.label), datasets: [{ data: rows.map((r) => r.n), backgroundColor: '#14532d' }] },
    options: { indexAxis: horizontal ? 'y' : 'x', plugins: { legend: { display: false } }, animation: false },
  });
bar('per-hour', data.perHour);
new Chart(document.getElementById('languages'), {
  type: 'doughnut',
  data: { labels: data.languages.map((r) => r.label), datasets: [{ data: data.languages.map((r) => r.n), backgroundColor: ['#14532d', '#d97706'] }] },
  options: { animation: false },
});
bar('topics', data.topics.filter((r) => r.label.startsWith('vote.') || r.label.startsWith('main.help')), true);
for (const f of data.funnels) bar(`funnel-${f.flow}`, f.steps, true);
bar('regions', data.regions, true);
bar('incidents', data.incidents, true);
