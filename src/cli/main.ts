#!/usr/bin/env node
/** The `voicebot` command: `serve` runs the server, `call` simulates an Exotel call, `load` runs many. */
import { parseArgs } from 'node:util';
import { VoicebotError } from '../errors.js';
import { runCall } from './call.js';
import { LOAD_USAGE, runLoadCommand } from './load.js';
import { LoadOptionsError } from '../simulator/load.js';
import { serve } from './serve.js';

const USAGE = `usage:
  voicebot serve                      run the server (configuration from the environment / .env)
  voicebot call --url <ws-url> [options]
      --wav FILE          caller speech to say after the greeting (WAV, 16-bit)
      --out FILE          write the bot's audio to this WAV file
      --param k=v         custom parameter for the start event (repeatable)
      --sample-rate N     stream rate when the URL has none (8000, 16000, 24000; default 16000)
      --frame-ms N        caller frame length (default 100)
      --quiet-ms N        hang up after the bot has been quiet this long (default 3000)
      --max-call-ms N     hard limit on the call (default 60000)
      --json              print the summary as JSON
${LOAD_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') return serve();
  if (command === 'call') {
    const { values } = parseArgs({
      args: rest,
      options: {
        url: { type: 'string' },
        wav: { type: 'string' },
        out: { type: 'string' },
        param: { type: 'string', multiple: true },
        'sample-rate': { type: 'string' },
        'frame-ms': { type: 'string', default: '100' },
        'quiet-ms': { type: 'string', default: '3000' },
        'max-call-ms': { type: 'string', default: '60000' },
        json: { type: 'boolean', default: false },
      },
    });
    if (!values.url) throw new UsageError('--url is required');
    const params: Record<string, string> = {};
    for (const p of values.param ?? []) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new UsageError(`--param must be key=value, got "${p}"`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    }
    const summary = await runCall(
      {
        url: values.url,
        wav: values.wav,
        out: values.out,
        params,
        sampleRate: values['sample-rate'] ? num(values['sample-rate'], 'sample-rate') : undefined,
        frameMs: num(values['frame-ms'], 'frame-ms'),
        greetingTimeoutMs: 15_000,
        quietMs: num(values['quiet-ms'], 'quiet-ms'),
        maxCallMs: num(values['max-call-ms'], 'max-call-ms'),
        json: values.json,
      },
      (s) => console.log(s),
    );
    return summary.framesReceived > 0 ? 0 : 1;
  }
  if (command === 'load') {
    try {
      return await runLoadCommand(rest, (s) => console.log(s));
    } catch (err) {
      if (err instanceof LoadOptionsError) throw new UsageError(err.message);
      throw err;
    }
  }
  throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
}

class UsageError extends Error {}

function num(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`);
    else if (err instanceof VoicebotError) console.error(`voicebot: ${err.message}`);
    else console.error(err);
    process.exitCode = 1;
  },
);
