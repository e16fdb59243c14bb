// Jest reporter that prints the test counts as the very last line of output,
// for CI logs and scripts: "N passed, N failed", plus ", N skipped" when tests
// were skipped or todo. A test file that could not run at all counts as a failure.
//
// Jest always runs its summary reporter after the custom ones, and the global
// teardown after all reporters, so the line is written when the process exits
// (stdout to a pipe, file or terminal is synchronous on Linux, so it is not lost).
'use strict';

class CountReporter {
  constructor() {
    this.line = undefined;
    process.once('exit', () => {
      if (this.line !== undefined) process.stdout.write(`${this.line}\n`);
    });
  }

  onRunComplete(_testContexts, results) {
    // A test file that could not run at all counts as one failure.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    let line = `${results.numPassedTests} passed, ${failed} failed`;
    const skipped = results.numPendingTests + results.numTodoTests;
    if (skipped > 0) line += `, ${skipped} skipped`;
    this.line = line;
  }
}

module.exports = CountReporter;
