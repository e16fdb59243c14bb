// The menu editor's browser side: the draft (every file of a version, kept in
// sessionStorage so that a reload loses nothing), CodeMirror on the open file,
// the server's check ~400 ms after the last keystroke (problems inline, diff,
// text lengths, a compiled draft for the preview phone), publish and rebase.
// Bundled with CodeMirror by src/web/editor/bundle.ts; no inline script or
// style anywhere (the console's CSP is default-src 'self').
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching } from '@codemirror/language';
import { yaml } from '@codemirror/lang-yaml';
import { setDiagnostics, lintGutter, lintKeymap } from '@codemirror/lint';

const CHECK_DELAY_MS = 400;
const STORAGE_KEY = 'kalata-editor-draft';

const $ = (id) => document.getElementById(id);
const data = JSON.parse($('editor-data').textContent);
const csrf = $('editor-script').dataset.csrf;

// The draft: `base` is the files of version `basedOn`, `files` the admin's edit of them.
let draft = restore() || { basedOn: data.basedOn, base: data.files, files: { ...data.files }, open: firstFile(data.files) };
let lastCheck = null;
let checkSeq = 0;
let checkTimer = null;
const states = new Map(); // path -> EditorState (each file keeps its own undo history)
let replacing = false; // a change made by the page (texts table, rebase), not typed in the code editor

function firstFile(files) {
  return Object.keys(files).sort().find((p) => p === 'flows/main.yaml') || Object.keys(files).sort()[0];
}
/** The draft this tab kept, if it holds changes (an unchanged one is just an older live version). */
function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    if (!saved || !saved.basedOn || !saved.files || !saved.base) return null;
    const paths = new Set([...Object.keys(saved.base), ...Object.keys(saved.files)]);
    return [...paths].some((p) => saved.base[p] !== saved.files[p]) ? saved : null;
  } catch {
    return null;
  }
}
function save() {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(draft));
  } catch {
    // A full storage only costs the reload safety net; the draft is still in the page.
  }
}
const changedFiles = () => Object.keys({ ...draft.base, ...draft.files }).filter((p) => draft.base[p] !== draft.files[p]);

async function post(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
  const type = res.headers.get('content-type') || '';
  const answer = type.includes('json') ? await res.json().catch(() => ({})) : { error: await res.text() };
  return { status: res.status, ok: res.ok, data: answer };
}

/** A problem's message with its codes (node ids, text keys) as code. */
function messageParts(p) {
  return (p.segments || [{ text: p.message, code: false }]).map((part) => (part.code ? el('code', { text: part.text }) : part.text));
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}
const status = (text, kind) => {
  $('editor-status').textContent = text;
  $('editor-status').className = 'editor-status' + (kind ? ' ' + kind : '');
};

// ---- the code editor ----

// CodeMirror writes its styles into a <style> element on a document (the CSP
// refuses it) but into a constructable stylesheet in a shadow root (allowed):
// the editor lives in a shadow root of its box.
const shadow = $('editor-code').attachShadow({ mode: 'open' });
const view = new EditorView({ root: shadow, parent: shadow });
const look = EditorView.theme({
  '&': { height: '100%', fontSize: '14px', backgroundColor: '#fff' },
  '&.cm-focused': { outline: '2px solid #14532d' },
  '.cm-scroller': { fontFamily: 'ui-monospace, monospace' },
  '.cm-gutters': { backgroundColor: '#f3f3ee', color: '#555' },
});

function stateFor(path) {
  let state = states.get(path);
  if (!state) {
    state = EditorState.create({
      doc: draft.files[path] || '',
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        history(),
        drawSelection(),
        // Long comments and texts wrap: nothing hides past the right edge, on a laptop or a phone.
        EditorView.lineWrapping,
        indentOnInput(),
        bracketMatching(),
        // YAML's grammar reads JSON too (JSON is YAML): one highlighter for flows and texts.
        yaml(),
        syntaxHighlighting(defaultHighlightStyle),
        look,
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap, ...lintKeymap]),
        EditorView.contentAttributes.of({ 'aria-label': consoleText('Contenu du fichier {{file}}', { file: path }) }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) edited(path, update.state.doc.toString(), replacing ? 'outside' : 'code');
        }),
      ],
    });
    states.set(path, state);
  }
  return state;
}

function openFile(path) {
  if (draft.open && states.has(draft.open)) states.set(draft.open, view.state);
  draft.open = path;
  save();
  view.setState(stateFor(path));
  $('editor-open-file').textContent = path;
  showDiagnostics();
  renderFileList();
}

/** Replaces a file's text from outside the code editor (the texts table, a rebase): one undoable change. */
function replaceFile(path, text) {
  draft.files[path] = text;
  const state = path === draft.open ? view.state : states.get(path);
  if (!state) return;
  const tr = state.update({ changes: { from: 0, to: state.doc.length, insert: text } });
  if (path === draft.open) {
    replacing = true;
    try {
      view.dispatch(tr);
    } finally {
      replacing = false;
    }
  } else states.set(path, tr.state);
}

function edited(path, text, from) {
  draft.files[path] = text;
  save();
  if (from === 'code' && path.startsWith('locales/')) textsStale = true;
  renderFileList();
  scheduleCheck();
}

function diagnosticsFor(path, problems, doc) {
  return problems
    .filter((p) => p.file === path)
    .map((p) => {
      const line = doc.line(Math.min(Math.max(p.line || 1, 1), doc.lines));
      const from = Math.min(line.from + Math.max((p.col || 1) - 1, 0), line.to);
      return { from, to: Math.max(line.to, from), severity: p.severity === 'error' ? 'error' : 'warning', message: p.message };
    });
}
function showDiagnostics() {
  const problems = lastCheck ? lastCheck.problems : [];
  view.dispatch(setDiagnostics(view.state, diagnosticsFor(draft.open, problems, view.state.doc)));
}

// ---- the file list ----

function renderFileList() {
  const list = $('editor-file-list');
  list.textContent = '';
  const counts = {};
  for (const p of lastCheck ? lastCheck.problems : []) {
    counts[p.file] = counts[p.file] || { error: 0, warning: 0 };
    counts[p.file][p.severity === 'error' ? 'error' : 'warning'] += 1;
  }
  const changed = new Set(changedFiles());
  for (const path of Object.keys(draft.files).sort()) {
    const c = counts[path];
    const marks = [];
    if (changed.has(path)) marks.push(el('span', { class: 'badge file-changed', text: consoleText('modifié') }));
    if (c && c.error) marks.push(el('span', { class: 'badge severity-error', text: consoleText('{{count}} erreur(s)', { count: c.error }) }));
    if (c && c.warning) marks.push(el('span', { class: 'badge severity-warning', text: consoleText('{{count}} avertissement(s)', { count: c.warning }) }));
    const button = el('button', { type: 'button', class: 'file-button', 'aria-current': path === draft.open ? 'true' : null, 'data-file': path, onclick: () => openFile(path) }, el('span', { class: 'file-name', text: path }), ...marks);
    list.append(el('li', {}, button));
  }
}

// A new flow starts as the smallest file the checker reads; it says what is missing.
$('editor-new-flow').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('editor-new-flow-name').value.trim();
  const path = 'flows/' + id + '.yaml';
  if (path in draft.files) {
    $('editor-new-flow-help').textContent = consoleText('Le fichier {{file}} existe déjà.', { file: path });
    return;
  }
  draft.files[path] = '# ' + id + '\nid: ' + id + '\ndescription: ' + id + '\nstart: start\nnodes:\n  start:\n    type: end\n    text: start.text\n';
  $('editor-new-flow-name').value = '';
  openFile(path);
  save();
  scheduleCheck(0);
  $('editor-new-flow-help').textContent = consoleText('Fichier {{file}} ajouté au brouillon : écrivez le flux, le vérificateur dit ce qui manque.', { file: path });
});

// ---- checking ----

function scheduleCheck(delay = CHECK_DELAY_MS) {
  clearTimeout(checkTimer);
  status(consoleText('Modifié : vérification dans un instant…'));
  checkTimer = setTimeout(runCheck, delay);
}

async function runCheck() {
  const seq = ++checkSeq;
  status(consoleText('Vérification…'));
  let answer;
  try {
    answer = await post('/editor/check', { files: draft.files });
  } catch {
    if (seq === checkSeq) status(consoleText('Le serveur ne répond pas : nouvel essai dans quelques secondes.'), 'error');
    if (seq === checkSeq) scheduleCheck(3000);
    return;
  }
  // A newer check was started while this one ran: its answer is the one to show.
  if (seq !== checkSeq) return;
  if (answer.status === 503) return scheduleCheck(2000);
  if (!answer.ok) return status(answer.data.error || consoleText('Vérification impossible (erreur {{status}}).', { status: answer.status }), 'error');
  applyCheck(answer.data);
}

/** The preview phone offers the draft's own languages (a language added in the draft can be tried before it is live). */
function updatePreviewLanguages(languages) {
  const select = $('preview-lang');
  if (!languages || !languages.length) return;
  // The page's own names for the languages it knew; a new one by its name in languages.yaml.
  const known = new Map([...select.options].map((o) => [o.value, o.textContent]));
  if ([...known.keys()].join() === languages.map((l) => l.code).join()) return;
  const chosen = select.value;
  select.textContent = '';
  for (const { code, name } of languages) select.append(el('option', { value: code, text: known.get(code) || name }));
  if (languages.some((l) => l.code === chosen)) select.value = chosen;
}

function applyCheck(result) {
  lastCheck = result;
  updatePreviewLanguages(result.languages);
  const errors = result.problems.filter((p) => p.severity === 'error').length;
  const warnings = result.problems.length - errors;
  const changed = changedFiles().length;
  const summary = changed ? consoleText('{{count}} fichier(s) modifié(s).', { count: changed }) : consoleText('Aucune modification.');
  if (errors) status(consoleText('{{summary}} {{errors}} erreur(s), {{warnings}} avertissement(s) : corrigez les erreurs pour publier.', { summary, errors, warnings }), 'error');
  else status(consoleText('{{summary}} Aucune erreur ({{warnings}} avertissement(s)).', { summary, warnings }), 'ok');
  showDiagnostics();
  renderFileList();
  renderProblems(result.problems);
  renderDiff($('editor-diff'), result.diff, consoleText('Aucune modification.'));
  if (textsStale) renderTexts();
  updateMeasures();
  showBaseNotice(result.liveId);
}

function renderProblems(problems) {
  const list = $('editor-problems');
  list.textContent = '';
  if (!problems.length) {
    list.append(el('li', { class: 'ok', text: consoleText('Aucun problème.') }));
    return;
  }
  const sorted = [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  for (const p of sorted) {
    const where = p.file + ':' + p.line + ':' + p.col;
    const go = el('button', { type: 'button', class: 'link-button', onclick: () => goTo(p), text: where });
    list.append(el('li', { class: 'problem problem-' + p.severity }, el('span', { class: 'badge severity-' + p.severity, text: p.severity === 'error' ? consoleText('Erreur') : consoleText('Avertissement') }), ' ', go, ' ', ...messageParts(p)));
  }
}

function goTo(p) {
  if (!(p.file in draft.files)) return;
  if (p.file !== draft.open) openFile(p.file);
  const doc = view.state.doc;
  const line = doc.line(Math.min(Math.max(p.line || 1, 1), doc.lines));
  const pos = Math.min(line.from + Math.max((p.col || 1) - 1, 0), line.to);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

// ---- the diff ----

function renderDiff(box, diffs, empty) {
  box.textContent = '';
  if (!diffs || !diffs.length) {
    box.append(el('p', { class: 'muted', text: empty }));
    return;
  }
  for (const d of diffs) {
    const what = d.change === 'added' ? consoleText('nouveau fichier') : d.change === 'removed' ? consoleText('fichier supprimé') : consoleText('{{added}} ligne(s) ajoutée(s), {{removed}} retirée(s)', { added: d.added, removed: d.removed });
    const block = el('div', { class: 'diff-file' }, el('h3', {}, el('code', { text: d.file }), ' ', el('span', { class: 'muted', text: what })));
    if (d.tooLarge) block.append(el('p', { class: 'muted', text: consoleText('Trop de changements pour les montrer ligne à ligne.') }));
    for (const hunk of d.hunks) {
      const rows = hunk.map((line) =>
        el(
          'tr',
          { class: 'diff-' + line.kind },
          el('td', { class: 'diff-line', text: String(line.line) }),
          el('td', { class: 'diff-mark', text: line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : '' }, line.kind === 'same' ? null : el('span', { class: 'visually-hidden', text: line.kind === 'added' ? consoleText('ajouté') : consoleText('retiré') })),
          el('td', { class: 'diff-text', text: line.text }),
        ),
      );
      block.append(el('div', { class: 'table-scroll' }, el('table', { class: 'diff' }, el('tbody', {}, ...rows))));
    }
    box.append(block);
  }
}

// ---- the texts table ----

let textsStale = true;
const LANG_FILE = /^locales\/([a-z]{2,3})\/(.+)\.json$/;

function languages() {
  const found = new Set();
  for (const p of Object.keys(draft.files)) {
    const m = LANG_FILE.exec(p);
    if (m) found.add(m[1]);
  }
  // French first (the console's language), then the others as their folders sort.
  return [...found].sort((a, b) => (a === 'fr' ? -1 : b === 'fr' ? 1 : a.localeCompare(b)));
}

function flat(value, prefix, out) {
  if (typeof value === 'string') {
    if (prefix) out.set(prefix, value);
  } else if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) flat(v, prefix ? prefix + '.' + k : k, out);
  }
  return out;
}
function parsed(path) {
  try {
    return JSON.parse(draft.files[path]);
  } catch {
    return undefined;
  }
}

function renderTexts() {
  textsStale = false;
  const langs = languages();
  const head = $('editor-texts-head');
  while (head.children.length > 1) head.lastElementChild.remove();
  for (const lang of langs) head.append(el('th', { scope: 'col', text: lang === 'fr' ? consoleText('Français') : lang === 'bm' ? consoleText('Bambara') : lang }));
  const body = $('editor-texts').tBodies[0];
  body.textContent = '';
  const namespaces = new Set();
  for (const p of Object.keys(draft.files)) {
    const m = LANG_FILE.exec(p);
    if (m) namespaces.add(m[2]);
  }
  for (const ns of [...namespaces].sort()) {
    const byLang = {};
    const keys = new Set();
    const broken = [];
    for (const lang of langs) {
      const path = 'locales/' + lang + '/' + ns + '.json';
      if (!(path in draft.files)) continue;
      const json = parsed(path);
      if (json === undefined) broken.push(path);
      byLang[lang] = flat(json, '', new Map());
      for (const k of byLang[lang].keys()) keys.add(k);
    }
    body.append(el('tr', { class: 'texts-ns' }, el('th', { scope: 'rowgroup', colspan: String(langs.length + 1) }, el('code', { text: ns }), broken.length ? el('span', { class: 'error', text: ' ' + consoleText('{{files}} : JSON illisible, corrigez-le dans l’éditeur de code.', { files: broken.join(', ') }) }) : null)));
    for (const key of [...keys].sort()) {
      const row = el('tr', { 'data-key': ns + ':' + key }, el('th', { scope: 'row' }, el('code', { text: ns + ':' + key })));
      for (const lang of langs) {
        const path = 'locales/' + lang + '/' + ns + '.json';
        const value = byLang[lang] && byLang[lang].get(key);
        const cell = el('td', {});
        if (value === undefined) {
          cell.append(el('span', { class: 'error', text: consoleText('absent') }));
        } else {
          const box = el('textarea', { rows: String(Math.min(6, Math.max(1, Math.ceil(value.length / 48)))), 'aria-label': consoleText('{{key}} en {{lang}}', { key: ns + ':' + key, lang }), 'data-file': path, 'data-key': key, disabled: broken.includes(path) });
          box.value = value;
          box.addEventListener('input', () => editText(path, key, box.value));
          cell.append(box, el('div', { class: 'measure', 'data-file': path, 'data-key': key }), el('div', { class: 'measure-screen', 'data-key': ns + ':' + key, 'data-lang': lang }));
        }
        row.append(cell);
      }
      body.append(row);
    }
  }
  filterTexts();
}

function setPath(obj, dotted, value) {
  const parts = dotted.split('.');
  let at = obj;
  for (const part of parts.slice(0, -1)) at = at[part];
  at[parts[parts.length - 1]] = value;
}

function editText(path, key, value) {
  const json = parsed(path);
  if (json === undefined) return;
  setPath(json, key, value);
  replaceFile(path, JSON.stringify(json, null, 2) + '\n');
  save();
  renderFileList();
  scheduleCheck();
}

function updateMeasures() {
  if (!lastCheck) return;
  for (const cell of document.querySelectorAll('#editor-texts .measure')) {
    const m = lastCheck.texts[cell.dataset.file] && lastCheck.texts[cell.dataset.file][cell.dataset.key];
    cell.textContent = m ? consoleText('texte : {{length}}/{{limit}} {{encoding}}', m) : '';
    cell.classList.toggle('over', Boolean(m && m.length > m.limit));
    if (m && m.length > m.limit) cell.textContent += ' · ' + consoleText('trop long pour un écran');
  }
  for (const cell of document.querySelectorAll('#editor-texts .measure-screen')) {
    const s = lastCheck.screens[cell.dataset.key] && lastCheck.screens[cell.dataset.key][cell.dataset.lang];
    if (!s) cell.textContent = '';
    // The screen's id is a code of the YAML: shown as code, inside the sentence.
    else {
      const at = '\u0000';
      const text = s.pages > 1 ? consoleText('écran {{node}} : {{length}}/{{limit}} {{encoding}}, {{pages}} pages', { ...s, node: at }) : consoleText('écran {{node}} : {{length}}/{{limit}} {{encoding}}', { ...s, node: at });
      const [before, after = ''] = text.split(at);
      cell.replaceChildren(before, el('code', { text: s.node }), after);
    }
    cell.classList.toggle('over', Boolean(s && s.length > s.limit));
  }
}

function filterTexts() {
  const wanted = $('editor-texts-filter').value.trim().toLowerCase();
  for (const row of $('editor-texts').tBodies[0].rows) {
    if (!row.dataset.key) continue;
    const words = row.dataset.key.toLowerCase() + ' ' + [...row.querySelectorAll('textarea')].map((t) => t.value.toLowerCase()).join(' ');
    row.hidden = Boolean(wanted) && !words.includes(wanted);
  }
}
$('editor-texts-filter').addEventListener('input', filterTexts);

// ---- the preview phone ----

let call = null; // { hash, session }

function phoneLive(live) {
  $('preview-input').disabled = !live;
  $('preview-send').disabled = !live;
  $('preview-hangup').disabled = !live;
  if (live) $('preview-input').focus();
}
function showScreen(answer) {
  $('preview-screen').textContent = answer.screen.text;
  $('preview-meta').textContent = answer.node + ' · ' + answer.screen.length + ' ' + answer.screen.encoding;
  call.session = answer.session;
  if (answer.screen.end) {
    call = null;
    $('preview-meta').textContent += ' · ' + consoleText('Appel terminé');
  }
  phoneLive(Boolean(call));
}

async function previewStep(body, again = true) {
  const answer = await post('/editor/preview/' + encodeURIComponent(call.hash) + '/step', body);
  if (answer.status === 409 && again) {
    // The server no longer holds this draft compiled: check it again, then redo the step on it.
    await runCheck();
    if (!lastCheck || !lastCheck.preview || !call) return;
    call.hash = lastCheck.preview;
    return previewStep(body, false);
  }
  if (!answer.ok) {
    $('preview-screen').textContent = answer.data.error || consoleText('L’aperçu a échoué (erreur {{status}}).', { status: answer.status });
    call = null;
    phoneLive(false);
    return;
  }
  showScreen(answer.data);
}

$('preview-call').addEventListener('click', async () => {
  if (checkTimer) {
    clearTimeout(checkTimer);
    await runCheck();
  }
  if (!lastCheck || !lastCheck.preview) {
    $('preview-screen').textContent = consoleText('Le brouillon a des erreurs : corrigez-les pour l’essayer.');
    return;
  }
  call = { hash: lastCheck.preview, session: null };
  $('preview-meta').textContent = '';
  await previewStep({ lang: $('preview-lang').value });
});
$('preview-step').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!call) return;
  const input = $('preview-input').value;
  $('preview-input').value = '';
  await previewStep({ session: call.session, input });
});
$('preview-hangup').addEventListener('click', () => {
  call = null;
  $('preview-screen').textContent = consoleText('Appel terminé');
  phoneLive(false);
});

// ---- publishing, conflicts, rebasing ----

function result(text, kind) {
  const box = $('editor-publish-result');
  box.textContent = '';
  if (text) box.append(el('p', { class: kind || '', text }));
}

$('editor-publish-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('editor-conflict').hidden = true;
  const note = $('editor-note').value.trim();
  if (!note) {
    result(consoleText('Une note est nécessaire : dites ce qui change.'), 'error');
    $('editor-note').focus();
    return;
  }
  $('editor-publish').disabled = true;
  result(consoleText('Publication…'));
  try {
    const answer = await post('/editor/publish', { files: draft.files, basedOn: draft.basedOn, note });
    const d = answer.data;
    if (answer.ok && d.kind === 'published') {
      sessionStorage.removeItem(STORAGE_KEY);
      location.assign('/editor?published=' + encodeURIComponent(d.id));
      return;
    }
    if (answer.ok && d.kind === 'unchanged') return result(consoleText('Rien à publier : le brouillon est déjà la version en ligne ({{id}}).', { id: d.id }), 'muted');
    if (answer.status === 422 && d.kind === 'refused') {
      applyCheck({ ...(lastCheck || { texts: {}, screens: {}, diff: [], liveId: draft.basedOn }), problems: d.problems });
      const errors = d.problems.filter((p) => p.severity === 'error').length;
      return result(consoleText('Publication refusée : {{count}} erreur(s). La version en ligne n’a pas changé.', { count: errors }), 'error');
    }
    if (answer.status === 409 && d.kind === 'conflict') return showConflict(d);
    result(d.error || consoleText('Publication impossible (erreur {{status}}).', { status: answer.status }), 'error');
  } catch {
    result(consoleText('Le serveur ne répond pas : rien n’a été publié.'), 'error');
  } finally {
    $('editor-publish').disabled = false;
  }
});

let conflict = null;
function showConflict(d) {
  conflict = d;
  const who = d.liveAuthor ? consoleText('{{author}} a publié la version {{id}} ({{note}}) depuis la version {{base}} de votre brouillon.', { author: d.liveAuthor, id: d.liveId, note: d.liveNote || '—', base: d.basedOn }) : consoleText('La version {{id}} a été publiée depuis la version {{base}} de votre brouillon.', { id: d.liveId, base: d.basedOn });
  result(consoleText('Publication refusée : rien de votre brouillon n’est en ligne.') + ' ' + who, 'error');
  $('editor-conflict').hidden = false;
  const theirs = $('editor-theirs');
  theirs.textContent = '';
  theirs.append(el('h3', { text: consoleText('Ce que la version {{id}} a changé', { id: d.liveId }) }));
  const box = el('div', {});
  renderDiff(box, d.theirs, consoleText('Aucune modification.'));
  theirs.append(box);
}

function showBaseNotice(liveId) {
  const notice = $('editor-base-notice');
  const stale = liveId && liveId !== draft.basedOn;
  notice.hidden = !stale;
  notice.textContent = stale ? consoleText('Votre brouillon part de la version {{base}}, mais la version {{id}} est en ligne : la publication sera refusée. Publiez pour voir ce qui a changé et réappliquer votre brouillon.', { base: draft.basedOn, id: liveId }) : '';
}

/**
 * Re-applies the draft on the live version: a file only the admin changed
 * keeps the admin's text; a text file changed on both sides is merged text
 * by text (the admin's texts win); a flow changed on both sides keeps the
 * admin's and is named, to be read in the diff before publishing.
 */
function rebase(d) {
  const theirs = d.liveFiles;
  const files = { ...theirs };
  const bothChanged = [];
  for (const path of new Set([...Object.keys(draft.base), ...Object.keys(draft.files)])) {
    const mine = draft.files[path];
    const base = draft.base[path];
    if (mine === base) continue;
    if (theirs[path] === base || theirs[path] === mine) {
      if (mine === undefined) delete files[path];
      else files[path] = mine;
      continue;
    }
    const merged = path.endsWith('.json') ? mergeTexts(base, mine, theirs[path]) : undefined;
    if (merged !== undefined) files[path] = merged;
    else {
      if (mine === undefined) delete files[path];
      else files[path] = mine;
      bothChanged.push(path);
    }
  }
  return { files, bothChanged };
}
function mergeTexts(base, mine, theirs) {
  try {
    const out = JSON.parse(theirs);
    const before = flat(JSON.parse(base), '', new Map());
    for (const [key, value] of flat(JSON.parse(mine), '', new Map())) {
      if (before.get(key) === value) continue;
      setPath(out, key, value);
    }
    return JSON.stringify(out, null, 2) + '\n';
  } catch {
    return undefined;
  }
}

function startOver(files, basedOn, base) {
  draft = { basedOn, base, files: { ...files }, open: draft.open in files ? draft.open : firstFile(files) };
  states.clear();
  save();
  view.setState(stateFor(draft.open));
  $('editor-open-file').textContent = draft.open;
  textsStale = true;
  renderTexts();
  renderFileList();
  runCheck();
}

$('editor-rebase').addEventListener('click', () => {
  if (!conflict) return;
  const { files, bothChanged } = rebase(conflict);
  startOver(files, conflict.liveId, conflict.liveFiles);
  $('editor-conflict').hidden = true;
  result(
    bothChanged.length
      ? consoleText('Brouillon réappliqué sur la version {{id}}. Modifiés des deux côtés, votre version gardée : {{files}}. Relisez les différences avant de publier.', { id: conflict.liveId, files: bothChanged.join(', ') })
      : consoleText('Brouillon réappliqué sur la version {{id}}. Relisez les différences, puis publiez.', { id: conflict.liveId }),
    bothChanged.length ? 'error' : 'ok',
  );
  conflict = null;
});

function resetToLive() {
  if (changedFiles().length && !confirm(consoleText('Abandonner votre brouillon et repartir de la version en ligne ?'))) return;
  sessionStorage.removeItem(STORAGE_KEY);
  location.assign('/editor');
}
$('editor-reset').addEventListener('click', resetToLive);
$('editor-conflict-reset').addEventListener('click', resetToLive);

for (const form of document.querySelectorAll('form.rollback')) {
  form.addEventListener('submit', (e) => {
    if (!confirm(consoleText('Remettre la version {{id}} en ligne pour tous les appels ? Votre brouillon n’est pas publié.', { id: form.dataset.version }))) e.preventDefault();
  });
}

// ---- start ----

if (draft.basedOn !== data.basedOn) showBaseNotice(data.basedOn);
openFile(draft.open in draft.files ? draft.open : firstFile(draft.files));
renderTexts();
runCheck();
