/**
 * A one-shot `captioner` command (synth, train, batch, ...) runs only the
 * tasks it queued and then exits: it is no worker others can hand work to.
 * Its tasks' owner name says so (`captioner synth`), so the store's list of
 * workers can tell it from the app, serve mode and `captioner worker`.
 */
const PREFIX = 'captioner ';

/** The owner name of a one-shot command's tasks. */
export function oneShotOwnerName(command: string): string {
  return `${PREFIX}${command}`;
}

/** Whether an owner name is a one-shot command's (a `captioner worker` is named by `--name` or `worker-<pid>`). */
export function isOneShotOwnerName(name: string): boolean {
  return name.startsWith(PREFIX) && name.length > PREFIX.length && name !== oneShotOwnerName('worker') && name !== oneShotOwnerName('serve');
}
