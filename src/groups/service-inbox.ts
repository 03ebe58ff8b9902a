/**
 * Direct messages to the instance's Service actor: each is a command (`service-commands.service.ts`),
 * answered by direct message from the Service actor. The answer's id derives from the message's Create, so a
 * retried job neither acts nor answers twice.
 */
import type { InboundActivity } from '../activitypub/inbound.parser.ts';
import { str } from '../activitypub/vocab.ts';
import type { Urls } from '../activitypub/urls.ts';
import type { Outcome } from './handlers/handler.ts';
import type { ServiceCommandService } from './service-commands.service.ts';
import type { ServiceMessenger } from './service-messages.ts';

export class ServiceInbox {
  constructor(
    private readonly d: { urls: Urls; commands: ServiceCommandService; messenger: ServiceMessenger },
  ) {}

  /** The outcome of a direct message to the Service actor, or null when `a` is not one. */
  async handle(a: InboundActivity): Promise<Outcome | null> {
    if (a.kind !== 'direct-message') return null;
    const me = this.d.urls.instanceActor();
    const o = a.object;
    const addressed = [...a.to, ...a.cc, ...o.to, ...o.cc, ...o.mentions];
    if (!addressed.includes(me)) return null;
    if (o.attributedTo !== null && o.attributedTo !== a.actor)
      return { applied: false, reason: 'the message to the Service actor is not attributed to its actor' };
    const answer = await this.d.commands.run(a.actor, { html: str(o.raw.content) ?? '', basis: a.id });
    const sent = await this.d.messenger.send(a.actor, answer, { basis: a.id, inReplyTo: o.id });
    // The log line says what is kept of a message with a secret, never the secret.
    const first = (typeof answer === 'string' ? answer : answer.keptText).split('\n')[0] ?? '';
    return sent
      ? { applied: true, what: `command from ${a.actor} to the Service actor answered: ${first}` }
      : { applied: false, reason: `the actor ${a.actor} cannot be had to answer` };
  }
}
