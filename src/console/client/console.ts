/**
 * Every console page: clicking a turn's time plays the recording from there, and while it
 * plays the turn being heard is marked. (htmx does the live updates.)
 */

export {};

function recording(): HTMLAudioElement | null {
  return document.getElementById('recording') as HTMLAudioElement | null;
}

document.addEventListener('click', (event) => {
  const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-seek]');
  const audio = recording();
  if (!button || !audio) return;
  audio.currentTime = Number(button.dataset.seek);
  void audio.play().catch(() => undefined);
});

/** Marks the conversation entry whose time is the latest at or before the playhead. */
function follow(audio: HTMLAudioElement): void {
  let current: Element | undefined;
  for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-seek]')) {
    if (Number(b.dataset.seek) <= audio.currentTime + 0.05) current = b.closest('li') ?? undefined;
  }
  for (const li of document.querySelectorAll('li.playing')) {
    if (li !== current) li.classList.remove('playing');
  }
  current?.classList.add('playing');
}

const audio = recording();
if (audio) audio.addEventListener('timeupdate', () => follow(audio));
