// Refreshes the dashboard's counter of calls in the last hour.
setInterval(async () => {
  const r = await fetch('/api/counters', { headers: { accept: 'application/json' } });
  if (r.ok) document.getElementById('calls-hour').textContent = (await r.json()).callsLastHour;
}, 15000);
