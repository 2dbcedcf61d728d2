/**
 * What reading numbers costs on the latency path: µs per sentence for `speakNumbers`, on LLM-like
 * sentences with numbers (amounts, phones, dates, times, percentages) and without (the common
 * case, which returns at the first check). `npm run bench:numbers`.
 */
import { speakNumbers, type NumberStyle } from '../src/speech/numbers.js';

const WITH_NUMBERS = [
  'Aapka loan ₹2.5 lakh ka hai, 12% interest par, 24 mahine ke liye.',
  'Your balance is ₹5,000 and your EMI of ₹1,250 is due on 05/12/2026.',
  'Mujhe 98765 43210 par call karein, 10 baje ke baad.',
  'Aapka OTP 482913 hai, 10 minute mein expire hoga.',
  'Office 9:30 AM se 6:30 PM tak khula hai.',
  'Please call 1800-123-4567 between 9 AM and 6 PM.',
  'Total ₹12,34,567 due hain, account number 1234 5678 9012 par.',
  'Aapka appointment 5th Dec ko 4:30 PM par hai.',
];
const WITHOUT = [
  'Namaste! Main Priya, Sahyog Bank se. Home loan ke baare mein kaise madad kar sakti hoon?',
  'Ji bilkul, main aapki madad kar sakti hoon.',
  'Kya aap apna naam bata sakte hain?',
  'Dhanyavaad, aapka din shubh ho.',
];

function measure(sentences: string[], style: NumberStyle, rounds: number): number {
  for (let i = 0; i < 200; i++) for (const s of sentences) speakNumbers(s, style);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const s of sentences) speakNumbers(s, style);
  return Number(process.hrtime.bigint() - t0) / 1000 / (rounds * sentences.length);
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 2000);
const rows: Array<Record<string, string>> = [];
for (const style of ['english', 'hindi'] as const) {
  rows.push({
    style,
    'with numbers (µs/sentence)': measure(WITH_NUMBERS, style, rounds).toFixed(1),
    'without (µs/sentence)': measure(WITHOUT, style, rounds * 10).toFixed(2),
  });
}
console.table(rows);
