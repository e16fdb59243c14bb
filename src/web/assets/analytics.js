// Draws the analytics page's charts from the JSON the server embedded (labels already in French).
const data = JSON.parse(document.getElementById('data').textContent);
// Counts are whole numbers: no 0.2, 0.4… on the axis.
const counts = { beginAtZero: true, ticks: { precision: 0 } };
const bar = (id, rows, horizontal, aspectRatio = 2) =>
  new Chart(document.getElementById(id), {
    type: 'bar',
    data: { labels: rows.map((r) => r.label), datasets: [{ label: 'Appels', data: rows.map((r) => r.n), backgroundColor: '#14532d' }] },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      plugins: { legend: { display: false } },
      scales: horizontal ? { x: counts } : { y: counts },
      aspectRatio,
      animation: false,
    },
  });
bar('per-hour', data.perHour);
new Chart(document.getElementById('languages'), {
  type: 'doughnut',
  data: { labels: data.languages.map((r) => r.label), datasets: [{ data: data.languages.map((r) => r.n), backgroundColor: ['#14532d', '#d97706', '#64748b'] }] },
  options: { animation: false },
});
bar('topics', data.topics, true);
// Funnels span the page: wider than tall, one bar per screen.
for (const f of data.funnels) bar(`funnel-${f.flow}`, f.steps, true, 3);
bar('regions', data.regions, true);
bar('incidents', data.incidents, true);
