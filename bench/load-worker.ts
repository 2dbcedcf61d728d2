/**
 * Runs one `runLoad` in its own process, so the load generator does not share the server's or the
 * bench's event loop:
 *   npx tsx bench/load-worker.ts '<LoadOptions as JSON>'
 * Prints the LoadReport as JSON on stdout. SIGTERM stops the run early (still reports).
 */
import { runLoad, type LoadOptions } from '../src/simulator/load.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const controller = new AbortController();
process.on('SIGTERM', () => controller.abort());
process.on('SIGINT', () => controller.abort());
process.stdin.on('close', () => controller.abort()).resume();
const report = await runLoad({ ...opts, signal: controller.signal });
process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
