/**
 * Test fakes at the real boundaries. `FakeOpenAI` is an HTTP server speaking OpenAI's wire
 * format (speech, transcriptions, chat completions) that checks every request against the
 * published OpenAPI spec.
 */
export { FakeOpenAI, type FakeOpenAIOptions } from './fake-openai.js';
export type {
  AudioBehaviour,
  ChatBehaviour,
  ChatRequest,
  Endpoint,
  EndpointControl,
  ErrorBehaviour,
  FailureBehaviour,
  HangBehaviour,
  MalformedBehaviour,
  RecordedRequest,
  Scripted,
  SpeechBehaviour,
  SpeechRequest,
  StallBehaviour,
  DropBehaviour,
  ScriptedToolCall,
  StreamBehaviour,
  TextBehaviour,
  TranscriptionBehaviour,
  TranscriptionFields,
  TranscriptionRequest,
} from './behaviours.js';
export { lastUserText, splitTokens } from './chat.js';
export type { UploadedFile } from './multipart.js';
export { OpenApiValidator, type RequestCheck } from './openapi-validator.js';
export { resolveSpecPath } from './openapi-spec.js';
export {
  DEFAULT_SPEECH_MAX_MS,
  DEFAULT_SPEECH_MS_PER_CHAR,
  DEFAULT_SPEECH_TONE_HZ,
  SPEECH_BYTES_PER_MS,
  SPEECH_SAMPLE_RATE_HZ,
  defaultSpeechDurationMs,
  defaultSpeechPcm,
} from './speech.js';
export { wavDurationSeconds } from './transcriptions.js';
