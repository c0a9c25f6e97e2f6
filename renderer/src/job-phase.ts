/** Phase ids jobs report (core's names) in the words the job card shows. */
const PHASE_WORDS: Record<string, string> = {
  'backing-up': 'backing up',
  mark: 'marking chunks in use',
  sweep: 'removing unused chunks',
  scanning: 'scanning',
  finishing: 'finishing',
  starting: 'starting',
};

/** A phase as words: known ids translated, any other id's hyphens read as spaces ("restoring 1 of 3" stays). */
export function phaseText(phase: string): string {
  return PHASE_WORDS[phase] ?? phase.replace(/-/g, ' ');
}
