// Draws the analytics page's charts from the JSON the server embedded (labels and dataset names already in the reader's language, unique per screen).
const data = JSON.parse(document.getElementById('data').textContent);
// Counts are whole numbers: no 0.2, 0.4… on the axis.
const counts = { beginAtZero: true, ticks: { precision: 0 } };
const colours = ['#14532d', '#b45309', '#475569', '#1e3a8a'];
for (const c of data.charts) {
  const canvas = document.getElementById(`chart-${c.key}`);
  if (!canvas) continue; // nothing counted on this period: the page says so instead
  const labels = c.rows.map((r) => r.label);
  const values = c.rows.map((r) => r.n);
  if (c.kind === 'doughnut') {
    new Chart(canvas, {
      type: 'doughnut',
      data: { labels, datasets: [{ label: c.counted, data: values, backgroundColor: colours }] },
      options: { animation: false, maintainAspectRatio: false },
    });
    continue;
  }
  // A bar per row: the box grows with the rows so that every label stays readable (CSSOM, which the CSP allows).
  if (c.horizontal) canvas.parentElement.style.height = `${Math.max(10, 2 + 1.7 * c.rows.length)}rem`;
  new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: c.counted, data: values, backgroundColor: colours[0] }] },
    options: {
      indexAxis: c.horizontal ? 'y' : 'x',
      plugins: { legend: { display: false } },
      scales: c.horizontal ? { x: counts } : { y: counts },
      // The box sets the size (CSS): a funnel's height follows its number of screens.
      maintainAspectRatio: false,
      animation: false,
    },
  });
}
