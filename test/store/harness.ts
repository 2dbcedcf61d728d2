/**
 * Runs a store suite on both engines: a real SQLite file in a temp folder, and a real PostgreSQL
 * server (see test/helpers/postgres.ts for how it is found and why it is never skipped silently).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import type { TurnRecord } from '../../src/conversation/turn-record.js';
import { createLogger, type Logger } from '../../src/log.js';
import {
  createCallStore,
  openDatabase,
  type CallStore,
  type Db,
  type Engine,
} from '../../src/store/index.js';
import { SKIP_POSTGRES, freshDatabase } from '../helpers/postgres.js';

export interface TestDatabase {
  /** What to pass to openDatabase. */
  url: string | undefined;
  dataDir: string;
  cleanup(): Promise<void>;
}

export interface TestEngine {
  name: Engine;
  /** A new, empty database of this engine. */
  fresh(): Promise<TestDatabase>;
}

const sqlite: TestEngine = {
  name: 'sqlite',
  async fresh() {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'voicebot-store-'));
    return {
      url: undefined,
      dataDir,
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
};

const postgres: TestEngine = {
  name: 'postgres',
  async fresh() {
    const database = await freshDatabase();
    return { url: database.url, dataDir: os.tmpdir(), cleanup: () => database.drop() };
  },
};

/** `describe.each` over both engines; PostgreSQL is skipped (visibly) only when opted out. */
export function describeEngines(title: string, suite: (engine: TestEngine) => void): void {
  describe.each([sqlite, postgres])(`${title} ($name)`, (engine) => {
    describe.skipIf(engine.name === 'postgres' && SKIP_POSTGRES)('store', () => suite(engine));
  });
}

export interface LogLine {
  level: number;
  msg: string;
  code?: string;
  [key: string]: unknown;
}

/** A real pino logger whose lines are kept for assertions. */
export function captureLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger('info', {
    write: (s: string) => void lines.push(JSON.parse(s) as LogLine),
  });
  return { logger, lines };
}

export const WARN = 40;
export const ERROR = 50;

/** A plausible turn: times are performance.now() readings, as in production. */
export function sampleTurn(index: number, overrides: Partial<TurnRecord> = {}): TurnRecord {
  const t0 = 10_000 + index * 5_000;
  return {
    index,
    source: 'speech',
    userText: `question ${index}`,
    botText: `answer ${index}`,
    heardText: `answer ${index}`,
    interrupted: false,
    fallback: false,
    preemptiveStt: true,
    errors: [],
    toolCalls: [],
    timings: {
      speechStartAt: t0,
      speechEndAt: t0 + 1_200,
      endpointAt: t0 + 1_500,
      sttStartAt: t0 + 1_250,
      sttEndAt: t0 + 1_600,
      llmRequestAt: t0 + 1_600,
      llmFirstTokenAt: t0 + 1_900,
      ttsRequestAt: t0 + 2_000,
      ttsFirstByteAt: t0 + 2_150,
      firstAudioAt: t0 + 2_160,
      replyEndAt: t0 + 4_000,
    },
    ...overrides,
  };
}

/** A fresh database and a store over it for each test of the suite; `ctx.store` is the current one. */
export function useStore(engine: TestEngine): { store: CallStore; db: Db; target: TestDatabase } {
  const ctx = {} as { store: CallStore; db: Db; target: TestDatabase };
  beforeEach(async () => {
    ctx.target = await engine.fresh();
    ctx.db = await openDatabase(ctx.target.url, { dataDir: ctx.target.dataDir });
    ctx.store = createCallStore(ctx.db, { logger: captureLogs().logger });
  });
  afterEach(async () => {
    await ctx.store?.close(2_000);
    await ctx.target?.cleanup();
  });
  return ctx;
}
