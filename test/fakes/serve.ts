/**
 * Runs the fake OpenAI server on its own, for trying the server by hand and for benchmarks:
 *   npx tsx test/fakes/serve.ts [port]
 * Prints the base URL to pass as OPENAI_BASE_URL.
 */
import { FakeOpenAI } from './fake-openai.js';

const port = Number(process.argv[2] ?? 0);
const fake = await FakeOpenAI.start({ port });
console.log(fake.baseUrl);
const stop = () => void fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
