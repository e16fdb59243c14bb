/**
 * The menu editor's browser code (editor.js and CodeMirror) as one script.
 * A build writes it beside the other assets; without a build (development,
 * tests) the console bundles it once per process on the first request.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** The editor's entry point: plain JavaScript importing CodeMirror's packages. */
export const EDITOR_ENTRY = join(here, 'editor.js');

/**
 * editor.js with everything it imports, minified, as the text of one script.
 *
 * @example
 * writeFileSync('dist/src/web/assets/editor.js', await bundleEditor());
 */
export async function bundleEditor(): Promise<string> {
  const result = await build({
    entryPoints: [EDITOR_ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2020',
    minify: true,
    // CodeMirror's and its parts' licence notices travel with the bundle.
    legalComments: 'eof',
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
