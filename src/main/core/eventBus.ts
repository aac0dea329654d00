/** Typed fan-out of contract events to whichever transports are attached. */
import type { EventName, EventPayload } from '../../shared/contract';

type Listener = (event: EventName, payload: unknown) => void;

export class EventBus {
  private readonly listeners = new Set<Listener>();

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch {
        // A broken transport must not stop delivery to the others.
      }
    }
  }

  /** Receives every event; returns the function that detaches it. */
  attach(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
