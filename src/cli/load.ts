/**
 * `voicebot load`: parses the command line, runs `runLoad` (Ctrl-C stops it early and still
 * reports) and prints the report as a markdown table or JSON.
 */
import { parseArgs } from 'node:util';
import { formatLoadReport, type LoadReport } from '../simulator/load-report.js';
import { LoadOptionsError, runLoad } from '../simulator/load.js';
import { loadScenarioFile, ScenarioError } from '../simulator/scenario.js';

export const LOAD_USAGE = `  voicebot load --url <ws-url> --calls N --duration S [options]
      --calls N           concurrent simulated calls (1..5000)
      --duration S        seconds each call lasts before hanging up (1..3600)
      --ramp S            spread the call starts over this many seconds (default 0)
      --phase S           callers out of step: after its greeting each call waits a share of S
                          seconds (about one pass of the scenario) before its first step, so
                          replies are spread over S instead of all at once (default 0: in step)
      --scenario FILE     JSON list of steps: {"say": WAV, "bargeInAfterMs"?}, {"waitReply": true},
                          {"pause": MS}; repeated until the call ends (default: a built-in one)
      --sample-rate N     stream rate when the URL has none (8000, 16000, 24000; default 16000)
      --frame-ms N        caller frame length (default 100)
      --param k=v         custom parameter for every call's start event (repeatable)
      --server-pid P[,P]  sample these processes' CPU and RSS from /proc (Linux)
      --json              print the report as JSON
      The URL must be on a loopback host (127.0.0.0/8, ::1, localhost).`;

/** Runs the command; resolves with the exit code (1 when any call failed). */
export async function runLoadCommand(args: string[], print: (s: string) => void): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        calls: { type: 'string' },
        duration: { type: 'string' },
        ramp: { type: 'string', default: '0' },
        phase: { type: 'string', default: '0' },
        scenario: { type: 'string' },
        'sample-rate': { type: 'string' },
        'frame-ms': { type: 'string', default: '100' },
        param: { type: 'string', multiple: true },
        'server-pid': { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new LoadOptionsError((err as Error).message);
  }
  if (!values.url) throw new LoadOptionsError('--url is required');
  if (!values.calls) throw new LoadOptionsError('--calls is required');
  if (!values.duration) throw new LoadOptionsError('--duration is required');
  const params: Record<string, string> = {};
  for (const p of values.param ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new LoadOptionsError(`--param must be key=value, got "${p}"`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const serverPids = (values['server-pid'] ?? [])
    .flatMap((v) => v.split(','))
    .filter((v) => v.trim() !== '')
    .map((v) => num(v, 'server-pid'));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let report: LoadReport;
  try {
    report = await runLoad({
      url: values.url,
      calls: num(values.calls, 'calls'),
      durationMs: num(values.duration, 'duration') * 1000,
      rampMs: num(values.ramp, 'ramp') * 1000,
      phaseMs: num(values.phase, 'phase') * 1000,
      scenario: values.scenario ? await loadScenarioFile(values.scenario) : undefined,
      sampleRate: values['sample-rate'] ? num(values['sample-rate'], 'sample-rate') : undefined,
      frameMs: num(values['frame-ms'], 'frame-ms'),
      customParameters: params,
      serverPids,
      signal: controller.signal,
    });
  } catch (err) {
    if (err instanceof ScenarioError) throw new LoadOptionsError(err.message);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
  print(values.json ? JSON.stringify(report, null, 2) : formatLoadReport(report));
  return report.calls.failed === 0 && report.playback.invalidFrames === 0 ? 0 : 1;
}

function num(v: string, name: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new LoadOptionsError(`--${name} must be a number`);
  return n;
}
