// The console's words for its scripts, in the reader's language: the page
// carries the translations its scripts need (`#console-text`, JSON, never
// run), and consoleText(text) reads them. French is the key.
(() => {
  const block = document.getElementById('console-text');
  let words = {};
  try { words = block ? JSON.parse(block.textContent || '{}') : {}; } catch { words = {}; }
  window.consoleText = (text, values) =>
    (words[text] || text).replace(/\{\{(\w+)\}\}/g, (_, name) => (values && name in values ? String(values[name]) : ''));
})();
